"""`!zt kvp <Thema> <Text>` stores an improvement idea; `!zt kvp [Thema]` lists the open
ones; coordinators decide with `!zt kvp übernommen <Nr>` / `!zt kvp verworfen <Nr> [Grund]`.
In a direct chat an idea is stored without its author."""

from __future__ import annotations

from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    check_note,
    find_leading_theme,
    find_theme,
)
from bot.domain.theme_names import first_word
from bot.engines.evaluation import step_completed_note
from bot.rendering import Message

MAX_IDEA_LENGTH = 1000


def _decide(request: Request, services: Services, status: str) -> Message:
    number, reason = first_word(request.args)
    if not (number.isascii() and number.isdigit()) or len(number) > 9:
        raise UserError("idea_number", usage=request.usage)
    idea = services.evaluations.idea(int(number))
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


def _list(services: Services, theme_text: str) -> Message:
    view = find_theme(theme_text, services) if theme_text else None
    ideas = services.evaluations.ideas(view.id if view else None)
    names = services.store.theme_names_by_id({idea.theme_id for idea in ideas})
    rows = [(idea, names.get(idea.theme_id, "")) for idea in ideas]
    return services.renderer.message(
        "ideas", rows=rows, theme=view.theme if view else None, prefix=services.config.bot.prefix
    )


def handle(request: Request, services: Services) -> Message:
    args = request.args.strip()
    view, text = find_leading_theme(args, services)
    if not text.strip():
        return _list(services, args)
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
    return _list(services, "")


COMMAND = Command(
    name="kvp",
    aliases=("idee", "idea"),
    handler=handle,
    usage="kvp <Thema> <Idee> | kvp [Thema] | kvp übernommen <Nr> | kvp verworfen <Nr> [Grund]",
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
            usage="kvp übernommen <Nr>",
            right=Right.coordinators,
        ),
        Command(
            name="verworfen",
            aliases=("abgelehnt", "rejected"),
            handler=reject,
            usage="kvp verworfen <Nr> [Grund]",
            right=Right.coordinators,
        ),
    ),
    bare=Command(name="kvp", aliases=(), handler=list_all, usage="kvp [Thema]", changes=False),
)
