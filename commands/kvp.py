"""`!zt kvp <Thema> <Text>` stores an improvement idea; `!zt kvp [Thema]` lists the open
ones; coordinators decide with `!zt kvp übernommen <Nr>` / `!zt kvp verworfen <Nr> [Grund]`.
In a direct chat an idea is stored without its author."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    check_note,
)
from bot.domain.themes import ThemeView
from bot.engines.evaluation import step_completed_note
from bot.rendering import Message

MAX_IDEA_LENGTH = 1000


def _decide(request: Request, services: Services, status: str) -> Message:
    number, reason = request.values.number, request.values.text
    assert number is not None
    idea = services.evaluations.idea(number)
    if idea is None:
        raise UserError("unknown_idea", number=number)
    if idea.status != "open":
        raise UserError("idea_decided", number=number)
    services.evaluations.decide_idea(
        idea.id, status, by=request.sender, reason=check_note(reason), now=request.now
    )
    completed = services.evaluations.complete_evaluation_step(
        idea.theme_id, request.now, note=step_completed_note(services.renderer)
    )
    return services.renderer.sentence(
        "evaluation_words", status, number=number, completed=completed
    )


def adopt(request: Request, services: Services) -> Message:
    return _decide(request, services, "adopted")


def reject(request: Request, services: Services) -> Message:
    return _decide(request, services, "rejected")


def _list(services: Services, view: ThemeView | None) -> Message:
    ideas = services.evaluations.ideas(view.id if view else None)
    names = services.store.theme_names_by_id({idea.theme_id for idea in ideas})
    rows = [(idea, names.get(idea.theme_id, "")) for idea in ideas]
    return services.renderer.message(
        "ideas", rows=rows, theme=view.theme if view else None, prefix=services.config.bot.prefix
    )


def handle(request: Request, services: Services) -> Message:
    view, text = request.values.theme, request.values.text
    assert view is not None
    if not text.strip():
        return _list(services, view)
    idea_text = " ".join(text.split())
    if len(idea_text) > MAX_IDEA_LENGTH:
        raise UserError("note_too_long", limit=MAX_IDEA_LENGTH, length=len(idea_text))
    author = None if request.is_direct else request.sender
    idea = services.evaluations.add_idea(view.id, idea_text, author, request.now)
    return services.renderer.sentence(
        "evaluation_words",
        "idea_stored",
        number=idea.id,
        theme=view.theme.name,
        anonymous=not author,
    )


def list_all(request: Request, services: Services) -> Message:
    return _list(services, None)


COMMAND = Command(
    name="kvp",
    aliases=("idee", "idea"),
    handler=handle,
    arguments=(arg.theme(), arg.text("idea", optional=True)),
    examples=(
        "kvp Mobilität Einladungen früher verschicken",
        "kvp",
        "kvp übernommen 3",
        "kvp verworfen 4 passt nicht zum Zeitplan",
    ),
    subcommands=(
        Command(
            name="übernommen",
            aliases=("uebernommen", "adopted"),
            handler=adopt,
            arguments=(arg.number(missing="idea_number"),),
            right=Right.coordinators,
        ),
        Command(
            name="verworfen",
            aliases=("abgelehnt", "rejected"),
            handler=reject,
            arguments=(arg.number(missing="idea_number"), arg.text("reason", optional=True)),
            right=Right.coordinators,
        ),
    ),
    bare=Command(name="kvp", aliases=(), handler=list_all, changes=False),
)
