"""The follow-up of adopted improvement ideas (`!zt kvp übernommen 3 @anna bis
01.06.2027`): the owner is reminded once on that day, in the coordination room, until
`!zt kvp umgesetzt 3` closes the idea. Pure: the ideas and `now` in, reminders out.

The reminders go through the same sent-log as the steps' (exactly once, caught up once
after downtime): the theme is the idea's, the "step" is `kvp-<Nr>`, the step date is the
follow-up day, so a new day makes a new reminder and voids the old one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

from bot.domain.process import Lead
from bot.domain.reminder_policy import Reminder, ReminderKind, ReminderSettings, send_at
from bot.domain.working_days import WorkingCalendar

STEP_PREFIX = "kvp-"
# A missed follow-up is caught up for this long after its day, then it is left to the
# `kvp` list (which shows it as due).
CATCH_UP = timedelta(days=30)
# `bis <Datum>` in `kvp übernommen`.
_UNTIL = re.compile(r"(?:^|\s)(?:bis|until|by|am)\s+(?P<day>\S.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class FollowUp:
    """An adopted idea with a day, not yet put into practice."""

    idea_id: int
    theme_id: int
    day: date
    owner: str | None
    adopted_on: date


def step_key(idea_id: int) -> str:
    return f"{STEP_PREFIX}{idea_id}"


def idea_of(key: str) -> int | None:
    """The idea a reminder's step key names, None for a step of the process."""
    number = key.removeprefix(STEP_PREFIX)
    return int(number) if key.startswith(STEP_PREFIX) and number.isdigit() else None


def split_until(text: str) -> tuple[str, str | None]:
    """(the text before `bis …`, the date as typed after it, or None)."""
    found = _UNTIL.search(text.strip())
    if found is None:
        return text.strip(), None
    return text.strip()[: found.start()].strip(), found["day"].strip()


def _reminder(item: FollowUp, calendar: WorkingCalendar) -> Reminder:
    # On a day off the working day before, but never before the idea was adopted.
    send_on = max(calendar.on_or_before(item.day), item.adopted_on)
    return Reminder(
        theme_id=item.theme_id,
        step_key=step_key(item.idea_id),
        kind=ReminderKind.idea_follow_up,
        n=1,
        step_date=item.day,
        send_on=send_on,
        to_coordination=True,
        leads=(Lead.koordination,),
    )


def due_follow_ups(
    items: Iterable[FollowUp],
    now: datetime,
    settings: ReminderSettings,
    calendar: WorkingCalendar,
) -> list[Reminder]:
    """The follow-ups whose send time has come (the engine's sent-log keeps them once)."""
    zone = now.tzinfo
    assert zone is not None, "now must be timezone-aware"
    found = []
    for item in items:
        reminder = _reminder(item, calendar)
        at = send_at(reminder, settings, zone)
        if at.astimezone(UTC) > now.astimezone(UTC) or now.date() - item.day > CATCH_UP:
            continue
        late = now.date() > reminder.send_on
        found.append(replace(reminder, late=late))
    return found


def next_follow_up(
    items: Iterable[FollowUp],
    now: datetime,
    settings: ReminderSettings,
    calendar: WorkingCalendar,
) -> datetime | None:
    """When the next follow-up falls due (the engine wakes then)."""
    zone = now.tzinfo
    assert zone is not None, "now must be timezone-aware"
    times = [send_at(_reminder(item, calendar), settings, zone) for item in items]
    ahead = [at for at in times if at.astimezone(UTC) > now.astimezone(UTC)]
    return min(ahead) if ahead else None
