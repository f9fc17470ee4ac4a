"""domain.timeline: step dates from Z2, computed with dates (never with week numbers)."""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.process import load_template
from bot.domain.timeline import (
    first_council_on_or_after,
    iso_week,
    milestone_dates,
    plan,
)

TEMPLATE = load_template()
KEYS = ["1", "2", "3", "3a", "4", "5", "6", "7"]
OFFSETS = {"1": -10, "2": -4, "3": -3, "3a": -2, "4": 0, "5": 2, "6": 4}
Z2_KW15 = date.fromisocalendar(2027, 15, 1)  # 2027-04-12


def _dues(steps) -> dict[str, date]:
    return {step.key: step.due for step in steps}


def test_worked_example_from_the_concept() -> None:
    assert date(2027, 4, 12) == Z2_KW15
    steps = plan(TEMPLATE, Z2_KW15)
    assert [step.key for step in steps] == KEYS
    assert [iso_week(step.due) for step in steps] == [
        (2027, 5),
        (2027, 11),
        (2027, 12),
        (2027, 13),
        (2027, 15),
        (2027, 17),
        (2027, 19),
        (2027, 20),
    ]
    assert [step.due.strftime("%d.%m.%Y") for step in steps] == [
        "01.02.2027",
        "15.03.2027",
        "22.03.2027",
        "29.03.2027",
        "12.04.2027",
        "26.04.2027",
        "10.05.2027",
        "17.05.2027",
    ]
    assert all(step.planned is None for step in steps)


def test_council_meeting_moves_step_6_and_step_7_follows() -> None:
    steps = _by_key(plan(TEMPLATE, Z2_KW15, council_meetings=[date(2027, 5, 20)]))
    assert steps["6"].due == date(2027, 5, 20)
    assert steps["6"].planned == date(2027, 5, 10)
    assert steps["7"].due == date(2027, 5, 27)
    assert iso_week(steps["7"].due) == (2027, 21)
    assert steps["7"].planned is None
    # Only the council step moves.
    assert _dues(plan(TEMPLATE, Z2_KW15)) | {"6": date(2027, 5, 20), "7": date(2027, 5, 27)} == {
        key: step.due for key, step in steps.items()
    }


def test_council_meeting_before_the_step_is_ignored() -> None:
    steps = _by_key(plan(TEMPLATE, Z2_KW15, council_meetings=[date(2027, 5, 6)]))
    assert steps["6"].due == date(2027, 5, 10)
    assert steps["6"].planned is None


def test_council_meeting_on_the_planned_day_is_no_move() -> None:
    steps = _by_key(plan(TEMPLATE, Z2_KW15, council_meetings=[date(2027, 5, 10)]))
    assert steps["6"].due == date(2027, 5, 10)
    assert steps["6"].planned is None


def test_first_council_meeting_on_or_after_wins() -> None:
    meetings = [date(2027, 7, 1), date(2027, 5, 4), date(2027, 6, 3), date(2027, 5, 27)]
    steps = _by_key(plan(TEMPLATE, Z2_KW15, council_meetings=iter(meetings)))
    assert steps["6"].due == date(2027, 5, 27)
    assert first_council_on_or_after(date(2027, 8, 1), meetings) is None


def test_z2_early_in_the_year_puts_step_1_into_the_previous_year() -> None:
    z2 = date.fromisocalendar(2027, 2, 1)
    assert z2 == date(2027, 1, 11)
    first = plan(TEMPLATE, z2)[0]
    assert first.due == z2 - timedelta(days=70) == date(2026, 11, 2)
    assert iso_week(first.due) == (2026, 45)


def test_week_53_of_2026_is_counted() -> None:
    # 2026 has 53 ISO weeks; "KW 8 - 10 weeks" is KW 51/2026, not KW 50.
    z2 = date.fromisocalendar(2027, 8, 1)
    steps = _by_key(plan(TEMPLATE, z2))
    assert steps["1"].due == z2 - timedelta(days=70) == date(2026, 12, 14)
    assert iso_week(steps["1"].due) == (2026, 51)
    assert iso_week(steps["2"].due) == (2027, 4)


def test_pinned_step_keeps_its_date() -> None:
    pin = date(2027, 3, 24)
    steps = _by_key(plan(TEMPLATE, Z2_KW15, pinned={"3": pin}))
    assert steps["3"].due == pin
    assert steps["3"].planned is None
    unpinned = _dues(plan(TEMPLATE, Z2_KW15))
    assert {k: s.due for k, s in steps.items() if k != "3"} == {
        k: d for k, d in unpinned.items() if k != "3"
    }


def test_pinned_keys_are_case_insensitive_and_anchored_steps_follow() -> None:
    steps = _by_key(
        plan(TEMPLATE, Z2_KW15, pinned={"3A": date(2027, 3, 31), "6": date(2027, 6, 1)})
    )
    assert steps["3a"].due == date(2027, 3, 31)
    assert steps["6"].due == date(2027, 6, 1)
    assert steps["7"].due == date(2027, 6, 8)


def test_pin_beats_council_meeting() -> None:
    steps = _by_key(
        plan(
            TEMPLATE, Z2_KW15, council_meetings=[date(2027, 5, 20)], pinned={"6": date(2027, 7, 1)}
        )
    )
    assert steps["6"].due == date(2027, 7, 1)
    assert steps["7"].due == date(2027, 7, 8)


def test_milestones_of_the_worked_example() -> None:
    assert milestone_dates(TEMPLATE, Z2_KW15) == {
        "beteiligung-start": date(2027, 3, 1),
        "beteiligung-ende": date(2027, 3, 29),
    }


def _by_key(steps):
    return {step.key: step for step in steps}


# --- properties -------------------------------------------------------------------------

z2_dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(z2_dates)
def test_every_step_is_z2_plus_whole_weeks(z2: date) -> None:
    steps = _by_key(plan(TEMPLATE, z2))
    for key, weeks in OFFSETS.items():
        assert steps[key].due == z2 + timedelta(days=7 * weeks)
    assert steps["7"].due == steps["6"].due + timedelta(days=7)
    assert all(step.due.weekday() == z2.weekday() for step in steps.values())
    assert all(step.planned is None for step in steps.values())


@given(z2_dates)
def test_steps_are_in_date_order(z2: date) -> None:
    dues = [step.due for step in plan(TEMPLATE, z2)]
    assert dues == sorted(dues)


@given(
    z2_dates,
    st.lists(st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)), max_size=6),
)
def test_council_snap(z2: date, meetings: list[date]) -> None:
    steps = plan(TEMPLATE, z2, council_meetings=meetings)
    by_key = _by_key(steps)
    planned = z2 + timedelta(days=28)
    later = [m for m in meetings if m >= planned]
    assert by_key["6"].due == (min(later) if later else planned)
    assert by_key["6"].planned == (planned if later and min(later) != planned else None)
    assert by_key["7"].due == by_key["6"].due + timedelta(days=7)
    dues = [step.due for step in steps]
    assert dues == sorted(dues)
    for key in ("1", "2", "3", "3a", "4", "5"):
        assert by_key[key].due == z2 + timedelta(days=7 * OFFSETS[key])


@given(z2_dates, st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)))
def test_pinned_date_is_kept(z2: date, pin: date) -> None:
    steps = _by_key(plan(TEMPLATE, z2, pinned={"3": pin}))
    assert steps["3"].due == pin
    assert steps["4"].due == z2


@given(z2_dates)
def test_milestones(z2: date) -> None:
    dates = milestone_dates(TEMPLATE, z2)
    assert dates["beteiligung-start"] == z2 - timedelta(days=42)
    assert dates["beteiligung-ende"] == z2 - timedelta(days=14)
