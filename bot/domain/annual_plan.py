"""The annual plan (`!zt jahresplan`): a year's themes by quarter, and what to look out for.

Pure: the themes (PlannedTheme: what the plan needs of each), a year and two holiday
tables in, an AnnualPlan out. The tables come from the `holidays` package, which computes
them (no I/O, no clock reads). Warnings:

- two or more themes whose Z2 fall into the same ISO week;
- a Z2 in the week of a milestone of another strategy (a day or a week; a quarter-long
  one is context, not a clash);
- an open step of a running or paused theme whose date lies in the year and falls on a
  public holiday or a weekend, and a meeting in the school holidays (a deadline or the
  continuous step 7 does not need anyone to come).

Milestones of the city's other strategies (domain.milestones) are listed in the quarter
they begin in. A running theme is "geplant" until its first step begins.

School holidays are decided year by year (the KMK publishes them a few years ahead), so
the package knows them only up to some date. Beyond it the plan says "Ferien unbekannt"
instead of silently finding none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

import holidays

from bot.domain.dates import DateError, Quarter, parse_date_spec
from bot.domain.milestones import Milestone
from bot.domain.process import ProcessTemplate, StepKind
from bot.domain.themes import StepState, ThemeStatus, ThemeView
from bot.domain.working_days import WorkingCalendar

QUARTERS = (1, 2, 3, 4)
# Saturday and Sunday (date.weekday()).
_WEEKEND = frozenset({5, 6})


class SchoolHolidays:
    """School holidays for one country and subdivision (default: North Rhine-Westphalia).

    Each year's table is computed once per instance and kept on it: no module state,
    and tests get a fresh cache per object.
    """

    def __init__(self, country: str = "DE", subdiv: str = "NW", language: str = "de") -> None:
        self.country = country
        self.subdiv = subdiv
        self.language = language
        self._by_year: dict[int, dict[date, str]] = {}

    def _table(self, year: int) -> dict[date, str]:
        table = self._by_year.get(year)
        if table is None:
            try:
                found = holidays.country_holidays(
                    self.country,
                    subdiv=self.subdiv,
                    years=year,
                    language=self.language,
                    categories=(holidays.SCHOOL,),
                )
                table = {day: str(name) for day, name in found.items()}
            except (NotImplementedError, ValueError):  # a country without school holidays
                table = {}
            self._by_year[year] = table
        return table

    def known_until(self, year: int) -> date | None:
        """The last day of `year` whose school holidays are known; None: none are.

        The package lists the breaks each year; a year is complete when its Christmas
        break (the last one) is there. Where the data ends earlier (the autumn break not
        yet decided), days after the last known break are unknown, not free.
        """
        table = self._table(year)
        if not table:
            return None
        last = max(table)
        return date(year, 12, 31) if last.month == 12 else last

    def is_known(self, day: date) -> bool:
        until = self.known_until(day.year)
        return until is not None and day <= until

    def name(self, day: date) -> str | None:
        """The break's name (German by default), or None on a school day or where unknown."""
        return self._table(day.year).get(day)


@dataclass(frozen=True)
class PlannedTheme:
    """What the year plan needs of a theme, and nothing more: a year holds a thousand
    themes, and their people, papers and documents are not part of the plan."""

    name: str
    status: str  # ThemeStatus value
    z2: date | None
    planned_quarter: str | None
    template: ProcessTemplate
    # The earliest date of any step: until then a running theme is "geplant".
    first_due: date | None
    # The open steps as (key, date), in the process's order: those of the plan's year
    # at least (the plan looks at no other).
    open_steps: tuple[tuple[str, date], ...]

    @classmethod
    def of(cls, view: ThemeView) -> PlannedTheme:
        theme = view.theme
        return cls(
            name=theme.name,
            status=str(theme.status),
            z2=theme.z2,
            planned_quarter=theme.planned_quarter,
            template=view.template,
            first_due=min((step.due for step in view.steps), default=None),
            open_steps=tuple(
                (step.key, step.due) for step in view.steps if step.state == StepState.open
            ),
        )


@dataclass(frozen=True)
class PlanEntry:
    """One theme in a quarter: its Z2, or as an idea its planned quarter."""

    name: str
    # ThemeStatus value: active (läuft), paused, archived, idea; or "planned" (geplant):
    # active, but its first step has not begun.
    status: str
    z2: date | None
    planned_quarter: str | None
    warnings: int  # how many warnings below name this theme

    @property
    def is_idea(self) -> bool:
        return self.z2 is None


@dataclass(frozen=True)
class QuarterPlan:
    quarter: int
    entries: tuple[PlanEntry, ...]
    # Milestones of other strategies that begin in the quarter, by date.
    milestones: tuple[Milestone, ...] = ()


@dataclass(frozen=True)
class MilestoneClash:
    """A Z2 in the week of another strategy's milestone."""

    theme: str
    z2: date
    milestone: Milestone


@dataclass(frozen=True)
class WeekConflict:
    """Two or more themes whose Z2 fall into the same ISO week."""

    monday: date
    themes: tuple[str, ...]  # in order of their Z2

    @property
    def sunday(self) -> date:
        return self.monday + timedelta(days=6)


@dataclass(frozen=True)
class StepWarning:
    """A step date that falls on a public holiday, a weekend or into the school holidays."""

    theme: str
    key: str
    label: str
    day: date
    holiday: str | None
    weekend: bool
    school_break: str | None


@dataclass(frozen=True)
class AnnualPlan:
    year: int
    quarters: tuple[QuarterPlan, ...]  # always Q1 to Q4
    conflicts: tuple[WeekConflict, ...]
    step_warnings: tuple[StepWarning, ...]
    # The first day of the year whose school holidays are not known (None: all known).
    school_holidays_unknown_from: date | None
    milestone_clashes: tuple[MilestoneClash, ...] = ()

    # Cached: the answer's template asks for these on many lines, of a thousand entries.
    @cached_property
    def milestones(self) -> tuple[Milestone, ...]:
        return tuple(m for quarter in self.quarters for m in quarter.milestones)

    @cached_property
    def entries(self) -> tuple[PlanEntry, ...]:
        return tuple(entry for quarter in self.quarters for entry in quarter.entries)

    @cached_property
    def is_empty(self) -> bool:
        return not self.entries and not self.milestones

    @cached_property
    def ideas(self) -> int:
        return sum(1 for entry in self.entries if entry.is_idea)

    @property
    def school_holidays_unknown(self) -> bool:
        """Ferien unbekannt: part of the year could not be checked for school holidays."""
        return self.school_holidays_unknown_from is not None

    @property
    def school_holidays_unknown_all_year(self) -> bool:
        return self.school_holidays_unknown_from == date(self.year, 1, 1)

    @property
    def warning_count(self) -> int:
        return len(self.conflicts) + len(self.step_warnings) + len(self.milestone_clashes)

    @cached_property  # asked once per line of the plain text
    def name_width(self) -> int:
        """For the plain text: names padded to the longest one, within reason."""
        names = [entry.name for entry in self.entries] + [m.name for m in self.milestones]
        return min(max((len(name) for name in names), default=0), 40)


def quarter_of(day: date) -> int:
    return (day.month - 1) // 3 + 1


def planned_quarter(text: str | None) -> Quarter | None:
    """An idea's planned quarter as stored ("Q4/2027"), or None if it is not one."""
    if not text:
        return None
    try:
        spec = parse_date_spec(text, allow_quarter=True)
    except DateError:
        return None
    return spec if isinstance(spec, Quarter) else None


def _same_week(themes: Iterable[PlannedTheme], year: int) -> list[WeekConflict]:
    """ISO weeks with two or more Z2, where at least one of them lies in `year`.

    A week at the turn of the year counts for both years, so neither plan hides it.
    """
    by_week: dict[tuple[int, int], list[tuple[date, str]]] = defaultdict(list)
    for theme in themes:
        z2 = theme.z2
        if z2 is not None:
            iso = z2.isocalendar()
            by_week[(iso.year, iso.week)].append((z2, theme.name))
    conflicts = []
    for (iso_year, week), found in sorted(by_week.items()):
        if len(found) > 1 and any(z2.year == year for z2, _ in found):
            ordered = sorted(found, key=lambda item: (item[0], item[1].casefold()))
            monday = date.fromisocalendar(iso_year, week, 1)
            conflicts.append(WeekConflict(monday, tuple(name for _, name in ordered)))
    return conflicts


def _step_warnings(
    themes: Iterable[PlannedTheme], year: int, calendar: WorkingCalendar, school: SchoolHolidays
) -> list[StepWarning]:
    warnings = []
    # Themes share their template's copies: each step's definition looked up once; and
    # a year has 365 days but a thousand themes' steps: each day's facts looked up once.
    known: dict[tuple[int, str], tuple[str, bool]] = {}
    days: dict[date, tuple[str | None, bool, str | None]] = {}
    for theme in themes:
        template = theme.template
        for key, due in theme.open_steps:
            if due.year != year:
                continue
            found = known.get((id(template), key))
            if found is None:
                definition = template.step(key)
                found = (
                    definition.label if definition else key,
                    definition is not None and definition.kind == StepKind.meeting,
                )
                known[(id(template), key)] = found
            label, meeting = found
            facts = days.get(due)
            if facts is None:
                facts = days[due] = (
                    calendar.holiday_name(due),
                    due.weekday() in _WEEKEND,
                    school.name(due),
                )
            holiday, weekend, break_name = facts
            # Only a meeting needs people to come: a deadline in the holidays is no clash.
            school_break = break_name if meeting else None
            if holiday or weekend or school_break:
                warnings.append(
                    StepWarning(
                        theme=theme.name,
                        key=key,
                        label=label,
                        day=due,
                        holiday=holiday,
                        weekend=weekend,
                        school_break=school_break,
                    )
                )
    return sorted(warnings, key=lambda w: (w.day, w.theme.casefold(), w.key))


def _milestone_clashes(
    themes: Iterable[PlannedTheme], milestones: Iterable[Milestone], year: int
) -> list[MilestoneClash]:
    with_week = [m for m in milestones if m.has_week]
    clashes = [
        MilestoneClash(theme.name, theme.z2, milestone)
        for theme in themes
        if theme.z2 is not None and theme.z2.year == year
        for milestone in with_week
        if milestone.touches_week_of(theme.z2)
    ]
    return sorted(clashes, key=lambda c: (c.z2, c.theme.casefold(), c.milestone.name))


def _shown_status(theme: PlannedTheme, today: date | None) -> str:
    """läuft once the first step has begun; before that, geplant."""
    if theme.status != ThemeStatus.active or today is None or theme.first_due is None:
        return theme.status
    return "planned" if theme.first_due > today else theme.status


def build_annual_plan(
    themes: Iterable[PlannedTheme | ThemeView],
    year: int,
    calendar: WorkingCalendar,
    school: SchoolHolidays,
    *,
    milestones: Iterable[Milestone] = (),
    today: date | None = None,
) -> AnnualPlan:
    """The year's themes by quarter (Z2, or an idea's planned quarter), and its warnings.

    Archived themes are listed, marked, but raise no warnings: their process is over.
    Done and skipped steps raise none either; only what is still ahead is worth moving.
    """
    planned = [t if isinstance(t, PlannedTheme) else PlannedTheme.of(t) for t in themes]
    current = [t for t in planned if t.status != ThemeStatus.archived]
    conflicts = _same_week(current, year)
    step_warnings = _step_warnings(current, year, calendar, school)
    of_year = sorted(
        (m for m in milestones if m.first_day.year == year),
        key=lambda m: (m.first_day, m.name.casefold()),
    )
    clashes = _milestone_clashes(current, of_year, year)

    per_theme: dict[str, int] = defaultdict(int)
    for conflict in conflicts:
        for name in conflict.themes:
            per_theme[name] += 1
    for warning in step_warnings:
        per_theme[warning.theme] += 1
    for clash in clashes:
        per_theme[clash.theme] += 1

    by_quarter: dict[int, list[tuple[tuple, PlanEntry]]] = defaultdict(list)
    for theme in planned:
        if theme.z2 is not None:
            if theme.z2.year != year:
                continue
            quarter = quarter_of(theme.z2)
            order: tuple = (0, theme.z2, theme.name.casefold())
        else:
            idea_quarter = planned_quarter(theme.planned_quarter)
            if idea_quarter is None or idea_quarter.year != year:
                continue
            quarter = idea_quarter.quarter
            order = (1, date.min, theme.name.casefold())
        entry = PlanEntry(
            name=theme.name,
            status=_shown_status(theme, today),
            z2=theme.z2,
            planned_quarter=theme.planned_quarter if theme.z2 is None else None,
            warnings=per_theme.get(theme.name, 0),
        )
        by_quarter[quarter].append((order, entry))

    quarters = tuple(
        QuarterPlan(
            q,
            tuple(entry for _, entry in sorted(by_quarter[q], key=lambda i: i[0])),
            tuple(m for m in of_year if m.quarter == q),
        )
        for q in QUARTERS
    )
    known_until = school.known_until(year)
    if known_until is None:
        unknown_from: date | None = date(year, 1, 1)
    elif known_until < date(year, 12, 31):
        unknown_from = known_until + timedelta(days=1)
    else:
        unknown_from = None
    return AnnualPlan(
        year=year,
        quarters=quarters,
        conflicts=tuple(conflicts),
        step_warnings=tuple(step_warnings),
        school_holidays_unknown_from=unknown_from,
        milestone_clashes=tuple(clashes),
    )
