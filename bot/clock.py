"""The one clock. Everything that needs `now` gets it from here, as a parameter.

For tests and demos the clock can run shifted (`ZT_CLOCK_OFFSET=+7d`): the bot then
behaves as it will a week from now. This is a testing aid, not a production setting.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.sentences import CodedError

ENV_CLOCK_OFFSET = "ZT_CLOCK_OFFSET"
_OFFSET = re.compile(r"^\s*([+-])\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


class OffsetError(CodedError, ValueError):
    """ZT_CLOCK_OFFSET is not a shift like `+7d`; the words are config.j2's `clock_offset`."""

    template = "config"


def parse_offset(text: str) -> timedelta:
    """`+7d`, `-2h`, `+90m`, `+1w`; empty means no shift."""
    if not text.strip():
        return timedelta(0)
    match = _OFFSET.match(text)
    if match is None:
        raise OffsetError("clock_offset", name=ENV_CLOCK_OFFSET, value=repr(text))
    amount = timedelta(**{_UNITS[match[3]]: int(match[2])})
    return -amount if match[1] == "-" else amount


def _system_utc() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Clock:
    zone: ZoneInfo
    offset: timedelta = timedelta(0)
    source: Callable[[], datetime] = field(default=_system_utc, repr=False)

    def now(self) -> datetime:
        """Timezone-aware local time, shifted by the testing offset."""
        return (self.source() + self.offset).astimezone(self.zone)

    def wall(self) -> datetime:
        """The unshifted time, for comparing with homeserver timestamps."""
        return self.source()
