"""domain.ics: a theme's steps as an .ics file that calendars import and update."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.domain.ics import PRODID, CalendarLabels, sequence_at, step_uid, theme_calendar
from bot.domain.process import load_template
from bot.domain.themes import StepRecord, StepState, ThemeRecord, ThemeView
from bot.domain.timeline import plan
from bot.rendering import Renderer

LABELS = CalendarLabels.from_words(Renderer().words("calendar_words"))

TEMPLATE = load_template()
Z2 = date(2027, 4, 12)  # Monday of KW 15/2027
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
LEADS = {"fachbereich": "Fachbereich", "koordination": "Koordination", "buergerdialog": "BD"}


def _view(theme_id: int = 7, name: str = "Digitale Ethik", **states: str) -> ThemeView:
    theme = ThemeRecord(
        id=theme_id,
        name=name,
        name_key=name.casefold(),
        z2=Z2,
        process_json=TEMPLATE.to_json(),
        created_by="@koordination:example.org",
        created_at=NOW,
    )
    steps = tuple(
        StepRecord(
            id=position + 1,
            theme_id=theme_id,
            key=planned.key,
            position=position,
            due=planned.due,
            state=states.get(f"s{planned.key}", StepState.open),
        )
        for position, planned in enumerate(plan(TEMPLATE, Z2))
    )
    return ThemeView(theme, steps)


def _events(view: ThemeView, now: datetime = NOW) -> list:
    calendar = Calendar.from_ical(theme_calendar(view, lead_names=LEADS, labels=LABELS, now=now))
    return list(calendar.walk("VEVENT"))


def test_parses_back_with_one_event_per_step() -> None:
    raw = theme_calendar(_view(), lead_names=LEADS, labels=LABELS, now=NOW)
    calendar = Calendar.from_ical(raw)
    assert str(calendar["PRODID"]) == PRODID
    assert str(calendar["VERSION"]) == "2.0"
    events = list(calendar.walk("VEVENT"))
    # One per step, and one for the digital participation window (issue 12).
    assert len(events) == len(TEMPLATE.steps) + 1 == 9


def test_all_day_dates_equal_the_step_dates() -> None:
    view = _view()
    for step, event in zip(view.steps, _events(view)[: len(view.steps)], strict=True):
        start = event.decoded("DTSTART")
        end = event.decoded("DTEND")
        assert type(start) is date and type(end) is date  # all-day: DATE, not DATE-TIME
        assert start == step.due
        assert end == step.due + timedelta(days=1)
    # The concept's example: step 1 in KW 5, Z2 (step 4) in KW 15/2027.
    dates = [event.decoded("DTSTART") for event in _events(view)]
    assert dates[0] == date(2027, 2, 1)
    assert dates[4] == Z2


def test_uids_are_stable_across_exports_and_unique_per_step() -> None:
    first = [str(e["UID"]) for e in _events(_view())]
    later = NOW + timedelta(days=30)
    second = [str(e["UID"]) for e in _events(_view(name="Digitale Ethik (neu)"), later)]
    assert first == second  # a rename or a later export updates the same events
    assert len(set(first)) == len(first)
    created = int(NOW.timestamp())
    assert first[0] == step_uid(7, NOW, "1") == f"zt-7-{created}-1@zukunftstische"
    other_theme = [str(e["UID"]) for e in _events(_view(theme_id=8))]
    assert not set(first) & set(other_theme)


def test_sequence_and_stamp_come_from_now() -> None:
    later = NOW + timedelta(hours=2)
    first, second = _events(_view())[0], _events(_view(), later)[0]
    assert first.decoded("DTSTAMP") == NOW.astimezone(UTC)
    assert first.decoded("LAST-MODIFIED") == NOW.astimezone(UTC)
    assert int(second["SEQUENCE"]) > int(first["SEQUENCE"]) == sequence_at(NOW)
    assert 0 < sequence_at(NOW) < 2**31


def test_summary_and_description_carry_name_lead_and_goals() -> None:
    events = {str(e["SUMMARY"]).split(": ", 1)[1].split(" ", 1)[0]: e for e in _events(_view())}
    z1 = events["2"]
    assert str(z1["SUMMARY"]) == "Digitale Ethik: 2 Z1 Expertisen-Tisch"
    description = str(z1["DESCRIPTION"])
    assert "Federführung: Fachbereich, Koordination, BD" in description
    assert "Ziele:" in description
    for goal in TEMPLATE.step("2").goals:
        assert f"☐ {goal}" in description
    assert TEMPLATE.step("2").name in description  # the full name beside the short one


def test_done_and_skipped_steps_are_marked() -> None:
    events = _events(_view(s1=StepState.done, s3a=StepState.skipped))
    done, skipped, open_ = events[0], events[3], events[4]
    assert str(done["SUMMARY"]).endswith("(erledigt)")
    assert "☑" in str(done["DESCRIPTION"]) and "☐" not in str(done["DESCRIPTION"])
    assert str(done["STATUS"]) == "CONFIRMED"
    assert str(skipped["SUMMARY"]).endswith("(übersprungen)")
    assert str(skipped["STATUS"]) == "CANCELLED"
    assert "(" not in str(open_["SUMMARY"]).removeprefix("Digitale Ethik: 4 ")


def test_labels_can_be_replaced() -> None:
    raw = theme_calendar(
        _view(s1=StepState.done),
        lead_names={"fachbereich": "Department", "koordination": "Coordination"},
        now=NOW,
        labels=CalendarLabels.from_words(Renderer("en").words("calendar_words")),
    )
    first = next(iter(Calendar.from_ical(raw).walk("VEVENT")))
    assert "Lead: Department, Coordination" in str(first["DESCRIPTION"])
    assert "Goals:" in str(first["DESCRIPTION"])
    assert str(first["SUMMARY"]).endswith("(done)")


def test_an_idea_without_steps_is_an_empty_calendar() -> None:
    view = _view()
    idea = ThemeView(view.theme, ())
    assert _events(idea) == []


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError):
        theme_calendar(_view(), lead_names=LEADS, labels=LABELS, now=datetime(2027, 1, 4, 9, 0))


def test_every_change_raises_a_feeds_sequence_even_within_one_second() -> None:
    from datetime import timedelta

    from bot.domain.ics import change_sequence

    one = [NOW]
    same_second = [NOW, NOW + timedelta(milliseconds=300)]
    later = [*same_second, NOW + timedelta(milliseconds=600)]
    assert change_sequence(one) < change_sequence(same_second) < change_sequence(later)
    assert change_sequence(reversed(later)) == change_sequence(later)
    assert change_sequence([NOW + timedelta(days=1)]) > change_sequence(later)


def test_the_participation_window_is_one_event_spanning_its_days() -> None:
    """Six weeks before Z2 for four weeks; moved by hand, the event moves (same UID)."""
    window = _events(_view())[-1]
    assert str(window["SUMMARY"]) == "Digitale Ethik: Digitale Beteiligung (Schritt 2)"
    assert window.decoded("DTSTART") == Z2 - timedelta(weeks=6)
    # DTEND is exclusive: the window's last day is Z2 − 2 weeks.
    assert window.decoded("DTEND") == Z2 - timedelta(weeks=2) + timedelta(days=1)
    assert "Federführung: BD" in str(window["DESCRIPTION"])
    view = _view()
    moved_theme = replace(
        view.theme, participation_start=date(2027, 3, 8), participation_end=date(2027, 3, 19)
    )
    moved = _events(ThemeView(moved_theme, view.steps))[-1]
    assert moved.decoded("DTSTART") == date(2027, 3, 8)
    assert moved.decoded("DTEND") == date(2027, 3, 20)
    assert str(moved["UID"]) == str(window["UID"]) == step_uid(7, NOW, "beteiligung")
    skipped = _events(_view(s2=StepState.skipped))[-1]
    assert str(skipped["STATUS"]) == "CANCELLED"
