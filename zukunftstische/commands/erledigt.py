"""`!zt erledigt <Thema> <Schritt> [Notiz]`: a step is done."""

from __future__ import annotations

from zukunftstische.commands.base import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    check_note,
    theme_and_step,
)
from zukunftstische.domain.step_states import next_step, theme_progress
from zukunftstische.domain.themes import StepState
from zukunftstische.rendering import Message


def handle(request: Request, services: Services) -> Message:
    ref = theme_and_step(request)
    if ref.step.state == StepState.done:
        raise UserError("already_done", theme=ref.view.theme.name, step=ref.step.key)
    note = check_note(ref.rest)
    services.store.set_step_state(
        ref.view.id,
        ref.step.key,
        state=StepState.done,
        actor=request.sender,
        now=request.now,
        note=note,
        action="done",
    )
    view = services.store.theme_by_id(ref.view.id) or ref.view
    following = next_step(theme_progress(view.template, view.steps, request.today))
    return services.renderer.message(
        "step_done", theme=view.theme, definition=ref.definition, note=note, next=following
    )


COMMAND = Command(
    name="erledigt",
    aliases=("done",),
    handler=handle,
    usage="erledigt <Thema> <Schritt> [Notiz]",
    right=Right.theme_members,
    examples=("erledigt Mobilität 3 Thesenpapier verschickt", "erledigt digitale ethik 1"),
)
