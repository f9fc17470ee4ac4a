"""`!zt offen <Thema> <Schritt>`: undo `erledigt` or `überspringen`."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
)
from bot.domain.themes import StepState
from bot.rendering import Message


def handle(request: Request, services: Services) -> Message:
    ref = request.values.step
    if ref.step.state == StepState.open:
        raise UserError("already_open", theme=ref.view.theme.name, step=ref.step.key)
    services.store.set_step_state(
        ref.view.id,
        ref.step.key,
        state=StepState.open,
        actor=request.sender,
        now=request.now,
        action="reopened",
    )
    return services.renderer.sentence(
        "changes", "reopened", theme=ref.view.theme.name, step=ref.definition
    )


COMMAND = Command(
    name="offen",
    aliases=("reopen",),
    handler=handle,
    arguments=(arg.theme(), arg.step()),
    right=Right.theme_members,
    examples=("offen Mobilität 3",),
)
