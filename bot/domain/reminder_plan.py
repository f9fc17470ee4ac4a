"""Which reminders go where: the policy's reminders for stored themes, one delivery per
room that hears of them. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.lead_rooms import ConfiguredRooms, RoomSetup, addressees, setup_for
from bot.domain.participation import window
from bot.domain.reminder_policy import (
    Reminder,
    ReminderSettings,
    ThemeFacts,
    facts_for_steps,
    upcoming,
)
from bot.domain.themes import ThemeStatus, ThemeView
from bot.domain.working_days import WorkingCalendar


def theme_facts(view: ThemeView) -> ThemeFacts:
    """What the policy needs to know of a stored theme."""
    template = view.template
    definitions = {d.key: d for d in template.steps}
    steps = facts_for_steps([(definitions[s.key], s.due, s.state) for s in view.steps])
    found = window(view)
    return ThemeFacts(
        theme_id=view.id,
        name=view.theme.name,
        active=view.theme.status == ThemeStatus.active and bool(view.steps),
        steps=steps,
        participation_opens=found.opens if found else None,
        participation_closes=found.closes if found else None,
        participation_step=found.step_key if found else None,
        created_at=view.theme.created_at,
    )


@dataclass(frozen=True)
class Delivery:
    """One reminder for one room, ready to send."""

    reminder: Reminder
    room_id: str
    key: str  # readable, in the event content
    txn_id: str  # the sent-log's unique key and the Matrix transaction id


@dataclass(frozen=True)
class SentEntry:
    """A delivery as the sent-log holds it: pending until the homeserver has it."""

    key: str  # the delivery's txn_id
    room_id: str
    status: str  # "pending" or "sent"
    created_at: datetime
    event_id: str | None = None


def deliveries(reminder: Reminder, rooms: RoomSetup) -> list[Delivery]:
    """One delivery per room that hears of this reminder."""
    targets = addressees(reminder.audience, rooms)
    return [
        Delivery(reminder, t.room_id, reminder.key(t.room_id), reminder.txn_id(t.room_id))
        for t in targets
    ]


def coming(
    views: list[ThemeView],
    settings: ReminderSettings,
    rooms: ConfiguredRooms,
    calendar: WorkingCalendar,
    now: datetime,
    theme_id: int | None = None,
    *,
    horizon_days: int = 28,
    coordination_copies: bool = False,
) -> list[tuple[Reminder, str]]:
    """The next reminders with their rooms, for `!zt erinnerungen`."""
    by_id = {view.id: view for view in views}
    facts = [theme_facts(view) for view in views]
    result = []
    for reminder in upcoming(facts, now, settings, calendar, horizon_days):
        if theme_id is not None and reminder.theme_id not in (theme_id, None):
            continue
        view = by_id.get(reminder.theme_id or -1)
        setup = setup_for(
            rooms, view.theme if view else None, coordination_copies=coordination_copies
        )
        for delivery in deliveries(reminder, setup):
            result.append((reminder, delivery.room_id))
    return result
