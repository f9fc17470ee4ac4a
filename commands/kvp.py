"""`!zt kvp <Thema> <Text>` stores an improvement idea; `!zt kvp [Thema]` lists the open
ones and the adopted ones not yet in practice; coordinators decide with `!zt kvp
übernommen <Nr> [@person] [bis <Datum>]` (the person is reminded on that day) / `!zt kvp
verworfen <Nr> [Grund]`, and close an adopted one with `!zt kvp umgesetzt <Nr>`.
In a direct chat an idea is stored without its author."""

from __future__ import annotations

from datetime import date

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    check_note,
    parse_day,
    user_ids,
)
from bot.domain.idea_follow_up import split_until
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


def _idea_number(request: Request) -> tuple[int, str]:
    """The idea's number and what follows it (declared: the router has read them)."""
    number = request.values.number
    assert number is not None
    return number, request.values.text


def _follow_up(request: Request, rest: str) -> tuple[str | None, date | None]:
    """`[@person] [bis <Datum>]`: who puts the idea into practice, and by when."""
    people_text, day_text = split_until(rest)
    day = parse_day(day_text, request.usage) if day_text else None
    if day is not None and day < request.today:
        raise UserError("follow_up_past", day=day, usage=request.usage)
    people = user_ids(people_text, request.mentions) if people_text or request.mentions else []
    if len(people) > 1:
        raise UserError("follow_up_words", text=people_text, usage=request.usage)
    return (people[0] if people else None), day


def adopt(request: Request, services: Services) -> Message:
    """Adopted: with an owner and a day, the owner is reminded on it. An adopted idea
    not yet in practice may be adopted again to change them."""
    number, rest = _idea_number(request)
    idea = services.evaluations.idea(number)
    if idea is None:
        raise UserError("unknown_idea", number=number)
    if idea.status == "rejected" or idea.implemented_at is not None:
        raise UserError("idea_decided", number=number)
    owner, day = _follow_up(request, rest)
    if idea.status == "adopted":  # asked again: what is not said again stays
        owner, day = owner or idea.owner, day or idea.follow_up
    services.evaluations.decide_idea(
        idea.id,
        "adopted",
        by=request.sender,
        reason=None,
        now=request.now,
        owner=owner,
        follow_up=day,
    )
    completed = services.evaluations.complete_evaluation_step(
        idea.theme_id, request.now, note=step_completed_note(services.renderer)
    )
    return services.renderer.sentence(
        "evaluation_words",
        "adopted",
        number=number,
        owner=owner,
        day=day,
        completed=completed,
        prefix=services.config.bot.prefix,
    )


def implemented(request: Request, services: Services) -> Message:
    number, _ = _idea_number(request)
    idea = services.evaluations.idea(number)
    if idea is None:
        raise UserError("unknown_idea", number=number)
    if idea.status != "adopted":
        raise UserError("idea_not_adopted", number=number, status=idea.status)
    if idea.implemented_at is not None:
        raise UserError("idea_implemented", number=number)
    services.evaluations.implement_idea(idea.id, by=request.sender, now=request.now)
    return services.renderer.sentence(
        "evaluation_words", "implemented", number=number, reminded=idea.follow_up is not None
    )


def reject(request: Request, services: Services) -> Message:
    return _decide(request, services, "rejected")


def _list(request: Request, services: Services, view: ThemeView | None) -> Message:
    ideas = services.evaluations.ideas(view.id if view else None)
    adopted = services.evaluations.adopted_open(view.id if view else None)
    names = services.store.theme_names_by_id({idea.theme_id for idea in [*ideas, *adopted]})
    rows = [(idea, names.get(idea.theme_id, "")) for idea in ideas]
    return services.renderer.message(
        "ideas",
        rows=rows,
        adopted=[(idea, names.get(idea.theme_id, "")) for idea in adopted],
        today=request.today,
        theme=view.theme if view else None,
        prefix=services.config.bot.prefix,
    )


def handle(request: Request, services: Services) -> Message:
    view, text = request.values.theme, request.values.text
    assert view is not None
    if not text.strip():
        return _list(request, services, view)
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
    return _list(request, services, None)


COMMAND = Command(
    name="kvp",
    aliases=("idee", "idea"),
    handler=handle,
    arguments=(arg.theme(), arg.text("idea", optional=True)),
    examples=(
        "kvp Mobilität Einladungen früher verschicken",
        "kvp",
        "kvp übernommen 3 @anna:stadt.de bis 01.06.2027",
        "kvp umgesetzt 3",
        "kvp verworfen 4 passt nicht zum Zeitplan",
    ),
    subcommands=(
        Command(
            name="übernommen",
            aliases=("uebernommen", "adopted"),
            handler=adopt,
            arguments=(
                arg.number(missing="idea_number"),
                arg.text("follow_up", optional=True),
            ),
            right=Right.coordinators,
        ),
        Command(
            name="umgesetzt",
            aliases=("implemented", "done"),
            handler=implemented,
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
