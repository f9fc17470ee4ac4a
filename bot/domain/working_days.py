"""Working days: Monday to Friday, except public holidays (default: North Rhine-Westphalia).

Reminders go out on working days only (DESIGN.md section 5). Pure: the holiday tables
come from the `holidays` package, which computes them; no I/O and no clock reads.
"""

from __future__ import annotations

from datetime import date, timedelta

import holidays

_ONE_DAY = timedelta(days=1)
# Saturday and Sunday (date.weekday()).
_WEEKEND = frozenset({5, 6})


class WorkingCalendar:
    """Working-day arithmetic for one country and subdivision, public holidays only.

    Each year's holiday table is computed once per instance and kept on it, so a long
    running bot asks the package once per year, and tests get a fresh cache per calendar.
    """

    def __init__(self, country: str = "DE", subdiv: str = "NW", language: str = "de") -> None:
        self.country = country
        self.subdiv = subdiv
        self.language = language
        self._by_year: dict[int, dict[date, str]] = {}

    def _holidays(self, year: int) -> dict[date, str]:
        table = self._by_year.get(year)
        if table is None:
            found = holidays.country_holidays(
                self.country,
                subdiv=self.subdiv,
                years=year,
                language=self.language,
                categories=(holidays.PUBLIC,),
            )
            table = {day: str(name) for day, name in found.items()}
            self._by_year[year] = table
        return table

    def holiday_name(self, day: date) -> str | None:
        """The public holiday's name (German by default), or None on an ordinary day."""
        return self._holidays(day.year).get(day)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() not in _WEEKEND and day not in self._holidays(day.year)

    def on_or_before(self, day: date) -> date:
        """The working day itself, else the last working day before it."""
        while not self.is_working_day(day):
            day -= _ONE_DAY
        return day

    def on_or_after(self, day: date) -> date:
        """The working day itself, else the first working day after it."""
        while not self.is_working_day(day):
            day += _ONE_DAY
        return day

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (before it for negative n; `day` for 0).

        `day` itself need not be a working day: three working days after a Saturday
        are Monday, Tuesday, Wednesday.
        """
        step = _ONE_DAY if n >= 0 else -_ONE_DAY
        remaining = abs(n)
        while remaining:
            day += step
            if self.is_working_day(day):
                remaining -= 1
        return day
