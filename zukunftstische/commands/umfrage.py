"""`!zt umfrage <Thema> [anonym|raum]` starts the evaluation; `!zt umfrage beenden <Thema>`
closes it. The polls themselves go out from the evaluation engine, not from here."""

from __future__ import annotations

from zukunftstische.commands.base import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    find_theme,
    require_args,
)
from zukunftstische.domain.theme_names import fold
from zukunftstische.rendering import Message
from zukunftstische.store.evaluations import EvaluationRunning, start_evaluation

MODES = {"anonym": "anonym", "anonymous": "anonym", "raum": "raum", "room": "raum"}


def close(request: Request, services: Services) -> Message:
    view = find_theme(require_args(request), services)
    evaluation = services.evaluations.request_close(view.id)
    if evaluation is None:
        raise UserError("no_open_evaluation", theme=view.theme.name)
    return services.renderer.sentence("evaluation_words", "closing", theme=view.theme.name)


def start(request: Request, services: Services) -> Message:
    args = require_args(request)
    words = args.split()
    mode = services.config.evaluation.mode
    if len(words) > 1 and fold(words[-1]) in MODES:
        mode, args = MODES[fold(words[-1])], " ".join(words[:-1])
    view = find_theme(args, services)
    if view.theme.z2 is None:
        raise UserError("idea_has_no_steps", theme=view.theme.name)
    try:
        evaluation = start_evaluation(
            services.evaluations,
            services.config,
            view,
            mode=mode,
            actor=request.sender,
            now=request.now,
        )
    except LookupError as err:
        raise UserError("no_evaluation_room", theme=view.theme.name) from err
    except EvaluationRunning as err:
        raise UserError("evaluation_running", theme=view.theme.name) from err
    return services.renderer.message(
        "evaluation_started",
        theme=view.theme,
        evaluation=evaluation,
        anonym=mode == "anonym",
        prefix=services.config.bot.prefix,
    )


COMMAND = Command(
    name="umfrage",
    aliases=("poll", "evaluation"),
    handler=start,
    usage="umfrage <Thema> [anonym|raum]",
    right=Right.coordinators,
    examples=("umfrage Mobilität", "umfrage Mobilität raum", "umfrage beenden Mobilität"),
    subcommands=(
        Command(
            name="beenden",
            aliases=("schliessen", "schließen", "close", "end"),
            handler=close,
            usage="umfrage beenden <Thema>",
            right=Right.coordinators,
        ),
    ),
)
