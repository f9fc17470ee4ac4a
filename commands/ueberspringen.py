"""`!zt überspringen <Thema> <Schritt> [Grund]`: skip a step.

The optional step (3a) may be skipped by anyone who may mark; any other step only by a
coordinator, and only with a reason, so the history says why.
"""

from __future__ import annotations

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    check_note,
    require_coordinator,
)
from bot.domain.themes import StepState
from bot.rendering import Message


def handle(request: Request, services: Services) -> Message:
    ref = request.values.step
    # The process's own rule on top of the declared right: an optional step may be skipped
    # by anyone who may mark it; any other step only by a coordinator, with a reason.
    if not ref.definition.optional:
        require_coordinator(request, services)
        if not request.values.text:
            raise UserError("skip_needs_reason", step=ref.step.key, usage=request.usage)
    if ref.step.state == StepState.skipped:
        raise UserError("already_skipped", theme=ref.view.theme.name, step=ref.step.key)
    reason = check_note(request.values.text)
    services.store.set_step_state(
        ref.view.id,
        ref.step.key,
        state=StepState.skipped,
        actor=request.sender,
        now=request.now,
        note=reason,
        action="skipped",
    )
    return services.renderer.sentence(
        "changes", "skipped", theme=ref.view.theme.name, step=ref.definition, reason=reason
    )


COMMAND = Command(
    name="überspringen",
    aliases=("ueberspringen", "skip"),
    handler=handle,
    arguments=(arg.theme(), arg.step(), arg.text("reason", optional=True)),
    right=Right.theme_members,
    examples=("überspringen Mobilität 3a", "überspringen Mobilität 2 Expertise liegt schon vor"),
)
