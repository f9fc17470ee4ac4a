"""The store's part for evaluations and improvement ideas (KVP). Speaks SQL; nothing else
outside the store modules does.

Privacy by construction: while an evaluation is open the database knows which poll event
is in which room (to count it at the close); at the close those rows are deleted in the
same transaction that stores the counts, so afterwards nothing links an answer to a person
or a direct chat.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import select

from bot.domain.evaluation import (
    INTERNAL_KIND,
    PARTICIPANTS,
    EvaluationRecord,
    OpenAnswers,
    PollRecord,
    evaluation_step,
    evaluation_step_complete,
    open_answers,
)
from bot.domain.idea_follow_up import FollowUp
from bot.domain.polls import Summary, Tally, summarise
from bot.domain.questionnaire import Questionnaire
from bot.domain.themes import StepState, ThemeStatus, ThemeView
from bot.store.database import utc
from bot.store.tables import (
    Evaluation,
    EvaluationOffer,
    EvaluationOpenAnswer,
    EvaluationOpenPrompt,
    EvaluationPoll,
    EvaluationResult,
    Idea,
    Step,
    Theme,
)
from bot.store.theme_records import record_history
from bot.store.themes import Store

OPEN_STATES = ("starting", "open", "closing")
KINDS = (PARTICIPANTS, INTERNAL_KIND)
# The longest open answer kept (a Matrix message may be much longer).
MAX_OPEN_ANSWER = 1000


class EvaluationRunning(ValueError):
    """The theme has an evaluation that is not closed yet."""


@dataclass(frozen=True)
class ResultRow:
    question_key: str
    answer_id: str | None  # None: the voters of the question
    count: int
    spoiled: int = 0


def _record(row: Evaluation) -> EvaluationRecord:
    assert row.id is not None
    return EvaluationRecord(**{name: getattr(row, name) for name in _RECORD_FIELDS})


def _poll(row: EvaluationPoll) -> PollRecord:
    return PollRecord(row.evaluation_id, row.question_key, row.room_id, row.start_event_id)


_RECORD_FIELDS = tuple(field.name for field in fields(EvaluationRecord))


class EvaluationStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    # Evaluations ----------------------------------------------------------------------

    def create(
        self,
        *,
        theme_id: int,
        mode: str,
        room_id: str | None,
        questionnaire_json: str,
        min_answers: int,
        started_by: str,
        now: datetime,
        closes_at: datetime,
        kind: str = PARTICIPANTS,
        auto_started: bool = False,
    ) -> EvaluationRecord:
        with self._store.session() as session:
            running = session.exec(
                select(Evaluation).where(
                    Evaluation.theme_id == theme_id,
                    Evaluation.kind == kind,
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
                kind=kind,
                auto_started=auto_started,
            )
            session.add(evaluation)
            # Who started it goes to the theme's history, not next to the answers.
            record_history(session, theme_id, started_by, now, "evaluation_started", mode=mode)
            session.commit()
            return _record(evaluation)

    def with_status(self, *statuses: str) -> list[EvaluationRecord]:
        with self._store.reading() as session:
            query = select(Evaluation).where(Evaluation.status.in_(statuses))  # type: ignore[attr-defined]
            return [_record(row) for row in session.exec(query.order_by(Evaluation.id))]

    def for_theme(self, theme_id: int) -> list[EvaluationRecord]:
        """Newest first."""
        with self._store.reading() as session:
            query = select(Evaluation).where(Evaluation.theme_id == theme_id)
            newest = query.order_by(Evaluation.id.desc())  # type: ignore[union-attr]
            return [_record(row) for row in session.exec(newest)]

    def update(self, evaluation_id: int, **values: object) -> None:
        with self._store.session() as session:
            evaluation = session.get(Evaluation, evaluation_id)
            if evaluation is None:
                return
            for name, value in values.items():
                setattr(evaluation, name, value)
            session.add(evaluation)
            session.commit()

    def set_public(
        self, theme_id: int, evaluation_id: int | None, *, actor: str, now: datetime
    ) -> bool:
        """Publish one closed participants' evaluation of the theme (None: none of them)
        on the public page; the others come off it. False when nothing changed. The
        history says who and when."""
        with self._store.session() as session:
            rows = session.exec(select(Evaluation).where(Evaluation.theme_id == theme_id)).all()
            changed = False
            for row in rows:
                wanted = row.id == evaluation_id
                if row.public != wanted:
                    row.public = wanted
                    session.add(row)
                    changed = True
            if changed:
                record_history(
                    session,
                    theme_id,
                    actor,
                    now,
                    "results_public",
                    public=evaluation_id is not None,
                )
                session.commit()
            return changed

    def published(self, theme_ids: Sequence[int]) -> dict[int, EvaluationRecord]:
        """Per theme the closed participants' evaluation published on the public page."""
        if not theme_ids:
            return {}
        with self._store.reading() as session:
            rows = session.exec(
                select(Evaluation)
                .where(
                    Evaluation.theme_id.in_(theme_ids),  # type: ignore[attr-defined]
                    Evaluation.public == sa.true(),
                    Evaluation.status == "closed",
                    Evaluation.kind == PARTICIPANTS,
                )
                .order_by(Evaluation.id)
            )
            return {row.theme_id: _record(row) for row in rows}

    def mark_open(self, evaluation_id: int) -> None:
        """Its polls are out: open, unless a close was asked for meanwhile (that stays)."""
        with self._store.session() as session:
            evaluation = session.get(Evaluation, evaluation_id)
            if evaluation is not None and evaluation.status == "starting":
                evaluation.status = "open"
                session.add(evaluation)
                session.commit()

    def request_close(self, theme_id: int, kind: str | None = None) -> EvaluationRecord | None:
        """Mark the theme's open evaluation (of `kind`, else the oldest open one) for
        closing; None when none is open."""
        with self._store.session() as session:
            query = select(Evaluation).where(
                Evaluation.theme_id == theme_id,
                Evaluation.status.in_(("starting", "open")),  # type: ignore[attr-defined]
            )
            if kind is not None:
                query = query.where(Evaluation.kind == kind)
            evaluation = session.exec(query.order_by(Evaluation.id)).first()
            if evaluation is None:
                return None
            evaluation.status = "closing"
            session.add(evaluation)
            session.commit()
            return _record(evaluation)

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

    def polls(self, evaluation_id: int) -> list[PollRecord]:
        with self._store.reading() as session:
            query = select(EvaluationPoll).where(EvaluationPoll.evaluation_id == evaluation_id)
            return [_poll(row) for row in session.exec(query.order_by(EvaluationPoll.id))]

    def close(self, evaluation_id: int, results: Sequence[ResultRow], now: datetime) -> None:
        """Store the counts and forget which poll was in which room, in one transaction."""
        self._store.failpoints.hit("evaluation_close")
        with self._store.session() as session:
            session.execute(
                sa.delete(EvaluationPoll).where(EvaluationPoll.evaluation_id == evaluation_id)
            )
            # Open questions still unanswered: no more answers, and no trace of the chat.
            session.execute(
                sa.delete(EvaluationOpenPrompt).where(
                    EvaluationOpenPrompt.evaluation_id == evaluation_id
                )
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
        with self._store.reading() as session:
            rows = session.exec(
                select(EvaluationResult).where(EvaluationResult.evaluation_id == evaluation_id)
            )
            return [ResultRow(r.question_key, r.answer_id, r.count, r.spoiled) for r in rows]

    def closed(self) -> list[tuple[EvaluationRecord, str]]:
        """Every closed evaluation with its theme's name, oldest first."""
        with self._store.reading() as session:
            rows = session.exec(
                select(Evaluation, Theme.name)
                .join(Theme, Theme.id == Evaluation.theme_id)  # type: ignore[arg-type]
                .where(Evaluation.status == "closed")
                .order_by(Evaluation.closed_at, Evaluation.id)
            )
            return [(_record(evaluation), name) for evaluation, name in rows]

    # Open questions answered by a plain reply in the direct chat ---------------------------

    def ask_open(self, evaluation_id: int, room_id: str, question_key: str) -> bool:
        """Note that `room_id` (a direct chat) now awaits an answer to `question_key`;
        False when it awaits one already (or has answered)."""
        with self._store.session() as session:
            known = session.exec(
                select(EvaluationOpenPrompt).where(
                    EvaluationOpenPrompt.evaluation_id == evaluation_id,
                    EvaluationOpenPrompt.room_id == room_id,
                )
            ).first()
            if known is not None:
                return False
            session.add(
                EvaluationOpenPrompt(
                    evaluation_id=evaluation_id, room_id=room_id, question_key=question_key
                )
            )
            session.commit()
            return True

    def pending_open(self, room_id: str) -> tuple[EvaluationRecord, str] | None:
        """The open evaluation and the open question a plain reply in `room_id` answers."""
        with self._store.reading() as session:
            found = session.exec(
                select(Evaluation, EvaluationOpenPrompt.question_key)
                .join(
                    EvaluationOpenPrompt,
                    EvaluationOpenPrompt.evaluation_id == Evaluation.id,  # type: ignore[arg-type]
                )
                .where(
                    EvaluationOpenPrompt.room_id == room_id,
                    Evaluation.status.in_(("starting", "open")),  # type: ignore[attr-defined]
                )
                .order_by(EvaluationOpenPrompt.id)
            ).first()
            return None if found is None else (_record(found[0]), found[1])

    def answer_open(
        self, evaluation_id: int, room_id: str, question_key: str, text: str, next_key: str | None
    ) -> None:
        """Keep the answer without author or chat and move the chat on to the next open
        question (or to none), in one transaction."""
        with self._store.session() as session:
            session.add(
                EvaluationOpenAnswer(
                    evaluation_id=evaluation_id,
                    question_key=question_key,
                    text=text[:MAX_OPEN_ANSWER],
                )
            )
            prompt = session.exec(
                select(EvaluationOpenPrompt).where(
                    EvaluationOpenPrompt.evaluation_id == evaluation_id,
                    EvaluationOpenPrompt.room_id == room_id,
                )
            ).first()
            if prompt is not None:
                if next_key is None:
                    session.delete(prompt)
                else:
                    prompt.question_key = next_key
                    session.add(prompt)
            session.commit()

    def open_answers(self, evaluation_id: int) -> list[tuple[str, str]]:
        """(question key, text) of every open answer, in the order given."""
        with self._store.reading() as session:
            rows = session.exec(
                select(EvaluationOpenAnswer)
                .where(EvaluationOpenAnswer.evaluation_id == evaluation_id)
                .order_by(EvaluationOpenAnswer.id)
            )
            return [(row.question_key, row.text) for row in rows]

    # Offers (sent once) ---------------------------------------------------------------------

    def themes_to_offer(self, kind: str) -> list[ThemeView]:
        """Active themes in progress (a step done or skipped, a step still open: a theme
        with every step done has nothing left to offer in) whose evaluation `kind` was
        neither run nor offered: the only ones an offer can be due for, found by the
        database rather than by a walk over every theme on every tick."""
        not_open = select(Step.theme_id).where(Step.state != StepState.open)
        still_open = select(Step.theme_id).where(Step.state == StepState.open)
        offered = select(EvaluationOffer.theme_id).where(EvaluationOffer.kind == kind)
        asked = select(Evaluation.theme_id).where(Evaluation.kind == kind)
        return self._store.views_where(
            sa.and_(
                Theme.status == ThemeStatus.active,
                Theme.id.in_(not_open),  # type: ignore[union-attr]
                Theme.id.in_(still_open),  # type: ignore[union-attr]
                Theme.id.not_in(offered),  # type: ignore[union-attr]
                Theme.id.not_in(asked),  # type: ignore[union-attr]
            )
        )

    def offer_once(self, theme_id: int, kind: str, now: datetime) -> bool:
        """Record that the evaluation `kind` of the theme was offered; False if it was."""
        with self._store.session() as session:
            known = session.exec(
                select(EvaluationOffer).where(
                    EvaluationOffer.theme_id == theme_id, EvaluationOffer.kind == kind
                )
            ).first()
            if known is not None:
                return False
            session.add(EvaluationOffer(theme_id=theme_id, kind=kind, offered_at=utc(now)))
            session.commit()
            return True

    # Improvement ideas ------------------------------------------------------------------

    def add_idea(self, theme_id: int, text: str, author: str | None, now: datetime) -> Idea:
        with self._store.session() as session:
            idea = Idea(theme_id=theme_id, text=text, author=author, created_at=utc(now))
            session.add(idea)
            session.commit()
            return idea

    def ideas(self, theme_id: int | None = None, status: str | None = "open") -> list[Idea]:
        with self._store.reading() as session:
            query = select(Idea)
            if theme_id is not None:
                query = query.where(Idea.theme_id == theme_id)
            if status is not None:
                query = query.where(Idea.status == status)
            return list(session.exec(query.order_by(Idea.id)))

    def idea(self, idea_id: int) -> Idea | None:
        with self._store.reading() as session:
            return session.get(Idea, idea_id)

    def decide_idea(
        self,
        idea_id: int,
        status: str,
        *,
        by: str,
        reason: str | None,
        now: datetime,
        owner: str | None = None,
        follow_up: date | None = None,
    ) -> None:
        """Adopt or reject; an adopted idea may get an owner and a follow-up day (asked
        again, `kvp übernommen` changes them and keeps the first decision's time)."""
        with self._store.session() as session:
            idea = session.get(Idea, idea_id)
            if idea is None:
                return
            if idea.status != status:
                idea.decided_by = by
                idea.decided_at = utc(now)
            idea.status = status
            if reason is not None or status != "adopted":
                idea.reason = reason
            idea.owner = owner
            idea.follow_up = follow_up
            session.add(idea)
            session.commit()

    def implement_idea(self, idea_id: int, *, by: str, now: datetime) -> None:
        """`kvp umgesetzt`: done; its follow-up reminder is no longer due."""
        with self._store.session() as session:
            idea = session.get(Idea, idea_id)
            if idea is None:
                return
            idea.implemented_at = utc(now)
            idea.implemented_by = by
            session.add(idea)
            session.commit()

    def adopted_open(self, theme_id: int | None = None) -> list[Idea]:
        """Adopted and not yet put into practice, by follow-up day (none last)."""
        with self._store.reading() as session:
            query = select(Idea).where(Idea.status == "adopted", Idea.implemented_at.is_(None))  # type: ignore[union-attr]
            if theme_id is not None:
                query = query.where(Idea.theme_id == theme_id)
            rows = list(session.exec(query.order_by(Idea.id)))
        return sorted(rows, key=lambda idea: (idea.follow_up is None, idea.follow_up, idea.id))

    def follow_ups(self, until: date) -> list[FollowUp]:
        """The open follow-ups due on or before `until`, of themes that still run."""
        with self._store.reading() as session:
            rows = session.exec(
                select(Idea)
                .join(Theme, Theme.id == Idea.theme_id)  # type: ignore[arg-type]
                .where(
                    Idea.status == "adopted",
                    Idea.implemented_at.is_(None),  # type: ignore[union-attr]
                    Idea.follow_up.is_not(None),  # type: ignore[union-attr]
                    Idea.follow_up <= until,  # type: ignore[operator]
                    Theme.status != ThemeStatus.archived,
                )
                .order_by(Idea.id)  # type: ignore[arg-type]
            )
            return [
                FollowUp(
                    idea_id=row.id,
                    theme_id=row.theme_id,
                    day=row.follow_up,
                    owner=row.owner,
                    adopted_on=utc(row.decided_at or row.created_at).date(),
                )
                for row in rows
                if row.id is not None and row.follow_up is not None
            ]

    def complete_evaluation_step(self, theme_id: int, now: datetime, *, note: str) -> bool:
        """Mark step 7 done once the council has decided (step 6 done), the theme's
        evaluation is closed, its ideas are triaged and step 7 has started; True when it
        did."""
        view = self._store.theme_by_id(theme_id)
        if view is None:
            return False
        closed = any(e.status == "closed" for e in self.for_theme(theme_id))
        open_ideas = len(self.ideas(theme_id, status="open"))
        step = evaluation_step(view)
        if step is None or not evaluation_step_complete(
            view, evaluation_closed=closed, open_ideas=open_ideas, today=now.date()
        ):
            return False
        self._store.set_step_state(
            theme_id,
            step.key,
            state=StepState.done,
            actor="Bot",
            now=now,
            action="done",
            note=note,
        )
        return True


def result_rows(tallies: dict[str, Tally]) -> list[ResultRow]:
    """Counts per answer and voters per question: all that is kept after the close."""
    rows = []
    for key, counted in tallies.items():
        rows.append(ResultRow(key, None, counted.voters, counted.spoiled))
        rows.extend(ResultRow(key, answer, count) for answer, count in counted.counts.items())
    return rows


def stored_tallies(rows: Sequence[ResultRow]) -> dict[str, Tally]:
    """The tallies again from the stored counts (for `!zt auswertung`)."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    voters: dict[str, tuple[int, int]] = {}
    for row in rows:
        if row.answer_id is None:
            voters[row.question_key] = (row.count, row.spoiled)
        else:
            counts[row.question_key][row.answer_id] = row.count
    return {
        key: Tally(counts[key], voters=found[0], spoiled=found[1], ended=True)
        for key, found in voters.items()
    }


def stored_summary(evaluations: EvaluationStore, evaluation: EvaluationRecord) -> Summary:
    """A closed evaluation's results again, from the stored counts."""
    assert evaluation.id is not None
    return summarise(
        Questionnaire.from_json(evaluation.questionnaire_json),
        stored_tallies(evaluations.results(evaluation.id)),
        evaluation.min_answers,
    )


def stored_open_answers(
    evaluations: EvaluationStore, evaluation: EvaluationRecord
) -> tuple[OpenAnswers, ...]:
    """A closed evaluation's open answers (without authors), under the same threshold."""
    assert evaluation.id is not None
    return open_answers(
        Questionnaire.from_json(evaluation.questionnaire_json),
        evaluations.open_answers(evaluation.id),
        evaluation.min_answers,
    )
