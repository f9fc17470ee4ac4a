"""The store's part for evaluations and improvement ideas (KVP). Speaks SQL; nothing else
outside the store modules does.

Privacy by construction: while an evaluation is open the database knows which poll event
is in which room (to count it at the close); at the close those rows are deleted in the
same transaction that stores the counts, so afterwards nothing links an answer to a person
or a direct chat.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select

from zukunftstische.store.tables import Evaluation, EvaluationPoll, EvaluationResult, Idea, Theme
from zukunftstische.store.themes import Store, record_history, utc

OPEN_STATES = ("starting", "open", "closing")


class EvaluationRunning(ValueError):
    """The theme has an evaluation that is not closed yet."""


@dataclass(frozen=True)
class ResultRow:
    question_key: str
    answer_id: str | None  # None: the voters of the question
    count: int
    spoiled: int = 0


class EvaluationStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    # Evaluations ----------------------------------------------------------------------

    def create(
        self,
        *,
        theme_id: int,
        mode: str,
        room_id: str,
        questionnaire_json: str,
        min_answers: int,
        started_by: str,
        now: datetime,
        closes_at: datetime,
    ) -> Evaluation:
        with self._store.session() as session:
            running = session.exec(
                select(Evaluation).where(
                    Evaluation.theme_id == theme_id,
                    Evaluation.status.in_(OPEN_STATES),  # type: ignore[attr-defined]
                )
            ).first()
            if running is not None:
                raise EvaluationRunning(theme_id)
            evaluation = Evaluation(
                theme_id=theme_id,
                mode=mode,
                room_id=room_id,
                questionnaire_json=questionnaire_json,
                min_answers=min_answers,
                opened_at=utc(now),
                closes_at=utc(closes_at),
            )
            session.add(evaluation)
            # Who started it goes to the theme's history, not next to the answers.
            record_history(session, theme_id, started_by, now, "evaluation_started", mode=mode)
            session.commit()
            return evaluation

    def with_status(self, *statuses: str) -> list[Evaluation]:
        with self._store.session() as session:
            query = select(Evaluation).where(Evaluation.status.in_(statuses))  # type: ignore[attr-defined]
            return list(session.exec(query.order_by(Evaluation.id)))

    def for_theme(self, theme_id: int) -> list[Evaluation]:
        """Newest first."""
        with self._store.session() as session:
            query = select(Evaluation).where(Evaluation.theme_id == theme_id)
            return list(session.exec(query.order_by(Evaluation.id.desc())))  # type: ignore[union-attr]

    def update(self, evaluation_id: int, **values: object) -> None:
        with self._store.session() as session:
            evaluation = session.get(Evaluation, evaluation_id)
            if evaluation is None:
                return
            for name, value in values.items():
                setattr(evaluation, name, value)
            session.add(evaluation)
            session.commit()

    def request_close(self, theme_id: int) -> Evaluation | None:
        """Mark the theme's open evaluation for closing; None when none is open."""
        with self._store.session() as session:
            evaluation = session.exec(
                select(Evaluation).where(
                    Evaluation.theme_id == theme_id,
                    Evaluation.status.in_(("starting", "open")),  # type: ignore[attr-defined]
                )
            ).first()
            if evaluation is None:
                return None
            evaluation.status = "closing"
            session.add(evaluation)
            session.commit()
            return evaluation

    # Polls while open -------------------------------------------------------------------

    def add_poll(self, evaluation_id: int, question_key: str, room_id: str, event_id: str) -> None:
        with self._store.session() as session:
            session.add(
                EvaluationPoll(
                    evaluation_id=evaluation_id,
                    question_key=question_key,
                    room_id=room_id,
                    start_event_id=event_id,
                )
            )
            session.commit()

    def polls(self, evaluation_id: int) -> list[EvaluationPoll]:
        with self._store.session() as session:
            query = select(EvaluationPoll).where(EvaluationPoll.evaluation_id == evaluation_id)
            return list(session.exec(query.order_by(EvaluationPoll.id)))

    def close(self, evaluation_id: int, results: Sequence[ResultRow], now: datetime) -> None:
        """Store the counts and forget which poll was in which room, in one transaction."""
        with self._store.session() as session:
            session.execute(
                sa.delete(EvaluationPoll).where(EvaluationPoll.evaluation_id == evaluation_id)
            )
            for row in results:
                session.add(
                    EvaluationResult(
                        evaluation_id=evaluation_id,
                        question_key=row.question_key,
                        answer_id=row.answer_id,
                        count=row.count,
                        spoiled=row.spoiled,
                    )
                )
            evaluation = session.get(Evaluation, evaluation_id)
            assert evaluation is not None
            evaluation.status = "closed"
            evaluation.closed_at = utc(now)
            session.add(evaluation)
            session.commit()

    def results(self, evaluation_id: int) -> list[ResultRow]:
        with self._store.session() as session:
            rows = session.exec(
                select(EvaluationResult).where(EvaluationResult.evaluation_id == evaluation_id)
            )
            return [ResultRow(r.question_key, r.answer_id, r.count, r.spoiled) for r in rows]

    def closed(self) -> list[tuple[Evaluation, str]]:
        """Every closed evaluation with its theme's name, oldest first."""
        with self._store.session() as session:
            rows = session.exec(
                select(Evaluation, Theme.name)
                .join(Theme, Theme.id == Evaluation.theme_id)  # type: ignore[arg-type]
                .where(Evaluation.status == "closed")
                .order_by(Evaluation.closed_at, Evaluation.id)
            )
            return [(evaluation, name) for evaluation, name in rows]

    # Improvement ideas ------------------------------------------------------------------

    def add_idea(self, theme_id: int, text: str, author: str | None, now: datetime) -> Idea:
        with self._store.session() as session:
            idea = Idea(theme_id=theme_id, text=text, author=author, created_at=utc(now))
            session.add(idea)
            session.commit()
            return idea

    def ideas(self, theme_id: int | None = None, status: str | None = "open") -> list[Idea]:
        with self._store.session() as session:
            query = select(Idea)
            if theme_id is not None:
                query = query.where(Idea.theme_id == theme_id)
            if status is not None:
                query = query.where(Idea.status == status)
            return list(session.exec(query.order_by(Idea.id)))

    def idea(self, idea_id: int) -> Idea | None:
        with self._store.session() as session:
            return session.get(Idea, idea_id)

    def decide_idea(
        self, idea_id: int, status: str, *, by: str, reason: str | None, now: datetime
    ) -> None:
        with self._store.session() as session:
            idea = session.get(Idea, idea_id)
            if idea is None:
                return
            idea.status = status
            idea.reason = reason
            idea.decided_by = by
            idea.decided_at = utc(now)
            session.add(idea)
            session.commit()
