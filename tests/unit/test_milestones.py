"""The year plan in step with the city's other strategies (issue 21 point 4): milestones
(`!zt meilenstein`, the plan CSV's "Art" column) in their quarter of `jahresplan` (text
and picture) and in the feed of all themes; a Z2 in a milestone's week is warned of;
quarter ranges for ideas; school holidays only for meetings; "geplant" before the first
step begins."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from bot.charts.year_plan import draw_year_plan, year_plan_data
from bot.domain.annual_plan import SchoolHolidays, build_annual_plan, planned_quarter
from bot.domain.dates import DateError, Quarter, QuarterRange, parse_date_spec
from bot.domain.ics import CalendarLabels, feed_calendar
from bot.domain.milestones import Milestone, milestone_span
from bot.domain.plan_file import read_plan
from bot.domain.process import load_template
from bot.domain.working_days import WorkingCalendar
from bot.rendering import Renderer
from bot.router import Router
from bot.store.plan_import import Action, error_text, import_plan
from bot.store.themes import Store
from tests.chart_samples import words

LABELS = CalendarLabels.from_words(Renderer().words("calendar_words"))

NOW = datetime(2027, 1, 11, 9, 0, tzinfo=UTC)
COORDINATOR = "@koordination:stadt.example"
ROOM = "!koordination:stadt.example"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Q2/Q3 2027", QuarterRange(2027, 2, 3)),
        ("Q2–Q3/2027", QuarterRange(2027, 2, 3)),
        ("Q2-Q3/2027", QuarterRange(2027, 2, 3)),
        ("Q2 bis Q3 2027", QuarterRange(2027, 2, 3)),
        ("q3/q4/2027", QuarterRange(2027, 3, 4)),
        ("Q3/Q3 2027", Quarter(2027, 3)),
        ("Q3/2027", Quarter(2027, 3)),
    ],
)
def test_quarter_ranges_as_the_concept_writes_them(text: str, expected: Quarter) -> None:
    spec = parse_date_spec(text, allow_quarter=True)
    assert spec == expected
    assert isinstance(spec, Quarter)  # wherever a quarter is asked for, a range is one


def test_a_range_is_stored_in_ten_characters_and_read_back() -> None:
    spec = parse_date_spec("Q2/Q3 2027", allow_quarter=True)
    assert str(spec) == "Q2–Q3/2027" and len(str(spec)) == 10
    assert spec.first_day == date(2027, 4, 1) and spec.last_day == date(2027, 9, 30)
    assert planned_quarter("Q2–Q3/2027") == QuarterRange(2027, 2, 3)


@pytest.mark.parametrize("text", ["Q3/Q2 2027", "Q0/Q2 2027", "Q2/Q5 2027"])
def test_a_backwards_or_impossible_range_is_refused(text: str) -> None:
    with pytest.raises(DateError) as raised:
        parse_date_spec(text, allow_quarter=True)
    assert raised.value.code == "impossible_quarter"


def test_a_milestone_spans_its_day_week_or_quarter() -> None:
    assert milestone_span(parse_date_spec("03.05.2027")) == (
        date(2027, 5, 3), date(2027, 5, 3), "03.05.2027", "day",
    )  # fmt: skip
    assert milestone_span(parse_date_spec("KW 19/2027")) == (
        date(2027, 5, 10), date(2027, 5, 16), "KW 19/2027", "week",
    )  # fmt: skip
    assert milestone_span(parse_date_spec("Q3/2027", allow_quarter=True)) == (
        date(2027, 7, 1), date(2027, 9, 30), "Q3/2027", "quarter",
    )  # fmt: skip


class _Coordinators:
    def is_coordinator(self, user_id: str) -> bool:
        return user_id == COORDINATOR

    def is_member(self, room_id: str, user_id: str) -> bool:
        return False


@pytest.fixture
def router(make_bot) -> Router:
    bot = make_bot('[web]\nlisten = "127.0.0.1:0"\npublic_url = "https://zt.stadt.example"')
    return bot.router.with_services(
        dataclasses.replace(bot.router.services, rights=_Coordinators())
    )


def say(router: Router, text: str, *, ok: bool = True, now: datetime = NOW):
    outcome = router.handle(text, sender=COORDINATOR, room_id=ROOM, now=now)
    assert outcome is not None
    assert (outcome.result == "ok") == ok, outcome
    return outcome.reply


def test_milestones_stand_in_their_quarter_and_a_z2_in_their_week_is_warned_of(
    router: Router,
) -> None:
    answer = say(router, "!zt meilenstein Masterplan Mobilität Q3/2027").body
    assert answer.startswith("◆ Meilenstein „Masterplan Mobilität“ eingetragen: Q3/2027")
    assert "Der Jahresplan 2027 zeigt ihn in Q3" in answer
    assert "warnt" not in answer  # a quarter is context, not a clash
    say(router, "!zt meilenstein Reallabor Verwaltung 2.030 03.05.2027")
    moved = say(router, "!zt meilenstein reallabor verwaltung 2.030 KW 19/2027").body
    assert "verschoben: KW 19/2027 (10.05.2027–16.05.2027)" in moved
    say(router, "!zt neu Mobilität 12.05.2027")
    say(router, "!zt neu Klimaanpassung Q2/Q3 2027")

    reply = say(router, "!zt jahresplan 2027")
    text = reply.body
    q2, q3 = text.index("Q2 · April bis Juni"), text.index("Q3 · Juli bis September")
    assert q2 < text.index("Reallabor Verwaltung 2.030") < q3
    assert text.index("Masterplan Mobilität") > q3
    assert "◆ Q3/2027" in text and "◆ KW 19/2027" in text
    assert q2 < text.index("Klimaanpassung") < q3  # the idea in its first quarter
    assert (
        "⚠ Z2 von „Mobilität“ am 12.05.2027 in derselben Woche wie der Meilenstein "
        "„Reallabor Verwaltung 2.030“ (KW 19/2027)"
    ) in text
    assert "2 Meilensteine anderer Strategien" in text
    assert "Reallabor Verwaltung 2.030" in reply.html
    # The theme whose first step lies ahead is planned, not running.
    assert "geplant" in text.split("Mobilität", 1)[1].split("\n")[0]
    assert reply.attachment is not None  # the picture is drawn with the milestones

    assert (
        "Meilenstein „Masterplan Mobilität“ entfernt."
        in say(router, "!zt meilenstein Masterplan Mobilität entfernen").body
    )
    listed = say(router, "!zt meilenstein").body
    assert "◆ Reallabor Verwaltung 2.030: KW 19/2027" in listed
    assert "Masterplan" not in listed


def test_wrong_calls_get_a_clear_answer(router: Router) -> None:
    assert "Name und Datum fehlen" in say(router, "!zt meilenstein Q3/2027", ok=False).body
    unreadable = say(router, "!zt meilenstein Masterplan irgendwann", ok=False).body
    assert "Q2/Q3 2027" in unreadable and "KW 15/2027" in unreadable
    assert "gibt es nicht" in say(router, "!zt meilenstein Unbekannt entfernen", ok=False).body
    html = say(router, "!zt meilenstein <b>Smart</b> City KW 40/2027").html
    assert "<b>Smart</b>" not in html and "&lt;b&gt;Smart&lt;/b&gt;" in html
    idea = say(router, "!zt neu Klima irgendwann", ok=False).body
    assert "Q2/Q3 2027" in idea  # where a quarter is taken, the answer names the forms


def test_the_picture_has_a_row_per_milestone() -> None:
    milestone = Milestone("Masterplan Mobilität", date(2027, 7, 1), date(2027, 9, 30),
                          "Q3/2027", "quarter")  # fmt: skip
    week = Milestone("Reallabor", date(2027, 5, 10), date(2027, 5, 16), "KW 19/2027", "week")
    calendar, school = WorkingCalendar(), SchoolHolidays()
    plan = build_annual_plan([], 2027, calendar, school, milestones=[milestone, week])
    assert [q.milestones for q in plan.quarters] == [(), (week,), (milestone,), ()]
    assert not plan.is_empty
    data = year_plan_data(plan, [], date(2027, 1, 11), calendar=calendar, school=school,
                          words=words())  # fmt: skip
    assert [m.name for m in data.milestones] == ["Reallabor", "Masterplan Mobilität"]
    figure = draw_year_plan(data)
    gids = {artist.get_gid() for artist in figure.axes[0].get_children()}
    assert {"milestones-header", "milestone-0", "milestone-1"} <= gids


def test_the_feed_of_all_themes_carries_the_milestones() -> None:
    milestone = Milestone("Masterplan Mobilität", date(2027, 7, 1), date(2027, 9, 30),
                          "Q3/2027", "quarter", changed_at=NOW)  # fmt: skip
    body = feed_calendar(
        [], name="Zukunftstische", lead_names={}, labels=LABELS, milestones=[milestone]
    )
    [event] = Calendar.from_ical(body).walk("VEVENT")
    assert str(event["summary"]) == "◆ Meilenstein: Masterplan Mobilität"
    assert event["dtstart"].dt == date(2027, 7, 1) and event["dtend"].dt == date(2027, 10, 1)
    assert str(event["uid"]) == "zt-meilenstein-masterplan-mobilitat@zukunftstische"


PLAN = (
    "Thema;Z2 oder Quartal;Teamraum;Art\r\n"
    "Mobilität;15.06.2027;;\r\n"
    "Masterplan Mobilität;Q3/2027;;Meilenstein\r\n"
    "Reallabor Verwaltung 2.030;03.05.2027;;meilenstein\r\n"
    "Klimaanpassung;Q2/Q3 2027;;Thema\r\n"
)


def test_the_plan_file_brings_milestones_and_old_files_still_import(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'plan.db'}")
    store.upgrade()
    try:
        template = load_template()

        def run(text: str):
            return import_plan(store, read_plan(text.encode()), template=template,
                               actor="@bot:localhost", now=NOW)  # fmt: skip

        report = run(PLAN)
        assert report.applied and report.count(Action.create) == 4
        assert [m.name for m in store.milestones()] == [
            "Reallabor Verwaltung 2.030",
            "Masterplan Mobilität",
        ]
        idea = store.theme("Klimaanpassung")
        assert idea is not None and idea.theme.planned_quarter == "Q2–Q3/2027"
        again = run(PLAN)
        assert not again.applied and again.count(Action.unchanged) == 4
        moved = run(PLAN.replace("03.05.2027", "10.05.2027"))
        assert moved.count(Action.update) == 1
        assert store.milestones()[0].first_day == date(2027, 5, 10)
        old = run("Thema;Z2;Teamraum\r\nWohnen;KW 40/2027;\r\n")
        assert old.applied and old.count(Action.create) == 1
        bad = read_plan(
            "Thema;Z2;Teamraum;Art\r\nX;Q3/2027;!r:localhost;Meilenstein\r\nY;Q3/2027;;Vorhaben\r\n"
        )
        assert [error_text(e) for e in bad.errors] == [
            "Zeile 2: Meilenstein: Teamraum, Fachbereich, Kernteam, Teilnehmende und Kontakt "
            "bleiben leer",
            "Zeile 3: Art „Vorhaben“: erwartet Thema oder Meilenstein",
        ]
    finally:
        store.close()
