"""Public and school holidays between two dates, as the charts shade them."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.annual_plan import SchoolHolidays
from bot.domain.working_days import WorkingCalendar

_DAY = timedelta(days=1)


def public_holidays(
    calendar: WorkingCalendar, first: date, last: date
) -> tuple[tuple[date, str], ...]:
    found = []
    day = first
    while day <= last:
        name = calendar.holiday_name(day)
        if name:
            found.append((day, name))
        day += _DAY
    return tuple(found)


def school_breaks(
    school: SchoolHolidays, first: date, last: date
) -> tuple[tuple[date, date, str], ...]:
    """Each school break as (first day, last day, name), joined over weekends."""
    breaks: list[tuple[date, date, str]] = []
    day = first
    while day <= last:
        name = school.name(day)
        if name:
            if breaks and breaks[-1][2] == name and (day - breaks[-1][1]).days <= 3:
                breaks[-1] = (breaks[-1][0], day, name)
            else:
                breaks.append((day, day, name))
        day += _DAY
    return tuple(breaks)
