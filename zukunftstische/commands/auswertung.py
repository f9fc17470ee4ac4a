"""`!zt auswertung [Thema]`: a theme's evaluation results, or every evaluated theme side by
side, so the coordination office sees whether the process gets better."""

from __future__ import annotations

from zukunftstische.commands.base import Command, Request, Services, UserError, find_theme
from zukunftstische.rendering import Message
from zukunftstische.store.evaluations import stored_summary


def _overview(services: Services) -> Message:
    columns: list[tuple[str, object]] = []
    questions: dict[str, str] = {}
    for evaluation, name in services.evaluations.closed():
        summary = stored_summary(services.evaluations, evaluation)
        columns.append((name, summary))
        for question in summary.questions:
            questions.setdefault(question.key, question.text)
    return services.renderer.message("evaluation_overview", columns=columns, questions=questions)


def handle(request: Request, services: Services) -> Message:
    if not request.args.strip():
        return _overview(services)
    view = find_theme(request.args, services)
    closed = [e for e in services.evaluations.for_theme(view.id) if e.status == "closed"]
    if not closed:
        running = services.evaluations.for_theme(view.id)
        raise UserError("no_results", theme=view.theme.name, running=bool(running))
    evaluation = closed[0]
    summary = stored_summary(services.evaluations, evaluation)
    return services.renderer.message(
        "evaluation_summary",
        theme=view.theme,
        summary=summary,
        participants=evaluation.participants,
        anonym=evaluation.mode == "anonym",
        prefix=services.config.bot.prefix,
    )


COMMAND = Command(
    name="auswertung",
    changes=False,
    aliases=("results",),
    handler=handle,
    usage="auswertung [Thema]",
    examples=("auswertung Mobilität", "auswertung"),
)
