"""The year report's data from the database: themes (archived ones too), closed
evaluations with their counts and open answers, and the KVP ideas; the report itself is
built by the pure `domain.year_report`."""

from __future__ import annotations

from datetime import date

from bot.config import Config
from bot.domain.evaluation import INTERNAL_KIND, PARTICIPANTS
from bot.domain.year_report import (
    EvaluationInput,
    IdeaInput,
    YearReport,
    build_year_report,
)
from bot.store.evaluations import (
    EvaluationStore,
    stored_open_answers,
    stored_summary,
)
from bot.store.themes import Store


def load_year_report(store: Store, config: Config, year: int, today: date) -> YearReport:
    evaluations = EvaluationStore(store)
    views = [
        view
        for view in store.themes_of_year(year)
        if view.theme.z2 is not None and view.theme.z2.year == year
    ]
    ids = {view.id for view in views}
    closed = [
        EvaluationInput(
            theme_id=evaluation.theme_id,
            kind=evaluation.kind,
            summary=stored_summary(evaluations, evaluation),
            open_answers=stored_open_answers(evaluations, evaluation),
            participants=evaluation.participants,
            anonym=evaluation.mode == "anonym",
        )
        for evaluation, _ in evaluations.closed()  # oldest first: the newest counts
        if evaluation.theme_id in ids
    ]
    ideas = [
        IdeaInput(
            idea.theme_id,
            idea.text,
            idea.status,
            idea.reason,
            owner=idea.owner,
            follow_up=idea.follow_up,
            implemented=idea.implemented_at is not None,
        )
        for idea in evaluations.ideas(status=None)
        if idea.theme_id in ids
    ]
    questionnaires = {
        PARTICIPANTS: config.evaluation.questionnaire_for(PARTICIPANTS),
        INTERNAL_KIND: config.evaluation.questionnaire_for(INTERNAL_KIND),
    }
    return build_year_report(
        year,
        views,
        closed,
        ideas,
        today=today,
        min_answers=config.evaluation.min_answers,
        questionnaires=questionnaires,
    )
