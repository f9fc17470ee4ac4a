"""`!zt umfrage <Thema> [anonym|raum]` starts the evaluation; `!zt umfrage beenden <Thema>`
closes it. The polls themselves go out from the evaluation engine, not from here."""

from __future__ import annotations

from zukunftstische.commands.base import (
    Command,
    Request,
    Services,
    UserError,
    find_theme,
    require_args,
    require_coordinator,
)
from zukunftstische.domain.theme_names import first_word, fold
from zukunftstische.engines.evaluation import start_evaluation
from zukunftstische.rendering import Message
from zukunftstische.store.evaluations import EvaluationRunning

USAGE = "umfrage <Thema> [anonym|raum] · umfrage beenden <Thema>"
MODES = {"anonym": "anonym", "anonymous": "anonym", "raum": "raum", "room": "raum"}
CLOSE = {"beenden", "schliessen", "close", "end"}


def _close(request: Request, services: Services, theme_text: str) -> Message:
    view = find_theme(theme_text, services)
    evaluation = services.evaluations.request_close(view.id)
    if evaluation is None:
        raise UserError("no_open_evaluation", theme=view.theme.name)
    return services.renderer.sentence("evaluation_words", "closing", theme=view.theme.name)


def _start(request: Request, services: Services, args: str) -> Message:
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
        "evaluation_started", theme=view.theme, evaluation=evaluation, anonym=mode == "anonym"
    )


def handle(request: Request, services: Services) -> Message:
    require_coordinator(request, services)
    args = require_args(request, USAGE)
    word, rest = first_word(args)
    if fold(word) in CLOSE and rest:
        return _close(request, services, rest)
    return _start(request, services, args)


COMMAND = Command(
    name="umfrage",
    aliases=("poll", "evaluation"),
    handler=handle,
    usage="umfrage <Thema> [anonym|raum]",
    examples=("umfrage Mobilität", "umfrage Mobilität raum", "umfrage beenden Mobilität"),
    coordinators_only=True,
)
