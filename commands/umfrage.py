"""`!zt umfrage <Thema> [intern] [anonym|raum]` starts the participants' evaluation (or,
with `intern`, the internal process evaluation of department, Kernteam and Koordination);
`!zt umfrage beenden <Thema> [intern]` closes it. The polls themselves go out from the
evaluation engine, not from here."""

from __future__ import annotations

from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    find_theme,
    require_args,
)
from bot.domain.theme_names import fold
from bot.rendering import Message
from bot.store.evaluations import (
    INTERNAL_KIND,
    PARTICIPANTS,
    EvaluationRunning,
    start_evaluation,
)

MODES = {"anonym": "anonym", "anonymous": "anonym", "raum": "raum", "room": "raum"}
INTERNAL_WORDS = ("intern", "internal")


def _options(args: str, default_mode: str) -> tuple[str, str, str]:
    """(theme text, kind, mode) from `<Thema> [intern] [anonym|raum]`, the options in any
    order after the theme."""
    words = args.split()
    kind, mode = PARTICIPANTS, default_mode
    while len(words) > 1:
        word = fold(words[-1])
        if word in INTERNAL_WORDS and kind == PARTICIPANTS:
            kind = INTERNAL_KIND
        elif word in MODES:
            mode = MODES[word]
        else:
            break
        words.pop()
    return " ".join(words), kind, mode


def close(request: Request, services: Services) -> Message:
    args, kind, _ = _options(require_args(request), services.config.evaluation.mode)
    view = find_theme(args, services)
    evaluation = services.evaluations.request_close(view.id, kind)
    if evaluation is None:
        raise UserError("no_open_evaluation", theme=view.theme.name, internal=kind == INTERNAL_KIND)
    return services.renderer.sentence("evaluation_words", "closing", theme=view.theme.name)


def start(request: Request, services: Services) -> Message:
    args, kind, mode = _options(require_args(request), services.config.evaluation.mode)
    view = find_theme(args, services)
    if view.theme.z2 is None:
        raise UserError("idea_has_no_steps", theme=view.theme.name)
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
    return services.renderer.message(
        "evaluation_started",
        theme=view.theme,
        evaluation=evaluation,
        anonym=mode == "anonym",
        internal=kind == INTERNAL_KIND,
        prefix=services.config.bot.prefix,
    )


COMMAND = Command(
    name="umfrage",
    aliases=("poll", "evaluation"),
    handler=start,
    usage="umfrage <Thema> [intern] [anonym|raum]",
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
            usage="umfrage beenden <Thema> [intern]",
            right=Right.coordinators,
        ),
    ),
)
