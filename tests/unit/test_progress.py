"""domain.step_states: the state of each step as `status` shows it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.process import load_template
from bot.domain.step_states import Shown, next_step, theme_progress
from bot.domain.themes import StepRecord
from bot.domain.timeline import plan

TEMPLATE = load_template()
Z2 = date(2027, 4, 12)  # Monday of KW 15/2027
# Worked example: 1 01.02. (phase until 2), 2 15.03., 3 22.03., 3a 29.03., 4 12.04.,
# 5 26.04., 6 10.05., 7 17.05.2027 (continuous).


def _steps(z2: date = Z2, **states: str) -> list[StepRecord]:
    return [
        StepRecord(
            theme_id=1,
            key=planned.key,
            position=position,
            due=planned.due,
            state=states.get(f"s{planned.key}", "open"),
        )
        for position, planned in enumerate(plan(TEMPLATE, z2))
    ]


def _shown(today: date, steps: list[StepRecord] | None = None) -> dict[str, Shown]:
    return {s.key: s.shown for s in theme_progress(TEMPLATE, steps or _steps(), today)}


def _status(key: str, today: date, steps: list[StepRecord] | None = None):
    return next(s for s in theme_progress(TEMPLATE, steps or _steps(), today) if s.key == key)


def test_everything_open_long_before() -> None:
    progress = theme_progress(TEMPLATE, _steps(), date(2026, 12, 1))
    assert [s.shown for s in progress] == [Shown.open] * 8
    assert [s.key for s in progress if s.is_current] == ["1"]
    assert all(s.overdue_days == 0 for s in progress)
    assert progress[0].days_until == (date(2027, 2, 1) - date(2026, 12, 1)).days


def test_due_in_the_same_iso_week_before_the_date() -> None:
    # z2 on a Friday: step 3 is due Friday 26.03.2027; Monday of that week it is "fällig".
    steps = _steps(date(2027, 4, 16))
    status = _status("3", date(2027, 3, 22), steps)
    assert status.due == date(2027, 3, 26)
    assert status.shown == Shown.due
    assert status.days_until == 4
    # The Sunday before, a different ISO week: still open.
    assert _status("3", date(2027, 3, 21), steps).shown == Shown.open


def test_deadline_due_on_its_day_overdue_the_day_after() -> None:
    assert _status("3", date(2027, 3, 22)).shown == Shown.due
    later = _status("3", date(2027, 3, 25))
    assert later.shown == Shown.overdue
    assert later.overdue_days == 3
    assert later.days_until == -3


def test_phase_is_running_until_the_next_step() -> None:
    # StepRecord 1 starts 01.02.2027 and must be done by step 2 on 15.03.2027.
    assert _status("1", date(2027, 1, 31)).shown == Shown.open
    for today in (date(2027, 2, 1), date(2027, 3, 1), date(2027, 3, 15)):
        status = _status("1", today)
        assert status.shown == Shown.due, today
        assert status.overdue_days == 0
    late = _status("1", date(2027, 3, 16))
    assert late.shown == Shown.overdue
    assert late.overdue_days == 1


def test_meeting_still_open_afterwards_is_overdue() -> None:
    status = _status("2", date(2027, 3, 17))
    assert status.shown == Shown.overdue
    assert status.overdue_days == 2


def test_continuous_step_is_never_overdue() -> None:
    assert _status("7", date(2027, 5, 16)).shown == Shown.open
    for today in (date(2027, 5, 17), date(2027, 6, 30), date(2031, 1, 1)):
        status = _status("7", today)
        assert status.shown == Shown.due
        assert status.overdue_days == 0


def test_done_and_skipped() -> None:
    steps = _steps(s1="done", s2="done", s3a="skipped")
    progress = theme_progress(TEMPLATE, steps, date(2027, 4, 1))
    shown = {s.key: s.shown for s in progress}
    assert shown["1"] == Shown.done
    assert shown["2"] == Shown.done
    assert shown["3a"] == Shown.skipped
    assert shown["3"] == Shown.overdue
    assert [s.key for s in progress if s.is_current] == ["3"]
    assert next_step(progress).key == "3"
    assert all(s.overdue_days == 0 for s in progress if s.shown in (Shown.done, Shown.skipped))


def test_done_step_is_never_overdue_even_years_later() -> None:
    progress = theme_progress(TEMPLATE, _steps(s1="done"), date(2035, 1, 1))
    assert progress[0].shown == Shown.done
    assert progress[0].overdue_days == 0


def test_current_skips_done_steps() -> None:
    states = {f"s{key}": "done" for key in ("1", "2", "3", "3a", "4", "5", "6")}
    progress = theme_progress(TEMPLATE, _steps(**states), date(2027, 5, 1))
    assert next_step(progress).key == "7"


def test_no_current_when_all_finished() -> None:
    states = {f"s{key}": "done" for key in ("1", "2", "3", "4", "5", "6", "7")}
    progress = theme_progress(TEMPLATE, _steps(s3a="skipped", **states), date(2027, 6, 1))
    assert not any(s.is_current for s in progress)
    assert next_step(progress) is None


@given(
    st.dates(min_value=date(2000, 6, 1), max_value=date(2099, 6, 1)),
    st.integers(-400, 400),
    st.lists(st.sampled_from(["open", "done", "skipped"]), min_size=8, max_size=8),
)
def test_progress_invariants(z2: date, shift: int, states: list[str]) -> None:
    steps = [replace(step, state=state) for step, state in zip(_steps(z2), states, strict=True)]
    today = z2 + timedelta(days=shift)
    progress = theme_progress(TEMPLATE, steps, today)
    assert [s.key for s in progress] == [s.key for s in steps]
    assert sum(s.is_current for s in progress) == (1 if "open" in states else 0)
    for status, state in zip(progress, states, strict=True):
        assert status.days_until == (status.due - today).days
        if state == "done":
            assert status.shown == Shown.done
        elif state == "skipped":
            assert status.shown == Shown.skipped
        if status.shown == Shown.overdue:
            assert status.overdue_days > 0
            assert status.due < today
            assert status.definition.kind != "continuous"
        else:
            assert status.overdue_days == 0
        if status.shown == Shown.open:
            assert status.due > today
