"""The evaluation engine: starts, reminds and closes the questionnaire after Z2.

Like the reminder engine it is woken by the scheduler and acts on what the database
says (starting → open → closing → closed), so nothing is lost when the bot restarts in
between: a half-started evaluation sends only the polls it has not recorded yet (and the
transaction ids make a resend after a crash a no-op on the homeserver).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.config import Config
from bot.domain.evaluation import (
    AUTO_START_WINDOW,
    INTERNAL_KIND,
    PARTICIPANTS,
    EvaluationRecord,
    OpenAnswers,
    PollRecord,
    askable,
    council_decided,
    evaluation_room_for,
    evaluation_step,
    first_day_after_z2,
    next_open_question,
    open_answers,
    participants_audience,
)
from bot.domain.polls import (
    PollDefinition,
    Summary,
    Tally,
    merge_tallies,
    summarise,
    tally,
)
from bot.domain.questionnaire import Questionnaire
from bot.domain.sendout import Estimate, estimate_sendout
from bot.domain.themes import StepState, ThemeView
from bot.domain.working_days import WorkingCalendar
from bot.engines.port import MatrixPort
from bot.matrix import events
from bot.matrix.send_queue import Priority, txn_id_for
from bot.rendering import Message, Renderer
from bot.store.database import retry_while_unavailable_async, utc
from bot.store.evaluations import EvaluationRunning, EvaluationStore, result_rows
from bot.store.themes import Store

log = logging.getLogger(__name__)

# The offer key under which "nobody to ask" is told once per theme.
UNADDRESSED = "niemand"


def start_evaluation(
    evaluations: EvaluationStore,
    config: Config,
    view: ThemeView,
    *,
    actor: str,
    now: datetime,
    mode: str | None = None,
    kind: str = PARTICIPANTS,
    auto_started: bool = False,
) -> EvaluationRecord:
    """Record a new evaluation; the engine's next tick sends its polls. The caller checked
    that the participants' evaluation has someone to ask. Raises LookupError when the
    internal one has no room to report to, EvaluationRunning when one of the same kind is
    open already."""
    room = evaluation_room_for(view, kind, config.rooms.koordination)
    return evaluations.create(
        theme_id=view.id,
        mode=mode or config.evaluation.mode,
        room_id=room,
        questionnaire_json=config.evaluation.questionnaire_for(kind).to_json(),
        min_answers=config.evaluation.min_answers,
        started_by=actor,
        now=now,
        closes_at=now + timedelta(days=config.evaluation.open_days),
        kind=kind,
        auto_started=auto_started,
    )


@dataclass
class EvaluationEngine:
    config: Config
    store: Store
    evaluations: EvaluationStore
    renderer: Renderer
    calendar: WorkingCalendar
    matrix: MatrixPort

    # Starting -----------------------------------------------------------------------------

    def _auto_start(self, now: datetime) -> list[ThemeView]:
        """Start the participants' evaluation of themes whose Z2 is over; the themes it
        cannot start because nobody is there to ask (told once, by the caller)."""
        if not self.config.evaluation.auto_start:
            return []
        settings_time = self.config.reminders.send_time
        # Only themes whose Z2 lies within the start window: not a walk over every theme.
        today = now.date()
        unaddressed = []
        for view in self.store.active_themes_with_z2_between(today - AUTO_START_WINDOW, today):
            z2 = view.theme.z2
            if z2 is None:
                continue
            asked = [e for e in self.evaluations.for_theme(view.id) if e.kind == PARTICIPANTS]
            start_day = first_day_after_z2(z2, self.calendar)
            starts = datetime.combine(start_day, settings_time, tzinfo=now.tzinfo)
            if asked or starts > now or now.date() - z2 > AUTO_START_WINDOW:
                continue
            audience = participants_audience(view, self.store.participants(view.id))
            if audience.empty:
                if self.evaluations.offer_once(view.id, UNADDRESSED, now):
                    unaddressed.append(view)
                continue
            # A poll in a room needs the Z2 room; named participants are asked directly.
            mode = "anonym" if audience.room is None else self.config.evaluation.mode
            try:
                start_evaluation(
                    self.evaluations,
                    self.config,
                    view,
                    actor="Bot",
                    now=now,
                    mode=mode,
                    auto_started=True,
                )
            except EvaluationRunning:
                continue
        return unaddressed

    async def _tell_unaddressed(self, views: list[ThemeView]) -> None:
        """The coordination room hears once that an evaluation could not start."""
        room = self.config.rooms.koordination
        if room is None:
            return
        for view in views:
            message = self.renderer.message(
                "evaluation_unaddressed", theme=view.theme, prefix=self.config.bot.prefix
            )
            await self.matrix.send_now(
                room,
                "m.room.message",
                events.notice(message),
                _txn(f"evaluation-offer/{view.id}/{UNADDRESSED}/{room}", "offer"),
                Priority.reminder,
            )

    def _due_offers(self, now: datetime) -> list[ThemeView]:
        """Themes whose council has decided (step 6 done) and whose internal evaluation
        was neither run nor offered: recorded as offered here, told by the caller."""
        due = []
        for view in self.evaluations.themes_to_offer(INTERNAL_KIND):
            if not council_decided(view):
                continue
            step = evaluation_step(view)
            if step is not None and step.state != StepState.open:
                continue  # step 7 done or skipped: too late to offer it
            if self.evaluations.offer_once(view.id, INTERNAL_KIND, now):
                due.append(view)
        return due

    async def _offer_internal(self, now: datetime) -> None:
        for view in await asyncio.to_thread(self._due_offers, now):
            message = self.renderer.message(
                "evaluation_offer", theme=view.theme, prefix=self.config.bot.prefix
            )
            rooms = dict.fromkeys(
                room for room in (self.config.rooms.koordination, *view.theme.team_rooms) if room
            )
            for room in rooms:
                await self.matrix.send_now(
                    room,
                    "m.room.message",
                    events.notice(message),
                    _txn(f"evaluation-offer/{view.id}/{INTERNAL_KIND}/{room}", "offer"),
                    Priority.reminder,
                )

    async def tick(self, now: datetime) -> None:
        # The store's writes run in worker threads: one that waits for its turn to write
        # (store/database.py) must not stop the event loop, nor a command waiting for it.
        await self._tell_unaddressed(await asyncio.to_thread(self._auto_start, now))
        await self._offer_internal(now)
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

    async def _open(self, evaluation: EvaluationRecord, now: datetime) -> None:
        view = self.store.theme_by_id(evaluation.theme_id)
        if view is None:
            return
        questionnaire = Questionnaire.from_json(evaluation.questionnaire_json)
        in_room, people = await self._audience(evaluation, view)
        sent = {(p.question_key, p.room_id) for p in self.evaluations.polls(evaluation.id)}
        # Told first, with how long the send-out takes: after a crash _open runs again and
        # the same transaction id makes the repeated notice a no-op on the homeserver.
        await self._tell_sendout(evaluation, view, questionnaire, people)
        if in_room and evaluation.room_id:
            await self._send_questionnaire(
                evaluation, view, questionnaire, evaluation.room_id, sent
            )
        asked = await self._ask_in_direct_chats(evaluation, view, questionnaire, people, sent)
        if not in_room:
            await asyncio.to_thread(self.evaluations.update, evaluation.id, participants=asked)
        await asyncio.to_thread(self.evaluations.mark_open, evaluation.id)
        log.info("evaluation %s open: %d asked in direct chats", evaluation.id, asked)

    async def _ask_in_direct_chats(
        self,
        evaluation: EvaluationRecord,
        view: ThemeView,
        questionnaire: Questionnaire,
        people: Sequence[str],
        sent: set[tuple[str, str]],
    ) -> int:
        """One person after another: their direct chat, then its questions, so that each
        gets the evaluation as soon as their chat exists; the next person's chat is being
        created meanwhile (the homeserver limits new rooms and events separately). The
        number of people asked."""

        def chat_of(index: int) -> asyncio.Future[str | None] | None:
            if index >= len(people):
                return None
            return asyncio.ensure_future(self.matrix.direct_room(people[index]))

        asked = 0
        ahead = chat_of(0)
        try:
            for index in range(len(people)):
                assert ahead is not None
                room = await ahead
                ahead = chat_of(index + 1)
                if room is not None:
                    await self._send_questionnaire(evaluation, view, questionnaire, room, sent)
                    asked += 1
        finally:
            if ahead is not None:
                ahead.cancel()
        return asked

    async def _tell_sendout(
        self,
        evaluation: EvaluationRecord,
        view: ThemeView,
        questionnaire: Questionnaire,
        people: Sequence[str],
    ) -> None:
        """The coordination room hears how long the send-out takes under the homeserver's
        limits: with the notice of an automatic start, or on its own when people are asked
        in direct chats and the wait is worth telling."""
        room = self.config.rooms.koordination
        if not room:
            return
        anonym = evaluation.mode == "anonym"
        # Direct chats for everyone asked one by one (in a room poll: the named outside it).
        estimate = self._estimate(questionnaire, len(people), direct=bool(people))
        sendout = self._sendout_sentence(estimate) if estimate.limited else None
        if evaluation.auto_started:
            # Nobody typed a command: the coordination office learns it from the bot.
            message = self.renderer.message(
                "evaluation_auto_started",
                theme=view.theme,
                evaluation=evaluation,
                anonym=anonym,
                asked=len(people),
                room=evaluation.room_id,
                room_name=self.matrix.room_name(evaluation.room_id) if evaluation.room_id else None,
                sendout=sendout,
                prefix=self.config.bot.prefix,
            )
            await self._notice(evaluation, room, message, "auto")
        elif sendout is not None:
            message = self.renderer.message(
                "evaluation_sendout", theme=view.theme, asked=len(people), sendout=sendout
            )
            await self._notice(evaluation, room, message, "sendout")

    def _estimate(self, questionnaire: Questionnaire, people: int, *, direct: bool) -> Estimate:
        """How long sending takes: intro, polls and (in a direct chat) the first open
        question for each of `people` in a new direct chat, or once in the room."""
        has_open = next_open_question(questionnaire, None) is not None
        events_each = 1 + len(questionnaire.polls) + (1 if direct and has_open else 0)
        limits = self.matrix.sendout_limits()
        if not direct:
            return estimate_sendout(1, events_each, limits, new_rooms=0)
        return estimate_sendout(people, events_each, limits)

    def _sendout_sentence(self, estimate: Estimate) -> str:
        return self.renderer.sentence(
            "evaluation_words",
            "sendout",
            minutes=_minutes(estimate.total.total_seconds()),
            first_minutes=_minutes(estimate.first.total_seconds()),
            assumed=estimate.assumed,
        ).body

    async def _audience(
        self, evaluation: EvaluationRecord, view: ThemeView
    ) -> tuple[bool, list[str]]:
        """(polls in the evaluation's room, the people asked in direct chats).

        The participants' evaluation asks the Z2 room's members and the named
        participants (in a room poll, the named ones who are not in the room); the
        internal one the department's teams (every team room), the Kernteam and the
        Koordination."""
        room = evaluation.room_id
        members = await self._participants(room) if room else []
        if evaluation.kind == INTERNAL_KIND:
            if evaluation.mode == "raum":
                return True, []
            others = [*view.theme.team_rooms, self.config.rooms.koordination]
            for room_id in dict.fromkeys(r for r in others if r and r != room):
                members += await self._participants(room_id)
            return False, self._askable([*members, *view.theme.core_team])
        named = self._askable(await asyncio.to_thread(self.store.participants, view.id))
        if evaluation.mode == "raum":
            return True, [person for person in named if person not in members]
        return False, self._askable([*members, *named])

    async def _participants(self, room_id: str) -> list[str]:
        return self._askable(await self.matrix.members(room_id))

    def _askable(self, people: Iterable[str]) -> list[str]:
        return askable(people, ignored=self.config.evaluation.ignore_users, bot=self.matrix.user_id)

    async def _send_questionnaire(
        self,
        evaluation: EvaluationRecord,
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
                internal=evaluation.kind == INTERNAL_KIND,
                days=self.config.evaluation.open_days,
                closes=evaluation.closes_at,
                prefix=self.config.bot.prefix,
            )
            await self._notice(evaluation, room, intro, "intro")
        kind = "undisclosed"
        for question in questionnaire.polls:
            if (question.key, room) in sent:
                continue
            event_id = await self.matrix.send_now(
                room,
                "org.matrix.msc3381.poll.start",
                events.poll_start(question, kind=kind),
                _txn(key, question.key),
                Priority.reminder,
            )
            if event_id is not None:
                await asyncio.to_thread(
                    self.evaluations.add_poll, evaluation.id, question.key, room, event_id
                )
        first = next_open_question(questionnaire, None)
        # In a direct chat the open question is answered by a plain reply, no command.
        if (
            evaluation.mode == "anonym"
            and first is not None
            and await asyncio.to_thread(self.evaluations.ask_open, evaluation.id, room, first)
        ):
            question = questionnaire.question(first)
            assert question is not None
            message = self.renderer.message("evaluation_open_question", question=question)
            await self._notice(evaluation, room, message, f"open-{first}")

    # Reminding (anonym mode) --------------------------------------------------------------

    async def _remind(self, evaluation: EvaluationRecord) -> None:
        view = self.store.theme_by_id(evaluation.theme_id)
        if view is None:
            return
        by_room: dict[str, list[PollRecord]] = defaultdict(list)
        for poll in self.evaluations.polls(evaluation.id):
            by_room[poll.room_id].append(poll)
        message = self.renderer.message(
            "evaluation_reminder", theme=view.theme, closes=evaluation.closes_at
        )
        for room, polls in by_room.items():
            if not await self._answered_any(room, polls):
                await self._notice(evaluation, room, message, "reminder")
        await asyncio.to_thread(self.evaluations.update, evaluation.id, reminded=True)

    async def _answered_any(self, room: str, polls: Sequence[PollRecord]) -> bool:
        for poll in polls:
            for event in await self.matrix.poll_events(room, poll.start_event_id):
                if event.get("sender") != self.matrix.user_id:
                    return True
        return False

    # Closing ------------------------------------------------------------------------------

    async def _close(self, evaluation: EvaluationRecord, now: datetime) -> None:
        view = self.store.theme_by_id(evaluation.theme_id)
        questionnaire = Questionnaire.from_json(evaluation.questionnaire_json)
        polls = self.evaluations.polls(evaluation.id)
        end_text = self.renderer.sentence("evaluation_words", "poll_ended").body
        for poll in polls:  # end first: votes after the end are ignored by every client
            await self.matrix.send_now(
                poll.room_id,
                "org.matrix.msc3381.poll.end",
                events.poll_end(poll.start_event_id, end_text),
                _txn(f"evaluation/{evaluation.id}/{poll.room_id}", f"end-{poll.question_key}"),
                Priority.reminder,
            )
        tallies = await self._tallies(questionnaire, polls)
        rows = result_rows(tallies)
        await retry_while_unavailable_async(
            lambda: asyncio.to_thread(self.evaluations.close, evaluation.id, rows, now),
            "closing an evaluation",
        )
        summary = summarise(questionnaire, tallies, evaluation.min_answers)
        if view is not None:
            assert evaluation.id is not None
            given = await asyncio.to_thread(self.evaluations.open_answers, evaluation.id)
            answers = open_answers(questionnaire, given, evaluation.min_answers)
            await self._announce(evaluation, view, summary, answers)
            await asyncio.to_thread(
                self.evaluations.complete_evaluation_step,
                view.id,
                now,
                note=step_completed_note(self.renderer),
            )
        log.info("evaluation %s closed", evaluation.id)

    async def _tallies(
        self, questionnaire: Questionnaire, polls: Sequence[PollRecord]
    ) -> dict[str, Tally]:
        """Every poll counted from the homeserver's relations (which also holds the votes
        a gappy sync missed), merged per question."""
        per_question: dict[str, list[Tally]] = defaultdict(list)
        for poll in polls:
            question = questionnaire.question(poll.question_key)
            if question is None:
                continue
            definition = PollDefinition.from_question(
                question, start_event_id=poll.start_event_id, creator=self.matrix.user_id
            )
            events = await self.matrix.poll_events(poll.room_id, poll.start_event_id)
            # Whoever may redact others' events may end the poll, as Element shows it.
            power = self.matrix.room_power(poll.room_id)
            may_end = power.may_redact_others if power is not None else None
            per_question[poll.question_key].append(tally(definition, events, may_end))
        return {key: merge_tallies(found) for key, found in per_question.items()}

    async def _announce(
        self,
        evaluation: EvaluationRecord,
        view: ThemeView,
        summary: Summary,
        answers: Sequence[OpenAnswers],
    ) -> None:
        message = self.renderer.message(
            "evaluation_summary",
            theme=view.theme,
            summary=summary,
            participants=evaluation.participants,
            anonym=evaluation.mode == "anonym",
            internal=evaluation.kind == INTERNAL_KIND,
            open_answers=answers,
            prefix=self.config.bot.prefix,
        )
        rooms = dict.fromkeys(
            room for room in (evaluation.room_id, self.config.rooms.koordination) if room
        )
        for room in rooms:
            await self._notice(evaluation, room, message, "summary")

    async def _notice(
        self, evaluation: EvaluationRecord, room: str, message: Message, part: str
    ) -> None:
        """A notice of this evaluation; its transaction id makes a resend harmless."""
        await self.matrix.send_now(
            room,
            "m.room.message",
            events.notice(message),
            _txn(f"evaluation/{evaluation.id}/{room}", part),
            Priority.reminder,
        )


def step_completed_note(renderer: Renderer) -> str:
    """The history note when step 7 completes by itself (evaluation closed, ideas decided)."""
    return renderer.sentence("evaluation_words", "step_completed_note").body


def _txn(key: str, part: str) -> str:
    return txn_id_for(key, part)


def _minutes(seconds: float) -> int:
    """Whole minutes as one says them: from a quarter of an hour on, to five minutes."""
    minutes = math.ceil(seconds / 60)
    return minutes if minutes < 15 else 5 * round(minutes / 5)
