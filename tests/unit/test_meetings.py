"""A meeting's time and place (issue 21 point 1): reading `HH:MM[–HH:MM]` after a date,
the place's limits, the .ics (a timed meeting in Europe/Berlin, deadlines all-day), and
the moved-date notice's lines."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st
from icalendar import Calendar

from bot.domain.date_changes import date_change
from bot.domain.dates import format_date, parse_date_spec
from bot.domain.ics import CalendarLabels, change_sequence, feed_calendar, step_uid, theme_calendar
from bot.domain.meetings import (
    PLACE_LIMIT,
    MeetingError,
    MeetingTime,
    check_place,
    format_time,
    split_trailing_time,
)
from bot.domain.process import load_template
from bot.domain.themes import StepRecord, ThemeRecord, ThemeView
from bot.domain.timeline import plan
from bot.rendering import Renderer

LABELS = CalendarLabels.from_words(Renderer().words("calendar_words"))

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 1, 11, 10, 0, tzinfo=BERLIN)
Z2 = date(2027, 4, 15)
CREATED = datetime(2026, 12, 1, 9, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("text", "rest", "when"),
    [
        ("15.04.2027 14:00", "15.04.2027", MeetingTime(time(14))),
        ("15.04.2027 14:00–16:00", "15.04.2027", MeetingTime(time(14), time(16))),
        ("15.04.2027 14:00 - 16:30 Uhr", "15.04.2027", MeetingTime(time(14), time(16, 30))),
        ("KW 15/2027 9.30 bis 11.00", "KW 15/2027", MeetingTime(time(9, 30), time(11))),
        ("15.04.2027 14.30 Uhr", "15.04.2027", MeetingTime(time(14, 30))),
        ("15.04.2027", "15.04.2027", None),
        ("12.04.2027 trotzdem", "12.04.2027 trotzdem", None),
    ],
)
def test_a_time_after_the_date_is_read_and_a_date_alone_stays_a_day(
    text: str, rest: str, when: MeetingTime | None
) -> None:
    assert split_trailing_time(text) == (rest, when)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("15.04.2027 25:00", "impossible_time"),
        ("15.04.2027 14:75", "impossible_time"),
        ("15.04.2027 16:00-14:00", "end_before_start"),
        ("15.04.2027 14:00–14:00", "end_before_start"),
    ],
)
def test_an_impossible_time_is_refused_with_its_reason(text: str, code: str) -> None:
    with pytest.raises(MeetingError) as caught:
        split_trailing_time(text)
    assert caught.value.code == code


@given(
    st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31)),
    st.times(),
    st.one_of(st.none(), st.integers(min_value=1, max_value=600)),
)
def test_every_date_with_every_time_reads_back(day: date, start: time, minutes: int | None) -> None:
    start = start.replace(second=0, microsecond=0)
    end = None
    if minutes is not None:
        later = datetime.combine(day, start) + timedelta(minutes=minutes)
        end = later.time() if later.date() == day else None
    when = MeetingTime(start, end)
    rest, found = split_trailing_time(f"{format_date(day)} {format_time(when)}")
    assert found == when
    assert parse_date_spec(rest).first_day == day


def test_a_place_is_one_printable_line_and_has_a_limit() -> None:
    assert check_place("  Ratssaal,\n Rathaus\x07 ") == "Ratssaal, Rathaus"
    assert check_place("https://meet.stadt.example/z2?id=1") == "https://meet.stadt.example/z2?id=1"
    with pytest.raises(MeetingError, match="place_missing"):
        check_place(" \n ")
    with pytest.raises(MeetingError, match="place_too_long"):
        check_place("x" * (PLACE_LIMIT + 1))


def view(**z2_fields: object) -> ThemeView:
    template = load_template()
    steps = tuple(
        StepRecord(id=number, theme_id=7, key=p.key, position=number, due=p.due)
        for number, p in enumerate(plan(template, Z2), start=1)
    )
    steps = tuple(replace(s, **z2_fields) if s.key == "4" else s for s in steps)
    theme = ThemeRecord(
        id=7,
        name="Mobilität",
        name_key="mobilitat",
        z2=Z2,
        process_json=template.to_json(),
        created_by="@k:x",
        created_at=CREATED,
    )
    return ThemeView(theme, steps)


def events(data: bytes) -> dict[str, object]:
    calendar = Calendar.from_ical(data)
    return {str(e["uid"]): e for e in calendar.walk("VEVENT")}


def test_a_timed_z2_is_a_berlin_date_time_with_its_place_and_two_hours_by_default() -> None:
    data = theme_calendar(
        view(starts_at=time(14), place="Ratssaal, Rathaus"), lead_names={}, labels=LABELS, now=NOW
    )
    assert b"BEGIN:VTIMEZONE" in data and b"TZID:Europe/Berlin" in data
    assert b"DTSTART;TZID=Europe/Berlin:20270415T140000" in data
    found = events(data)
    z2 = found[step_uid(7, CREATED, "4")]
    start, end = z2["dtstart"].dt, z2["dtend"].dt
    assert start == datetime(2027, 4, 15, 14, 0, tzinfo=BERLIN)
    assert str(start.tzinfo) == "Europe/Berlin"
    assert end - start == timedelta(hours=2)
    assert str(z2["location"]) == "Ratssaal, Rathaus"
    # Deadlines and untimed meetings stay all-day.
    step3, z1 = found[step_uid(7, CREATED, "3")], found[step_uid(7, CREATED, "2")]
    assert type(step3["dtstart"].dt) is date and type(z1["dtstart"].dt) is date
    assert "location" not in step3


def test_a_meeting_with_an_end_ends_then_and_a_summer_time_stays_on_the_clock() -> None:
    data = theme_calendar(
        view(starts_at=time(9, 30), ends_at=time(12)), lead_names={}, labels=LABELS, now=NOW
    )
    z2 = events(data)[step_uid(7, CREATED, "4")]
    assert z2["dtend"].dt == datetime(2027, 4, 15, 12, 0, tzinfo=BERLIN)
    assert z2["dtstart"].dt.utcoffset() == timedelta(hours=2)  # CEST in April


def test_without_a_time_every_step_is_all_day_as_before() -> None:
    data = theme_calendar(view(), lead_names={}, labels=LABELS, now=NOW)
    assert b"VTIMEZONE" not in data
    assert all(type(e["dtstart"].dt) is date for e in events(data).values())


def test_a_feed_follows_a_changed_time_under_the_same_uid_with_a_higher_sequence() -> None:
    first_change = [CREATED, CREATED + timedelta(days=1)]
    later = [*first_change, CREATED + timedelta(days=2)]
    before = feed_calendar(
        [(view(starts_at=time(14)), max(first_change), change_sequence(first_change))],
        name="Alle",
        lead_names={},
        labels=LABELS,
    )
    after = feed_calendar(
        [(view(starts_at=time(15)), max(later), change_sequence(later))],
        name="Alle",
        lead_names={},
        labels=LABELS,
    )
    uid = step_uid(7, CREATED, "4")
    old, new = events(before)[uid], events(after)[uid]
    assert new["dtstart"].dt.hour == 15 and old["dtstart"].dt.hour == 14
    assert int(new["sequence"]) > int(old["sequence"])


def test_the_moved_notice_tells_the_new_time_and_place() -> None:
    before, after = view(starts_at=time(14)), view(starts_at=time(15), place="Ratssaal")
    change = date_change(before, {}, after=after)
    assert change is not None and [m.key for m in change.meetings] == ["4"]
    assert date_change(before, {}, after=before) is None
    for language, line in (
        (
            "de",
            "• Schritt 4 „Z2 Strategie-Tisch“ am 15.04.2027: 14:00 Uhr → 15:00 Uhr; Ort Ratssaal",
        ),
        ("en", "• Step 4 “Z2 Strategie-Tisch” on 15.04.2027: 14:00 → 15:00; place Ratssaal"),
    ):
        message = Renderer(language).message(
            "dates_moved",
            theme=before.theme,
            change=change,
            labels=change.labels,
            holidays={},
            cause="meeting",
            day=None,
            actor="@k:x",
            prefix="!zt",
        )
        assert line in message.body.splitlines(), message.body


def test_an_old_all_day_export_is_updated_by_a_new_timed_one_not_doubled() -> None:
    """A calendar that imported the all-day file before issue 21 takes the new file as an
    update: the same UIDs, a higher SEQUENCE, Z2 now at its time."""
    old = events(theme_calendar(view(), lead_names={}, labels=LABELS, now=NOW))
    new = events(
        theme_calendar(
            view(starts_at=time(14)), lead_names={}, labels=LABELS, now=NOW + timedelta(minutes=5)
        )
    )
    assert set(old) == set(new)
    for uid, event in new.items():
        assert int(event["sequence"]) > int(old[uid]["sequence"])
    z2 = step_uid(7, CREATED, "4")
    assert type(old[z2]["dtstart"].dt) is date
    assert new[z2]["dtstart"].dt == datetime(2027, 4, 15, 14, 0, tzinfo=BERLIN)


def test_the_timeline_picture_writes_time_and_place_beside_the_meeting() -> None:
    from bot.charts.timeline import meeting_words

    step = StepRecord(theme_id=7, key="4", position=5, due=Z2, starts_at=time(14))
    assert meeting_words(step) == "14:00"
    placed = replace(step, ends_at=time(16), place="Ratssaal im Rathaus, Marktplatz 1, 2. OG")
    assert meeting_words(placed) == "14:00–16:00, Ratssaal im Rathaus, Marktpla…"
    assert meeting_words(replace(step, starts_at=None)) == ""
