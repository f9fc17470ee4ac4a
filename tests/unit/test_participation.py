"""domain.participation and the evaluation step's gate (issue 12, points 2 and 3)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from bot.domain.evaluation import evaluation_step_complete, waits_for_council
from bot.domain.participation import (
    Window,
    WindowState,
    length,
    planned_window,
    window,
)
from bot.domain.process import default_template_text, load_template, parse_template
from bot.domain.reminder_plan import theme_facts
from bot.domain.themes import StepRecord, StepState, ThemeRecord, ThemeView
from bot.domain.timeline import plan

TEMPLATE = load_template()
Z2 = date(2027, 4, 12)  # KW 15/2027, the concept's example
CREATED = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)


def view(
    *, z2: date | None = Z2, start: date | None = None, end: date | None = None, **states: str
) -> ThemeView:
    theme = ThemeRecord(
        id=3,
        name="Digitale Ethik",
        name_key="digitale ethik",
        z2=z2,
        participation_start=start,
        participation_end=end,
        process_json=TEMPLATE.to_json(),
        created_by="@k:example.org",
        created_at=CREATED,
    )
    steps = ()
    if z2 is not None:
        steps = tuple(
            StepRecord(
                id=n,
                theme_id=3,
                key=p.key,
                position=n,
                due=p.due,
                state=states.get(f"s{p.key}", StepState.open),
            )
            for n, p in enumerate(plan(TEMPLATE, z2))
        )
    return ThemeView(theme, steps)


def test_the_window_is_six_to_two_weeks_before_z2_as_the_concept_says() -> None:
    found = planned_window(TEMPLATE, Z2)
    assert found == Window("2", date(2027, 3, 1), date(2027, 3, 29))  # KW 9 to KW 13
    assert length(TEMPLATE) == timedelta(weeks=4)
    assert window(view()) == found
    assert window(view(z2=None)) is None


def test_a_window_moved_by_hand_stays_and_says_so() -> None:
    moved = window(view(start=date(2027, 3, 8), end=date(2027, 3, 19)))
    assert moved == Window("2", date(2027, 3, 8), date(2027, 3, 19), moved=True)
    # Z2 moves: the planned window follows, the moved one does not.
    later = replace(view().theme, z2=Z2 + timedelta(weeks=2))
    assert window(ThemeView(later, view().steps)).opens == date(2027, 3, 15)
    pinned = replace(
        later, participation_start=date(2027, 3, 8), participation_end=date(2027, 3, 19)
    )
    assert window(ThemeView(pinned, view().steps)).opens == date(2027, 3, 8)


def test_its_state_by_day() -> None:
    found = Window("2", date(2027, 3, 1), date(2027, 3, 29))
    assert found.state(date(2027, 2, 28)) == WindowState.planned
    assert found.state(date(2027, 3, 1)) == WindowState.running
    assert found.state(date(2027, 3, 29)) == WindowState.running
    assert found.state(date(2027, 3, 30)) == WindowState.ended


def test_the_reminders_follow_a_moved_window() -> None:
    facts = theme_facts(view(start=date(2027, 3, 8), end=date(2027, 3, 19)))
    assert (facts.participation_opens, facts.participation_closes) == (
        date(2027, 3, 8),
        date(2027, 3, 19),
    )
    assert facts.participation_step == "2" and facts.created_at == CREATED


def test_a_process_with_only_the_opening_gets_four_weeks() -> None:
    text = default_template_text()
    cut = text.index('[[steps.milestones]]\nkey = "beteiligung-ende"')
    end = text.index("[[steps]]", cut)
    own = parse_template(text[:cut] + text[end:])
    assert planned_window(own, Z2) == Window("2", date(2027, 3, 1), date(2027, 3, 29))


def test_step_7_waits_for_step_6() -> None:
    assert waits_for_council(view(), "7").key == "6"
    assert waits_for_council(view(), "7", done_now=["6"]) is None
    assert waits_for_council(view(s6=StepState.done), "7") is None
    assert waits_for_council(view(s6=StepState.skipped), "7") is None
    assert waits_for_council(view(), "5") is None


def test_closing_the_evaluation_never_ends_step_7_before_the_council_or_its_start() -> None:
    seven = date(2027, 5, 17)
    ready = {"evaluation_closed": True, "open_ideas": 0}
    # Eight days after Z2 the evaluation closes: step 6 is still open.
    assert not evaluation_step_complete(view(), **ready, today=Z2 + timedelta(days=8))
    # Step 6 done, but step 7 has not started yet.
    assert not evaluation_step_complete(
        view(s6=StepState.done), **ready, today=seven - timedelta(1)
    )
    assert evaluation_step_complete(view(s6=StepState.done), **ready, today=seven)
    assert not evaluation_step_complete(
        view(s6=StepState.done), evaluation_closed=True, open_ideas=1, today=seven
    )
