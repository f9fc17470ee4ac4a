"""The evaluation engine: starts, reminds and closes the questionnaire after Z2.

Like the reminder engine it is woken by the scheduler and acts on what the database
says (starting → open → closing → closed), so nothing is lost when the bot restarts in
between: a half-started evaluation sends only the polls it has not recorded yet (and the
transaction ids make a resend after a crash a no-op on the homeserver).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Protocol

from zukunftstische.config import Config
from zukunftstische.domain.polls import (
    PollDefinition,
    Summary,
    Tally,
    merge_tallies,
    poll_end_content,
    poll_start_content,
    summarise,
    tally,
)
from zukunftstische.domain.questionnaire import Questionnaire, load_questionnaire
from zukunftstische.domain.working_days import WorkingCalendar
from zukunftstische.matrix.power import RoomPower
from zukunftstische.matrix.send_queue import Priority, txn_id_for
from zukunftstische.rendering import Message, Renderer
from zukunftstische.store.evaluations import EvaluationRunning, EvaluationStore, ResultRow
from zukunftstische.store.tables import Evaluation, EvaluationPoll, StepState, ThemeStatus
from zukunftstische.store.themes import Store, ThemeView, utc

log = logging.getLogger(__name__)

# A theme whose Z2 lies further back than this gets no automatic evaluation any more.
AUTO_START_WINDOW = timedelta(days=14)
# Localparts that look like bots ("zt-bot", "bot.mail", "reminder_bot") are not asked.
BOT_NAME = re.compile(r"(^|[-_.])bot($|[-_.])", re.IGNORECASE)
EVALUATION_STEP = "7"


class PollTransport(Protocol):
    """What the engine needs from Matrix (the adapter implements it)."""

    @property
    def user_id(self) -> str: ...

    async def send_now(
        self, room_id: str, event_type: str, content: dict, txn_id: str, priority: Priority
    ) -> str | None: ...

    async def members(self, room_id: str) -> list[str]: ...

    async def direct_room(self, user_id: str) -> str | None: ...

    async def poll_events(self, room_id: str, start_event_id: str) -> list[dict]: ...

    def room_power(self, room_id: str) -> RoomPower | None: ...


def notice(message: Message) -> dict:
    return {
        "msgtype": "m.notice",
        "body": message.body,
        "format": "org.matrix.custom.html",
        "formatted_body": message.html,
    }


def evaluation_room(view: ThemeView) -> str | None:
    """The Z2 participants' room, else the team room."""
    return view.theme.z2_room or view.theme.team_room


def first_day_after_z2(z2: date, calendar: WorkingCalendar) -> date:
    return calendar.add_working_days(z2, 1)


def start_evaluation(
    evaluations: EvaluationStore,
    config: Config,
    view: ThemeView,
    *,
    mode: str,
    actor: str,
    now: datetime,
) -> Evaluation:
    """Record a new evaluation; the engine's next tick sends its polls.

    Raises LookupError when the theme has no room to ask in, EvaluationRunning when one
    is open already.
    """
    room = evaluation_room(view)
    if room is None:
        raise LookupError("no room")
    questionnaire = load_questionnaire(config.evaluation.questionnaire)
    return evaluations.create(
        theme_id=view.id,
        mode=mode,
        room_id=room,
        questionnaire_json=questionnaire.to_json(),
        min_answers=config.evaluation.min_answers,
        started_by=actor,
        now=now,
        closes_at=now + timedelta(days=config.evaluation.open_days),
    )


@dataclass
class EvaluationEngine:
    config: Config
    store: Store
    evaluations: EvaluationStore
    renderer: Renderer
    calendar: WorkingCalendar
    transport: PollTransport

    # Starting -----------------------------------------------------------------------------

    def _auto_start(self, now: datetime) -> None:
        if not self.config.evaluation.auto_start:
            return
        settings_time = self.config.reminders.send_time
        for view in self.store.themes():
            z2 = view.theme.z2
            if view.theme.status != ThemeStatus.active or z2 is None:
                continue
            if self.evaluations.for_theme(view.id) or evaluation_room(view) is None:
                continue
            start_day = first_day_after_z2(z2, self.calendar)
            starts = datetime.combine(start_day, settings_time, tzinfo=now.tzinfo)
            if starts <= now and now.date() - z2 <= AUTO_START_WINDOW:
                try:
                    start_evaluation(
                        self.evaluations,
                        self.config,
                        view,
                        mode=self.config.evaluation.mode,
                        actor="Bot",
                        now=now,
                    )
                except EvaluationRunning:
                    continue

    async def tick(self, now: datetime) -> None:
        await asyncio.to_thread(self._auto_start, now)  # database work off the event loop
        for evaluation in self.evaluations.with_status("starting"):
            await self._open(evaluation, now)
        for evaluation in self.evaluations.with_status("open", "closing"):
            if evaluation.status == "closing" or utc(now) >= utc(evaluation.closes_at):
                await self._close(evaluation, now)
            elif evaluation.mode == "anonym" and not evaluation.reminded:
                halfway = (
                    utc(evaluation.opened_at)
                    + (utc(evaluation.closes_at) - utc(evaluation.opened_at)) / 2
                )
                if utc(now) >= halfway:
                    await self._remind(evaluation)

    def next_wakeup(self, now: datetime) -> datetime | None:
        """The next close or halfway reminder."""
        times = []
        for evaluation in self.evaluations.with_status("open"):
            opened, closes = utc(evaluation.opened_at), utc(evaluation.closes_at)
            times.append(closes)
            if evaluation.mode == "anonym" and not evaluation.reminded:
                times.append(opened + (closes - opened) / 2)
        return min(times) if times else None

    # Opening ------------------------------------------------------------------------------

    async def _open(self, evaluation: Evaluation, now: datetime) -> None:
        view = self.store.theme_by_id(evaluation.theme_id)
        if view is None:
            return
        questionnaire = Questionnaire.from_json(evaluation.questionnaire_json)
        if evaluation.mode == "raum":
            rooms = [evaluation.room_id]
        else:
            people = await self._participants(evaluation.room_id)
            rooms = [
                room for person in people if (room := await self.transport.direct_room(person))
            ]
            self.evaluations.update(evaluation.id, participants=len(rooms))
        sent = {(p.question_key, p.room_id) for p in self.evaluations.polls(evaluation.id)}
        for room in rooms:
            await self._send_questionnaire(evaluation, view, questionnaire, room, sent)
        self.evaluations.update(evaluation.id, status="open")
        log.info("evaluation %s open in %d rooms", evaluation.id, len(rooms))

    async def _participants(self, room_id: str) -> list[str]:
        ignored = set(self.config.evaluation.ignore_users) | {self.transport.user_id}
        members = await self.transport.members(room_id)
        return [m for m in members if m not in ignored and not BOT_NAME.search(m[1:].split(":")[0])]

    async def _send_questionnaire(
        self,
        evaluation: Evaluation,
        view: ThemeView,
        questionnaire: Questionnaire,
        room: str,
        sent: set[tuple[str, str]],
    ) -> None:
        key = f"evaluation/{evaluation.id}/{room}"
        if not any(r == room for _, r in sent):
            intro = self.renderer.message(
                "evaluation_intro",
                theme=view.theme,
                questionnaire=questionnaire.questionnaire,
                open_questions=[q for q in questionnaire.questions if not q.is_poll],
                anonym=evaluation.mode == "anonym",
                days=self.config.evaluation.open_days,
                closes=evaluation.closes_at,
                prefix=self.config.bot.prefix,
            )
            await self._notice(evaluation, room, intro, "intro")
        kind = "undisclosed"
        for question in questionnaire.polls:
            if (question.key, room) in sent:
                continue
            event_id = await self.transport.send_now(
                room,
                "org.matrix.msc3381.poll.start",
                poll_start_content(question, kind=kind),
                _txn(key, question.key),
                Priority.reminder,
            )
            if event_id is not None:
                self.evaluations.add_poll(evaluation.id, question.key, room, event_id)

    # Reminding (anonym mode) --------------------------------------------------------------

    async def _remind(self, evaluation: Evaluation) -> None:
        view = self.store.theme_by_id(evaluation.theme_id)
        if view is None:
            return
        by_room: dict[str, list[EvaluationPoll]] = defaultdict(list)
        for poll in self.evaluations.polls(evaluation.id):
            by_room[poll.room_id].append(poll)
        message = self.renderer.message(
            "evaluation_reminder", theme=view.theme, closes=evaluation.closes_at
        )
        for room, polls in by_room.items():
            if not await self._answered_any(room, polls):
                await self._notice(evaluation, room, message, "reminder")
        self.evaluations.update(evaluation.id, reminded=True)

    async def _answered_any(self, room: str, polls: Sequence[EvaluationPoll]) -> bool:
        for poll in polls:
            for event in await self.transport.poll_events(room, poll.start_event_id):
                if event.get("sender") != self.transport.user_id:
                    return True
        return False

    # Closing ------------------------------------------------------------------------------

    async def _close(self, evaluation: Evaluation, now: datetime) -> None:
        view = self.store.theme_by_id(evaluation.theme_id)
        questionnaire = Questionnaire.from_json(evaluation.questionnaire_json)
        polls = self.evaluations.polls(evaluation.id)
        end_text = self.renderer.sentence("evaluation_words", "poll_ended").body
        for poll in polls:  # end first: votes after the end are ignored by every client
            await self.transport.send_now(
                poll.room_id,
                "org.matrix.msc3381.poll.end",
                poll_end_content(poll.start_event_id, end_text),
                _txn(f"evaluation/{evaluation.id}/{poll.room_id}", f"end-{poll.question_key}"),
                Priority.reminder,
            )
        tallies = await self._tallies(questionnaire, polls)
        self.evaluations.close(evaluation.id, result_rows(tallies), now)
        summary = summarise(questionnaire, tallies, evaluation.min_answers)
        if view is not None:
            await self._announce(evaluation, view, summary)
            complete_evaluation_step(self.store, self.evaluations, view.id, now)
        log.info("evaluation %s closed", evaluation.id)

    async def _tallies(
        self, questionnaire: Questionnaire, polls: Sequence[EvaluationPoll]
    ) -> dict[str, Tally]:
        """Every poll counted from the homeserver's relations (which also holds the votes
        a gappy sync missed), merged per question."""
        per_question: dict[str, list[Tally]] = defaultdict(list)
        for poll in polls:
            question = questionnaire.question(poll.question_key)
            if question is None:
                continue
            definition = PollDefinition.from_question(
                question, start_event_id=poll.start_event_id, creator=self.transport.user_id
            )
            events = await self.transport.poll_events(poll.room_id, poll.start_event_id)
            # Whoever may redact others' events may end the poll, as Element shows it.
            power = self.transport.room_power(poll.room_id)
            may_end = power.may_redact_others if power is not None else None
            per_question[poll.question_key].append(tally(definition, events, may_end))
        return {key: merge_tallies(found) for key, found in per_question.items()}

    async def _announce(self, evaluation: Evaluation, view: ThemeView, summary: Summary) -> None:
        message = self.renderer.message(
            "evaluation_summary",
            theme=view.theme,
            summary=summary,
            participants=evaluation.participants,
            anonym=evaluation.mode == "anonym",
            prefix=self.config.bot.prefix,
        )
        rooms = dict.fromkeys(
            room for room in (evaluation.room_id, self.config.rooms.koordination) if room
        )
        for room in rooms:
            await self._notice(evaluation, room, message, "summary")

    async def _notice(self, evaluation: Evaluation, room: str, message: Message, part: str) -> None:
        """A notice of this evaluation; its transaction id makes a resend harmless."""
        await self.transport.send_now(
            room,
            "m.room.message",
            notice(message),
            _txn(f"evaluation/{evaluation.id}/{room}", part),
            Priority.reminder,
        )


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


def stored_summary(evaluations: EvaluationStore, evaluation: Evaluation) -> Summary:
    """A closed evaluation's results again, from the stored counts."""
    assert evaluation.id is not None
    return summarise(
        Questionnaire.from_json(evaluation.questionnaire_json),
        stored_tallies(evaluations.results(evaluation.id)),
        evaluation.min_answers,
    )


def complete_evaluation_step(
    store: Store, evaluations: EvaluationStore, theme_id: int, now: datetime
) -> bool:
    """Step 7 is done once the theme's evaluation is closed and its ideas are triaged."""
    view = store.theme_by_id(theme_id)
    if view is None:
        return False
    step = view.step(EVALUATION_STEP)
    closed = [e for e in evaluations.for_theme(theme_id) if e.status == "closed"]
    if step is None or step.state != StepState.open or not closed:
        return False
    if evaluations.ideas(theme_id, status="open"):
        return False
    store.set_step_state(
        theme_id,
        EVALUATION_STEP,
        state=StepState.done,
        actor="Bot",
        now=now,
        action="done",
        note="Umfrage ausgewertet, KVP-Ideen entschieden",
    )
    return True


def _txn(key: str, part: str) -> str:
    return txn_id_for(key, part)
