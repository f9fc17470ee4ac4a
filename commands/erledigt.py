"""`!zt erledigt <Thema> <Schritt> [<Schritt> …] [Notiz] [trotzdem]`: one or several steps
are done. A meeting that has not taken place yet is refused unless confirmed with
`trotzdem` (a deadline or a phase may be done early)."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    StepRef,
    UserError,
    check_note,
)
from bot.domain.documents import MAX_PER_STEP, links_in
from bot.domain.evaluation import waits_for_council
from bot.domain.process import StepDefinition, StepKind
from bot.domain.step_states import next_step, theme_progress
from bot.domain.themes import StepState, ThemeView
from bot.rendering import Message


def _refuse_meetings_ahead(
    request: Request, ref: StepRef, definitions: list[StepDefinition]
) -> None:
    """A meeting marked done before its date was most likely meant for another step."""
    view = ref.view
    for definition in definitions:
        step = view.step(definition.key)
        assert step is not None
        if definition.kind == StepKind.meeting and step.due > request.today:
            raise UserError(
                "meeting_ahead",
                theme=view.theme.name,
                step=definition.key,
                label=definition.label,
                day=step.due,
                confirm=f"{request.verb} {view.theme.name} {request.args.strip()} trotzdem",
            )


def handle(request: Request, services: Services) -> Message:
    ref = request.values.step
    view = ref.view
    definitions = [found.definition for found in request.values.steps]
    sure = request.values.has("confirm")
    note = check_note(request.values.text)
    open_ones = []
    already = []
    for definition in definitions:
        step = view.step(definition.key)
        assert step is not None
        if step.state == StepState.done:
            already.append(definition)
            continue
        waiting = waits_for_council(view, definition.key, [d.key for d in open_ones])
        if waiting is not None:
            council = view.template.step(waiting.key)
            assert council is not None
            raise UserError(
                "evaluation_before_council",
                theme=view.theme.name,
                step=definition.key,
                label=definition.label,
                council=waiting.key,
                council_label=council.label,
            )
        open_ones.append(definition)
    if not open_ones:
        raise UserError("already_done", theme=view.theme.name, step=already[0].key)
    if not sure:
        _refuse_meetings_ahead(request, ref, open_ones)
    for definition in open_ones:
        services.store.set_step_state(
            view.id,
            definition.key,
            state=StepState.done,
            actor=request.sender,
            now=request.now,
            note=note,
            action="done",
        )
    kept = _keep_links(request, services, view, open_ones[-1], note)
    changed = services.store.theme_by_id(view.id) or view
    following = next_step(theme_progress(changed.template, changed.steps, request.today))
    return services.renderer.message(
        "step_done",
        theme=changed.theme,
        definition=open_ones[0],
        definitions=open_ones,
        already=already,
        note=note,
        next=following,
        kept=kept,
        kept_on=open_ones[-1],
    )


def _keep_links(
    request: Request,
    services: Services,
    view: ThemeView,
    definition: StepDefinition,
    note: str | None,
) -> list[str]:
    """The links of the note become documents of the (last) step marked: what the step
    produced, for the next step's reminders. Links beyond the step's limit stay note."""
    room = MAX_PER_STEP - len(view.documents_of(definition.key))
    links = links_in(note)[: max(0, room)]
    if not links:
        return []
    pairs = [(link, None) for link in links]
    store = services.store
    store.add_documents(view.id, definition.key, pairs, actor=request.sender, now=request.now)
    return links


COMMAND = Command(
    name="erledigt",
    aliases=("done",),
    handler=handle,
    arguments=(arg.theme(), arg.steps(), arg.text("note", optional=True), arg.CONFIRM),
    right=Right.theme_members,
    examples=(
        "erledigt Mobilität 3 Thesenpapier verschickt",
        "erledigt digitale ethik 1",
        "erledigt Mobilität 1 2",
        "erledigt Mobilität Z2",
    ),
)
