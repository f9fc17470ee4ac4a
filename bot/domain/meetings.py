"""A meeting's time and place (issue 21 point 1): `!zt termin … 14:00–16:00`, `!zt ort …`.

Only meeting steps (Z1, Z2, the party meetings, the council) take a time; a time is a
wall-clock time in the city's zone on the step's day, the end is optional (a calendar
shows two hours then). A place is free text: a room, an address, a video link. Pure:
text in, values or a MeetingError out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from bot.domain.process import StepDefinition, StepKind
from bot.domain.themes import StepRecord

# A meeting without an end lasts this long in a calendar.
DEFAULT_LENGTH = timedelta(hours=2)
# A place is one line, short enough for a reminder headline and an .ics LOCATION.
PLACE_LIMIT = 200

# `14:00`, `14.00`, `9:30`, `14:00–16:00`, `14:00 - 16:00`, `14:00 bis 16:00`, `… Uhr`.
# The time stands alone after whitespace, so a date's `12.04.2027` is never read as one.
_CLOCK = r"(?P<{0}h>\d{{1,2}})[:.](?P<{0}m>\d{{2}})"
_TIME_RANGE = re.compile(
    rf"(?:^|\s){_CLOCK.format('s')}(?:\s*(?:–|—|-|bis|to)\s*{_CLOCK.format('e')})?"
    r"(?:\s*Uhr)?$",
    re.IGNORECASE,
)


class MeetingError(ValueError):
    """Why a time or place cannot be used; `code` selects the German explanation."""

    def __init__(self, code: str, text: str = "") -> None:
        super().__init__(code, text)
        self.code = code
        self.text = text


@dataclass(frozen=True)
class MeetingTime:
    starts: time
    ends: time | None = None


def _clock(hours: str, minutes: str, text: str) -> time:
    try:
        return time(int(hours), int(minutes))
    except ValueError as err:
        raise MeetingError("impossible_time", text) from err


def split_trailing_time(text: str) -> tuple[str, MeetingTime | None]:
    """(the text before it, the time) for a text that may end in `HH:MM[–HH:MM]`."""
    stripped = text.strip()
    match = _TIME_RANGE.search(stripped)
    if match is None:
        return stripped, None
    found = match.group(0).strip()
    starts = _clock(match["sh"], match["sm"], found)
    ends = _clock(match["eh"], match["em"], found) if match["eh"] is not None else None
    if ends is not None and ends <= starts:
        raise MeetingError("end_before_start", found)
    return stripped[: match.start()].strip(), MeetingTime(starts, ends)


def takes_time(definition: StepDefinition) -> bool:
    """Only meetings happen at a time; deadlines, phases and continuous steps have days."""
    return definition.kind == StepKind.meeting


def check_place(text: str) -> str:
    """The place as stored: one line, printable, at most PLACE_LIMIT characters."""
    value = " ".join("".join(ch for ch in text if ch.isprintable() or ch.isspace()).split())
    if not value:
        raise MeetingError("place_missing")
    if len(value) > PLACE_LIMIT:
        raise MeetingError("place_too_long", value[:40])
    return value


def meeting_time(step: StepRecord) -> MeetingTime | None:
    return MeetingTime(step.starts_at, step.ends_at) if step.starts_at is not None else None


def starts_and_ends(day: date, when: MeetingTime, zone: tzinfo) -> tuple[datetime, datetime]:
    """The meeting's start and end as aware times in `zone` (the end: two hours after the
    start when none is given)."""
    start = datetime.combine(day, when.starts, tzinfo=zone)
    if when.ends is None:
        # Wall-clock arithmetic: two hours on the clock, whatever the day's UTC offset.
        return start, start + DEFAULT_LENGTH
    return start, datetime.combine(day, when.ends, tzinfo=zone)


def format_time(when: MeetingTime) -> str:
    """`14:00` or `14:00–16:00`, as people write it."""
    start = when.starts.strftime("%H:%M")
    return f"{start}–{when.ends.strftime('%H:%M')}" if when.ends is not None else start
