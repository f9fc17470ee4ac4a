"""Milestones of the city's other strategies (Smart City Strategie, Masterplan Mobilität,
Verwaltung 2.030, Global Nachhaltige Kommune): not themes, but dates the year plan is
coordinated with ("Jahresplanung in Abstimmung mit …"). Pure."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.dates import CalendarWeek, DateSpec, ExactDate, Quarter, format_date, format_week


@dataclass(frozen=True)
class Milestone:
    name: str
    first_day: date
    last_day: date
    # As shown: "15.05.2027", "KW 20/2027", "Q3/2027", "Q2–Q3/2027".
    written: str
    precision: str  # "day", "week" or "quarter"
    added_by: str = ""
    changed_at: datetime | None = None

    @property
    def quarter(self) -> int:
        """The quarter of the year plan it is shown in: the one it begins in."""
        return (self.first_day.month - 1) // 3 + 1

    @property
    def has_week(self) -> bool:
        """A day or a week: a Z2 in that week competes with it. A quarter-long
        milestone is context, not a clash with every Z2 of the quarter."""
        return self.precision in ("day", "week")

    def touches_week_of(self, day: date) -> bool:
        monday = day - timedelta(days=day.weekday())
        return self.first_day <= monday + timedelta(days=6) and monday <= self.last_day


def milestone_span(spec: DateSpec) -> tuple[date, date, str, str]:
    """(first day, last day, as written, precision) of a date as typed."""
    if isinstance(spec, ExactDate):
        return spec.day, spec.day, format_date(spec.day), "day"
    if isinstance(spec, CalendarWeek):
        monday = spec.first_day
        return monday, monday + timedelta(days=6), format_week(monday, with_year=True), "week"
    if isinstance(spec, Quarter):
        return spec.first_day, spec.last_day, str(spec), "quarter"
    raise TypeError(spec)
