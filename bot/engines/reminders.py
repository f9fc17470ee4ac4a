"""The reminder engine: policy over store state → rendered messages → send queue → sent-log.

Woken by the scheduler; the database decides what is due. Exactly once per
(theme, step, kind, n, step date, room): a pending row is written before the send, the
Matrix transaction id is derived from the same key (the homeserver deduplicates a retry
from this device), the key travels in the event content, and a pending row older than
the homeserver's deduplication window is looked up in the room's history first.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.domain.documents import documents_before
from bot.domain.idea_follow_up import FollowUp, due_follow_ups, idea_of, next_follow_up
from bot.domain.lead_rooms import RoomSetup, citizen_dialogue_unbound, setup_for
from bot.domain.participation import window as participation_window
from bot.domain.process import Lead
from bot.domain.reminder_plan import Delivery, deliveries, theme_facts
from bot.domain.reminder_policy import (
    Reminder,
    ReminderKind,
    ReminderSettings,
    ThemeFacts,
    digest_items,
    due_reminders,
    near,
    send_at,
    upcoming,
)
from bot.domain.themes import StepState, ThemeView
from bot.domain.working_days import WorkingCalendar
from bot.engines.port import MatrixPort
from bot.matrix import events
from bot.matrix.send_queue import TXN_DEDUP_WINDOW, Outgoing, Priority
from bot.rendering import Message, Renderer
from bot.store.database import retry_while_unavailable_async, utc
from bot.store.evaluations import EvaluationStore
from bot.store.themes import Store

log = logging.getLogger(__name__)

# The engine plans its next wake-up this many days ahead (and wakes at least daily).
WAKEUP_HORIZON_DAYS = 8


@dataclass
class ReminderEngine:
    config: Config
    store: Store
    renderer: Renderer
    calendar: WorkingCalendar
    # Sends, finds a reminder in a room's history, knows whether the bot is in a room
    # (reminders for a room it has not joined yet wait).
    matrix: MatrixPort
    settings: ReminderSettings = field(init=False)
    evaluations: EvaluationStore = field(init=False)
    _in_flight: set[str] = field(default_factory=set, init=False)
    sent: int = field(default=0, init=False)  # reminders the homeserver took (metrics)
    _wakeup: datetime | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.settings = self.config.reminders.policy()
        self.evaluations = EvaluationStore(self.store)

    @property
    def pending(self) -> int:
        """Reminders queued and not yet confirmed."""
        return len(self._in_flight)

    @property
    def zone(self) -> ZoneInfo:
        return self.config.bot.zone

    def _views(self, now: datetime) -> dict[int, ThemeView]:
        """The themes that can have a reminder due now or before the next wake-up: the
        database picks them (indexed by step date and Z2), not a walk over every theme."""
        window = near(self.settings, WAKEUP_HORIZON_DAYS)
        views = self.store.active_themes_near(now.date(), window)
        return {view.id: view for view in views}

    def rooms(self, view: ThemeView | None) -> RoomSetup:
        return setup_for(
            self.config.rooms,
            view.theme if view else None,
            coordination_copies=self.config.reminders.coordination_copies,
        )

    def deliveries(self, reminder: Reminder, view: ThemeView | None) -> list[Delivery]:
        return deliveries(reminder, self.rooms(view))

    async def tick(self, now: datetime) -> int:
        """Queue every due reminder not yet sent; the number queued.

        The database work and the rendering run in a worker thread, so that a burst of
        reminders never holds up the event loop (and with it the answers to commands).
        """
        ready, stale, views = await retry_while_unavailable_async(
            lambda: asyncio.to_thread(self._prepare, now), "planning the reminders"
        )
        for delivery in stale:  # pending for longer than the homeserver remembers
            event_id = await self.matrix.find_reminder_event(delivery.room_id, delivery.key)
            if event_id is None:
                ready.append(delivery)
            else:
                await asyncio.to_thread(self.store.mark_sent, delivery.txn_id, event_id, now)
        rendered = await asyncio.to_thread(self._render_all, ready, views, now)
        for delivery, message in rendered:
            self._queue(delivery, message, now)
        if rendered:
            log.info("queued %d reminders", len(rendered))
        return len(rendered)

    def _prepare(
        self, now: datetime
    ) -> tuple[list[Delivery], list[Delivery], dict[int, ThemeView]]:
        """(to send, to look up in the room's history first, the themes)."""
        views = self._views(now)
        facts = [theme_facts(v) for v in views.values()]
        due = due_reminders(facts, now, self.settings, self.calendar)
        # Adopted ideas whose day has come: their owners, through the same sent-log.
        follow_ups = self.evaluations.follow_ups(now.date() + timedelta(WAKEUP_HORIZON_DAYS))
        due += due_follow_ups(follow_ups, now, self.settings, self.calendar)
        self._plan_wakeup(facts, now, follow_ups)
        deliveries = [d for r in due for d in self.deliveries(r, views.get(r.theme_id or -1))]
        known = self.store.reminder_rows([d.txn_id for d in deliveries])
        ready: list[Delivery] = []
        stale: list[Delivery] = []
        waiting: collections.Counter[str] = collections.Counter()
        # A lapse and the pending rows of its notice commit together: told once, and
        # never lapsed again after someone reopened the step (its rows exist then).
        with self.store.unit_of_work():
            self._lapse(due, views, known, now)
            for delivery in deliveries:
                row = known.get(delivery.txn_id)
                if delivery.txn_id in self._in_flight or (row is not None and row.status == "sent"):
                    continue
                if not self.matrix.in_room(delivery.room_id):
                    waiting[delivery.room_id] += 1
                elif row is None:
                    self.store.record_pending(delivery, now)
                    ready.append(delivery)
                elif utc(now) - utc(row.created_at) > TXN_DEDUP_WINDOW:
                    stale.append(delivery)
                else:
                    ready.append(delivery)  # same transaction id: the homeserver drops a copy
        for room_id, count in waiting.items():
            log.warning("%d reminders wait for %s: the bot is not in that room", count, room_id)
        return ready, stale, views

    def _lapse(
        self,
        due: list[Reminder],
        views: dict[int, ThemeView],
        known: dict[str, object],
        now: datetime,
    ) -> None:
        """Optional steps whose lapse notice is due and was never sent: "entfallen" now."""
        for reminder in due:
            view = views.get(reminder.theme_id or -1)
            if reminder.kind != ReminderKind.lapsed or view is None:
                continue
            step = view.step(reminder.step_key)
            told = any(d.txn_id in known for d in self.deliveries(reminder, view))
            if step is None or step.state != StepState.open or told:
                continue
            self.store.set_step_state(
                view.id,
                step.key,
                state=StepState.lapsed,
                actor="Bot",
                now=now,
                action="lapsed",
            )
            views[view.id] = self.store.theme_by_id(view.id) or view

    def _render_all(
        self, deliveries: list[Delivery], views: dict[int, ThemeView], now: datetime
    ) -> list[tuple[Delivery, Message]]:
        return [
            (d, self.render(d.reminder, views.get(d.reminder.theme_id or -1), views, now))
            for d in deliveries
        ]

    def _queue(self, delivery: Delivery, message: Message, now: datetime) -> None:
        content = events.reminder(message, delivery.key)
        self._in_flight.add(delivery.txn_id)

        async def sent(event_id: str) -> None:
            self.sent += 1
            try:
                await retry_while_unavailable_async(
                    lambda: asyncio.to_thread(self.store.mark_sent, delivery.txn_id, event_id, now),
                    "marking a reminder sent",
                )
            finally:
                self._in_flight.discard(delivery.txn_id)

        def rejected() -> None:  # stays pending; a later tick tries again
            self._in_flight.discard(delivery.txn_id)

        self.matrix.send_later(
            Outgoing(
                room_id=delivery.room_id,
                content=content,
                txn_id=delivery.txn_id,
                priority=Priority.reminder,
                on_sent=sent,
                on_rejected=rejected,
            )
        )

    def render(
        self,
        reminder: Reminder,
        view: ThemeView | None,
        views: dict[int, ThemeView],
        now: datetime,
    ) -> Message:
        prefix = self.config.bot.prefix
        if reminder.kind == ReminderKind.digest:
            return self._digest(views, now, prefix)
        if reminder.kind == ReminderKind.idea_follow_up:
            return self._follow_up(reminder, prefix)
        assert view is not None
        rooms = self.rooms(view)
        definition = view.template.step(reminder.step_key)
        step = view.step(reminder.step_key)
        people = view.responsible.get(reminder.step_key, ())
        # Where the Fachbereich leads, its Kernteam is mentioned too.
        leads = definition.leads if definition else ()
        core_team = view.theme.core_team if Lead.fachbereich in leads else ()
        # What the step before produced (the Fotoprotokoll of Z2 for step 5 …).
        earlier_key, earlier = documents_before(
            [s.key for s in view.steps], view.documents, reminder.step_key
        )
        message = self.renderer.message(
            "reminder",
            kind=str(reminder.kind),
            reminder=reminder,
            theme=view.theme,
            definition=definition,
            step=step,
            people=people,
            core_team=core_team,
            overdue_days=(now.date() - reminder.step_date).days,
            holiday=self.calendar.holiday_name(reminder.step_date),
            window=participation_window(view),
            today=now.date(),
            citizen_dialogue_unbound=citizen_dialogue_unbound(rooms),
            prefix=prefix,
            earlier=view.template.step(earlier_key) if earlier_key else None,
            earlier_documents=earlier,
        )
        return Message(message.body, message.html, tuple(dict.fromkeys([*people, *core_team])))

    def _follow_up(self, reminder: Reminder, prefix: str) -> Message:
        """An adopted idea's day: its owner (mentioned) is asked to put it into practice."""
        number = idea_of(reminder.step_key)
        idea = self.evaluations.idea(number) if number is not None else None
        names = self.store.theme_names_by_id({reminder.theme_id or -1})
        owner = idea.owner if idea is not None else None
        message = self.renderer.message(
            "idea_follow_up",
            number=number,
            idea=idea,
            theme=names.get(reminder.theme_id or -1, ""),
            day=reminder.step_date,
            late=reminder.late,
            prefix=prefix,
        )
        return Message(message.body, message.html, (owner,) if owner else ())

    def _digest(self, views: dict[int, ThemeView], now: datetime, prefix: str) -> Message:
        """Per theme what is overdue, due this week and next: what a coordinator acts on."""
        today = now.date()
        by_theme: dict[int, list] = {}
        for item in digest_items([theme_facts(v) for v in views.values()], today):
            view = views[item.theme_id]
            definition = view.template.step(item.step_key)
            by_theme.setdefault(item.theme_id, []).append((item, definition))
        rows = [(views[theme_id].theme, lines) for theme_id, lines in by_theme.items()]
        monday = today - timedelta(days=today.weekday())
        return self.renderer.message(
            "digest",
            rows=rows,
            today=today,
            monday=monday,
            sunday=monday + timedelta(days=6),
            prefix=prefix,
        )

    def next_wakeup(self, now: datetime) -> datetime | None:
        """When the next stage falls due (the scheduler wakes the engine then); planned by
        the last tick from the themes it loaded anyway."""
        return self._wakeup

    def _plan_wakeup(
        self, facts: list[ThemeFacts], now: datetime, follow_ups: list[FollowUp]
    ) -> None:
        stages = upcoming(facts, now, self.settings, self.calendar, WAKEUP_HORIZON_DAYS)
        times = [send_at(stage, self.settings, self.zone) for stage in stages]
        follow_up = next_follow_up(follow_ups, now, self.settings, self.calendar)
        times += [follow_up] if follow_up is not None else []
        self._wakeup = min(times) if times else None
