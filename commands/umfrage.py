"""`!zt umfrage <Thema> [intern] [anonym|raum] [trotzdem]` starts the participants'
evaluation (or, with `intern`, the internal process evaluation of department, Kernteam
and Koordination); `!zt umfrage beenden <Thema> [intern]` closes it. The polls themselves
go out from the evaluation engine, not from here.

The participants are the members of the theme's Z2 room and the people a coordinator
named (`!zt teilnehmende`); without either nobody is asked. Before Z2 has taken place
the start is refused unless confirmed with `trotzdem`."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
)
from bot.domain.evaluation import (
    INTERNAL_KIND,
    PARTICIPANTS,
    Audience,
    askable,
    participants_audience,
    z2_taken_place,
)
from bot.domain.themes import ThemeView
from bot.engines.evaluation import start_evaluation
from bot.rendering import Message
from bot.store.evaluations import EvaluationRunning

MODES = {"anonym": "anonym", "anonymous": "anonym", "raum": "raum", "room": "raum"}
INTERNAL_WORDS = ("intern", "internal")
INTERNAL = arg.word("internal", dict.fromkeys(INTERNAL_WORDS, INTERNAL_KIND))


def close(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    kind = request.values.words.get("internal", PARTICIPANTS)
    evaluation = services.evaluations.request_close(view.id, kind)
    if evaluation is None:
        raise UserError("no_open_evaluation", theme=view.theme.name, internal=kind == INTERNAL_KIND)
    return services.renderer.sentence("evaluation_words", "closing", theme=view.theme.name)


def _check_participants(
    request: Request, services: Services, view: ThemeView, mode: str, sure: bool
) -> Audience:
    """The participants to ask, or a refusal that says what is missing."""
    audience = participants_audience(view, services.store.participants(view.id))
    name = view.theme.name
    if audience.empty:
        raise UserError("no_participants", theme=name)
    if mode == "raum" and audience.room is None:
        raise UserError("room_mode_without_z2_room", theme=name)
    if not sure and not z2_taken_place(view, request.today):
        assert view.theme.z2 is not None
        raise UserError(
            "evaluation_before_z2",
            theme=name,
            z2=view.theme.z2,
            confirm=f"{request.verb} {request.args.strip()} trotzdem",
        )
    return audience


def _asked(services: Services, audience: Audience, mode: str) -> int:
    """How many people get direct chats: in a room poll only the named ones not in it."""
    config = services.config
    members = services.rooms.room_members(audience.room) if audience.room else ()
    people = [*audience.named] if mode == "raum" else [*members, *audience.named]
    found = askable(people, ignored=config.evaluation.ignore_users, bot=config.matrix.user_id)
    return len([p for p in found if mode != "raum" or p not in members])


def start(request: Request, services: Services) -> Message:
    view, words = request.values.theme, request.values.words
    assert view is not None
    sure = "confirm" in words
    kind = words.get("internal", PARTICIPANTS)
    mode = words.get("mode", services.config.evaluation.mode)
    if view.theme.z2 is None:
        raise UserError("idea_has_no_steps", theme=view.theme.name)
    audience = None
    if kind != INTERNAL_KIND:
        audience = _check_participants(request, services, view, mode, sure)
    try:
        evaluation = start_evaluation(
            services.evaluations,
            services.config,
            view,
            mode=mode,
            kind=kind,
            actor=request.sender,
            now=request.now,
        )
    except LookupError as err:
        raise UserError("no_evaluation_room", theme=view.theme.name) from err
    except EvaluationRunning as err:
        raise UserError(
            "evaluation_running", theme=view.theme.name, internal=kind == INTERNAL_KIND
        ) from err
    room = audience.room if audience is not None else evaluation.room_id
    return services.renderer.message(
        "evaluation_started",
        theme=view.theme,
        evaluation=evaluation,
        anonym=mode == "anonym",
        internal=kind == INTERNAL_KIND,
        room=room,
        room_name=services.rooms.room_name(room) if room else None,
        asked=_asked(services, audience, mode) if audience is not None else None,
        theme_named=bool(audience.named) if audience is not None else False,
        prefix=services.config.bot.prefix,
    )


COMMAND = Command(
    name="umfrage",
    aliases=("poll", "evaluation"),
    handler=start,
    arguments=(arg.theme(), INTERNAL, arg.word("mode", MODES), arg.CONFIRM),
    right=Right.coordinators,
    examples=(
        "umfrage Mobilität",
        "umfrage Mobilität raum",
        "umfrage Mobilität intern",
        "umfrage beenden Mobilität",
    ),
    subcommands=(
        Command(
            name="beenden",
            aliases=("schliessen", "schließen", "close", "end"),
            handler=close,
            arguments=(arg.theme(), INTERNAL),
            right=Right.coordinators,
        ),
    ),
)
