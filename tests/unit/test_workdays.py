"""domain.working_days: Monday to Friday without the public holidays of North Rhine-Westphalia."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.working_days import WorkingCalendar

CALENDAR = WorkingCalendar()
DAYS = st.dates(min_value=date(2025, 1, 1), max_value=date(2032, 12, 31))


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2027, 1, 1), "Neujahr"),
        (date(2027, 3, 26), "Karfreitag"),
        (date(2027, 3, 29), "Ostermontag"),
        (date(2027, 5, 6), "Christi Himmelfahrt"),
        (date(2027, 5, 17), "Pfingstmontag"),
        (date(2027, 5, 27), "Fronleichnam"),  # NRW, not every state
        (date(2027, 11, 1), "Allerheiligen"),  # NRW, not every state
    ],
)
def test_nrw_public_holidays_are_no_working_days(day: date, name: str) -> None:
    assert day.weekday() < 5
    assert CALENDAR.holiday_name(day) == name
    assert not CALENDAR.is_working_day(day)


@pytest.mark.parametrize(
    "day",
    [
        date(2027, 11, 17),  # Buß- und Bettag: Saxony only
        date(2027, 8, 16),  # the Monday after Mariä Himmelfahrt (Bavaria, Saarland)
        date(2027, 3, 8),  # Frauentag: Berlin and Mecklenburg-Vorpommern only
        date(2027, 2, 8),  # Rosenmontag: customary in the Rhineland, not a public holiday
    ],
)
def test_holidays_of_other_states_and_customs_are_working_days(day: date) -> None:
    assert CALENDAR.holiday_name(day) is None
    assert CALENDAR.is_working_day(day)


def test_weekends_are_no_working_days() -> None:
    assert not CALENDAR.is_working_day(date(2027, 4, 10))  # Saturday
    assert not CALENDAR.is_working_day(date(2027, 4, 11))  # Sunday
    assert CALENDAR.is_working_day(date(2027, 4, 12))  # Monday


def test_on_or_before_and_after_step_over_easter() -> None:
    good_friday, easter_monday = date(2027, 3, 26), date(2027, 3, 29)
    assert CALENDAR.on_or_before(good_friday) == date(2027, 3, 25)
    assert CALENDAR.on_or_before(easter_monday) == date(2027, 3, 25)
    assert CALENDAR.on_or_after(good_friday) == date(2027, 3, 30)
    assert CALENDAR.on_or_after(date(2027, 3, 25)) == date(2027, 3, 25)


def test_add_working_days_skips_weekends_and_holidays() -> None:
    assert CALENDAR.add_working_days(date(2027, 3, 25), 1) == date(2027, 3, 30)
    assert CALENDAR.add_working_days(date(2027, 3, 23), 3) == date(2027, 3, 30)
    assert CALENDAR.add_working_days(date(2027, 4, 10), 3) == date(2027, 4, 14)  # from Saturday
    assert CALENDAR.add_working_days(date(2027, 3, 30), -1) == date(2027, 3, 25)
    assert CALENDAR.add_working_days(date(2027, 3, 28), 0) == date(2027, 3, 28)


def test_year_boundary() -> None:
    # 31.12.2027 is a Friday, 1.1.2028 a Saturday (Neujahr): Monday 3.1.2028 is next.
    assert CALENDAR.add_working_days(date(2027, 12, 31), 1) == date(2028, 1, 3)
    assert CALENDAR.on_or_before(date(2028, 1, 2)) == date(2027, 12, 31)


def test_holidays_are_computed_once_per_year_and_instance() -> None:
    calendar = WorkingCalendar()
    calendar.is_working_day(date(2027, 5, 27))
    first = calendar._holidays(2027)
    calendar.holiday_name(date(2027, 12, 25))
    assert calendar._holidays(2027) is first
    assert WorkingCalendar()._holidays(2027) is not first  # no shared module state


def test_other_subdivision() -> None:
    bavaria = WorkingCalendar(subdiv="BY")
    assert bavaria.holiday_name(date(2027, 1, 6)) == "Heilige Drei Könige"
    assert CALENDAR.is_working_day(date(2027, 1, 6))


@given(DAYS)
def test_on_or_before_is_the_last_working_day(day: date) -> None:
    found = CALENDAR.on_or_before(day)
    assert found <= day
    assert CALENDAR.is_working_day(found)
    between = (found + timedelta(days=k) for k in range(1, (day - found).days + 1))
    assert not any(CALENDAR.is_working_day(other) for other in between)


@given(DAYS)
def test_on_or_after_is_the_first_working_day(day: date) -> None:
    found = CALENDAR.on_or_after(day)
    assert found >= day
    assert CALENDAR.is_working_day(found)
    between = (day + timedelta(days=k) for k in range((found - day).days))
    assert not any(CALENDAR.is_working_day(other) for other in between)


@given(DAYS, st.integers(min_value=-30, max_value=30))
def test_add_working_days_counts_exactly_n(day: date, n: int) -> None:
    found = CALENDAR.add_working_days(day, n)
    low, high = sorted((day, found))
    # Working days in (low, high] for forward steps, [low, high) for backward ones.
    span = [low + timedelta(days=k) for k in range(1, (high - low).days + 1)]
    if n < 0:
        span = [low + timedelta(days=k) for k in range((high - low).days)]
    assert sum(CALENDAR.is_working_day(other) for other in span) == abs(n)
    if n:
        assert CALENDAR.is_working_day(found)


@given(DAYS)
def test_working_day_means_weekday_and_no_holiday(day: date) -> None:
    expected = day.weekday() < 5 and CALENDAR.holiday_name(day) is None
    assert CALENDAR.is_working_day(day) is expected
