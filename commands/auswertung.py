"""`!zt auswertung [Thema]`: a theme's evaluation results, or every evaluated theme side by
side, so the coordination office sees whether the process gets better."""

from __future__ import annotations

from bot import arguments as arg
from bot.charts.results import (
    comparison_data,
    draw_comparison,
    draw_results,
    results_data,
)
from bot.command import Command, Request, Services, UserError
from bot.domain.evaluation import INTERNAL_KIND, PARTICIPANTS
from bot.domain.polls import Summary, comparable_summary
from bot.pictures import chart_words, picture, slug
from bot.rendering import Message
from bot.store.evaluations import stored_open_answers, stored_summary

INTERNAL_WORDS = ("intern", "internal")


def _overview(services: Services) -> Message:
    columns: list[tuple[str, Summary]] = []
    questions: dict[str, str] = {}
    # Compared by the current questionnaire's keys: a question of an older version that
    # asked the same thing (its `previous_keys`) shares the row, with today's text.
    current = services.config.evaluation.questionnaire_for(PARTICIPANTS)
    for question in current.polls:
        questions[question.key] = question.text
    for evaluation, name in services.evaluations.closed():
        if evaluation.kind != PARTICIPANTS:
            continue
        summary = comparable_summary(current, stored_summary(services.evaluations, evaluation))
        columns.append((name, summary))
        for question in summary.questions:
            questions.setdefault(question.key, question.text)
    questions = {
        key: text
        for key, text in questions.items()
        if any(summary.question(key) for _, summary in columns)
    }
    reply = services.renderer.message(
        "evaluation_overview",
        columns=columns,
        questions=questions,
        prefix=services.config.bot.prefix,
    )
    if not columns:
        return reply
    data = comparison_data(columns, services.config.evaluation.min_answers, chart_words(services))
    return reply.with_attachment(
        picture(services, draw_comparison, data, filename="auswertung-vergleich.png")
    )


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    if view is None:
        return _overview(services)
    kind = request.values.words.get("internal", PARTICIPANTS)
    closed = [
        e
        for e in services.evaluations.for_theme(view.id)
        if e.status == "closed" and e.kind == kind
    ]
    if not closed:
        running = services.evaluations.for_theme(view.id)
        raise UserError("no_results", theme=view.theme.name, running=bool(running))
    evaluation = closed[0]
    summary = stored_summary(services.evaluations, evaluation)
    reply = services.renderer.message(
        "evaluation_summary",
        theme=view.theme,
        summary=summary,
        participants=evaluation.participants,
        anonym=evaluation.mode == "anonym",
        internal=evaluation.kind == INTERNAL_KIND,
        open_answers=stored_open_answers(services.evaluations, evaluation),
        prefix=services.config.bot.prefix,
    )
    data = results_data(view.theme.name, summary, chart_words(services))
    filename = f"auswertung-{slug(view.theme.name)}.png"
    return reply.with_attachment(picture(services, draw_results, data, filename=filename))


COMMAND = Command(
    name="auswertung",
    changes=False,
    aliases=("results",),
    handler=handle,
    arguments=(
        arg.theme(optional=True),
        arg.word("internal", dict.fromkeys(INTERNAL_WORDS, INTERNAL_KIND)),
    ),
    examples=("auswertung Mobilität", "auswertung Mobilität intern", "auswertung"),
)
