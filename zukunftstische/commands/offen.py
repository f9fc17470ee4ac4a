"""`!zt offen <Thema> <Schritt>`: undo `erledigt` or `überspringen`."""

from __future__ import annotations

from zukunftstische.commands.base import (
    Command,
    Request,
    Services,
    UserError,
    require_marker,
    theme_and_step,
)
from zukunftstische.rendering import Message
from zukunftstische.store.tables import StepState

USAGE = "offen <Thema> <Schritt>"


def handle(request: Request, services: Services) -> Message:
    ref = theme_and_step(request, services, USAGE)
    require_marker(request, services, ref.view)
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
    name="offen", aliases=("reopen",), handler=handle, usage=USAGE, examples=("offen Mobilität 3",)
)
