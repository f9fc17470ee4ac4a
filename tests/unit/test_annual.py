"""domain.annual_plan: the annual plan by quarter, same-week Z2, holidays, school holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.command import UserError
from bot.domain.annual_plan import (
    AnnualPlan,
    SchoolHolidays,
    build_annual_plan,
    planned_quarter,
)
from bot.domain.dates import Quarter
from bot.domain.process import load_template
from bot.domain.themes import StepRecord, ThemeRecord, ThemeView
from bot.domain.timeline import plan
from bot.domain.working_days import WorkingCalendar
from bot.rendering import Renderer
from commands.jahresplan import parse_year, shown_of

TEMPLATE = load_template()
CALENDAR = WorkingCalendar()
RENDERER = Renderer()


def view(
    name: str,
    z2: date | None = None,
    *,
    quarter: str | None = None,
    status: str = "active",
    states: dict[str, str] | None = None,
    pinned: dict[str, date] | None = None,
) -> ThemeView:
    theme = ThemeRecord(
        name=name,
        name_key=name.casefold(),
        z2=z2,
        planned_quarter=quarter,
        status=status,
        process_json=TEMPLATE.to_json(),
        created_by="@koordination:example.org",
        created_at=datetime(2026, 1, 5, tzinfo=UTC),
    )
    steps = ()
    if z2 is not None:
        steps = tuple(
            StepRecord(
                theme_id=1,
                key=p.key,
                position=i,
                due=p.due,
                state=(states or {}).get(p.key, "open"),
                pinned=p.key in (pinned or {}),
            )
            for i, p in enumerate(plan(TEMPLATE, z2, pinned=pinned))
        )
    return ThemeView(theme, steps)


def annual(views: list[ThemeView], year: int, school: SchoolHolidays | None = None) -> AnnualPlan:
    return build_annual_plan(views, year, CALENDAR, school or SchoolHolidays())


def names_by_quarter(result: AnnualPlan) -> dict[int, list[str]]:
    return {q.quarter: [e.name for e in q.entries] for q in result.quarters}


def warnings_of(result: AnnualPlan, theme: str) -> dict[str, tuple]:
    return {
        w.key: (w.day, w.holiday, w.weekend, w.school_break)
        for w in result.step_warnings
        if w.theme == theme
    }


class FixedSchoolHolidays(SchoolHolidays):
    """School holidays from a table (an object the plan receives, so tests can swap it)."""

    def __init__(self, table: dict[date, str]) -> None:
        super().__init__()
        self._fixed = table

    def _table(self, year: int) -> dict[date, str]:
        return {day: name for day, name in self._fixed.items() if day.year == year}


# School holidays ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2027, 1, 6), "Weihnachtsferien"),
        (date(2027, 3, 29), "Oster-/Frühjahrsferien"),  # Easter Monday, in the Easter break
        (date(2027, 7, 19), "Sommerferien"),
        (date(2027, 11, 2), "Herbstferien"),
        (date(2027, 12, 27), "Weihnachtsferien"),
        (date(2028, 12, 21), "Weihnachtsferien"),
    ],
)
def test_nrw_school_holidays(day: date, name: str) -> None:
    assert SchoolHolidays().name(day) == name


@pytest.mark.parametrize("day", [date(2027, 1, 7), date(2027, 4, 5), date(2027, 9, 1)])
def test_school_days_have_no_break(day: date) -> None:
    school = SchoolHolidays()
    assert school.is_known(day)
    assert school.name(day) is None


def test_how_far_the_school_holidays_are_known() -> None:
    school = SchoolHolidays()
    assert school.known_until(2027) == date(2027, 12, 31)
    assert school.known_until(2028) == date(2028, 12, 31)
    # 2029: the summer break is decided, the autumn break not yet.
    assert school.known_until(2029) == date(2029, 8, 14)
    assert school.is_known(date(2029, 8, 14)) and not school.is_known(date(2029, 8, 15))
    assert school.known_until(2031) is None
    assert not school.is_known(date(2031, 6, 1))


def test_each_object_keeps_its_own_cache() -> None:
    first, second = SchoolHolidays(), SchoolHolidays()
    first.name(date(2027, 3, 29))
    assert 2027 in first._by_year and 2027 not in second._by_year
    assert SchoolHolidays(subdiv="BY").name(date(2027, 3, 29)) is not None  # Bavaria: Easter


def test_a_country_without_school_holidays_is_unknown_not_free() -> None:
    austria = SchoolHolidays(country="AT", subdiv=None)  # type: ignore[arg-type]
    assert austria.known_until(2027) is None


# Grouping -------------------------------------------------------------------------------


def test_themes_by_quarter_of_their_z2_and_ideas_by_planned_quarter() -> None:
    result = annual(
        [
            view("Mobilität", date(2027, 6, 30)),
            view("Digitale Ethik", date(2027, 4, 12)),
            view("Klima", date(2027, 1, 11)),
            view("Regenwasserbewirtschaftung", quarter="Q4/2027", status="idea"),
            view("Schule", date(2027, 10, 4)),
            view("Nächstes Jahr", date(2028, 1, 10)),
            view("Idee 2028", quarter="Q1/2028", status="idea"),
        ],
        2027,
    )
    assert names_by_quarter(result) == {
        1: ["Klima"],
        2: ["Digitale Ethik", "Mobilität"],
        3: [],
        4: ["Schule", "Regenwasserbewirtschaftung"],  # dated themes first, then ideas
    }
    idea = result.quarters[3].entries[1]
    assert idea.is_idea and idea.status == "idea" and idea.planned_quarter == "Q4/2027"
    assert idea.z2 is None
    assert result.ideas == 1 and not result.is_empty


def test_states_and_archived_themes_are_listed_but_marked() -> None:
    result = annual(
        [
            view("Läuft", date(2027, 2, 1)),
            view("Pause", date(2027, 2, 8), status="paused"),
            view("Vorbei", date(2027, 2, 15), status="archived"),
        ],
        2027,
    )
    assert [(e.name, e.status) for e in result.quarters[0].entries] == [
        ("Läuft", "active"),
        ("Pause", "paused"),
        ("Vorbei", "archived"),
    ]


def test_planned_quarter_parsing() -> None:
    assert planned_quarter("Q4/2027") == Quarter(2027, 4)
    assert planned_quarter(None) is None
    assert planned_quarter("kaputt") is None
    assert planned_quarter("15.04.2027") is None


def test_an_empty_year() -> None:
    result = annual([view("Klima", date(2027, 1, 11))], 2030)
    assert result.is_empty
    assert [q.quarter for q in result.quarters] == [1, 2, 3, 4]
    assert result.conflicts == () and result.step_warnings == ()


# Same-week Z2 ----------------------------------------------------------------------------


def test_two_z2_in_the_same_iso_week_conflict() -> None:
    result = annual(
        [
            view("Mobilität", date(2027, 4, 15)),  # Thursday of KW 15
            view("Digitale Ethik", date(2027, 4, 12)),  # Monday of KW 15
            view("Klima", date(2027, 4, 19)),  # KW 16: no conflict
        ],
        2027,
    )
    [conflict] = result.conflicts
    assert conflict.themes == ("Digitale Ethik", "Mobilität")
    assert conflict.monday == date(2027, 4, 12) and conflict.sunday == date(2027, 4, 18)
    entries = {e.name: e.warnings for e in result.entries}
    step_warnings = {name: len(warnings_of(result, name)) for name in entries}
    assert entries["Klima"] == step_warnings["Klima"]  # no conflict, only its steps
    assert entries["Digitale Ethik"] == step_warnings["Digitale Ethik"] + 1
    assert entries["Mobilität"] == step_warnings["Mobilität"] + 1


def test_three_in_one_week_is_one_conflict_and_archived_themes_do_not_count() -> None:
    result = annual(
        [
            view("A", date(2027, 9, 6)),
            view("B", date(2027, 9, 8)),
            view("C", date(2027, 9, 10)),
            view("Alt", date(2027, 9, 7), status="archived"),
        ],
        2027,
    )
    [conflict] = result.conflicts
    assert conflict.themes == ("A", "B", "C")


def test_a_week_at_the_turn_of_the_year_shows_in_both_plans() -> None:
    themes = [view("Silvester", date(2026, 12, 31)), view("Neujahr", date(2027, 1, 1))]
    for year in (2026, 2027):
        [conflict] = annual(themes, year).conflicts
        assert conflict.monday == date(2026, 12, 28)  # KW 53/2026
        assert conflict.themes == ("Silvester", "Neujahr")


# Holidays, weekends, school holidays -----------------------------------------------------


def test_z2_on_easter_monday_is_a_holiday_in_the_easter_break() -> None:
    result = annual([view("Ostern", date(2027, 3, 29))], 2027)
    assert warnings_of(result, "Ostern")["4"] == (
        date(2027, 3, 29),
        "Ostermontag",
        False,
        "Oster-/Frühjahrsferien",
    )
    [warning] = [w for w in result.step_warnings if w.key == "4"]
    assert warning.label == "Z2 Strategie-Tisch"


def test_worked_example_warnings() -> None:
    # Z2 12.04.2027: 3 on 22.03. and 3a on 29.03. in the Easter break (3a on Easter
    # Monday), 7 on 17.05. on Whit Monday; the rest on ordinary days. Step 3 is a
    # deadline: the school holidays do not matter for it (issue 21), only for meetings.
    result = annual([view("Digitale Ethik", date(2027, 4, 12))], 2027)
    assert warnings_of(result, "Digitale Ethik") == {
        "3a": (date(2027, 3, 29), "Ostermontag", False, "Oster-/Frühjahrsferien"),
        "7": (date(2027, 5, 17), "Pfingstmontag", False, None),
    }


def test_a_step_in_the_christmas_break_of_a_theme_whose_z2_is_next_year() -> None:
    # Z2 24.01.2028: Z1 (step 2, −4 weeks) on Monday 27.12.2027, in the Christmas break.
    theme = view("Winter", date(2028, 1, 24))
    result = annual([theme], 2027)
    assert result.is_empty  # its Z2 is in 2028 …
    assert warnings_of(result, "Winter") == {  # … but its Z1 is in 2027
        "2": (date(2027, 12, 27), None, False, "Weihnachtsferien")
    }
    # A phase (step 1) in the break is no clash: only a meeting needs people to come.
    phase = annual([view("Phase", date(2028, 3, 6))], 2027)
    assert warnings_of(phase, "Phase") == {}


def test_weekend_and_public_holiday_of_a_pinned_step() -> None:
    theme = view(
        "Pins",
        date(2027, 6, 14),
        pinned={"5": date(2027, 7, 3), "6": date(2027, 5, 27)},  # a Saturday; Fronleichnam
    )
    found = warnings_of(annual([theme], 2027), "Pins")
    assert found["5"] == (date(2027, 7, 3), None, True, None)
    assert found["6"] == (date(2027, 5, 27), "Fronleichnam", False, None)


def test_done_skipped_and_archived_raise_no_warnings() -> None:
    done = view("Erledigt", date(2027, 4, 12), states={"3": "done", "3a": "skipped"})
    archived = view("Archiv", date(2027, 3, 29), status="archived")
    result = annual([done, archived], 2027)
    assert set(warnings_of(result, "Erledigt")) == {"7"}
    assert warnings_of(result, "Archiv") == {}


def test_paused_themes_still_warn() -> None:
    result = annual([view("Pause", date(2027, 3, 29), status="paused")], 2027)
    assert "4" in warnings_of(result, "Pause")


def test_warnings_are_in_date_order() -> None:
    result = annual([view("B", date(2027, 4, 12)), view("A", date(2027, 3, 29))], 2027)
    days = [(w.day, w.theme) for w in result.step_warnings]
    assert days == sorted(days)


# Ferien unbekannt -------------------------------------------------------------------------


def test_a_year_without_school_holiday_data_says_so() -> None:
    # Easter Monday 2031 is 14.04.: the public holiday is still found, school breaks are not.
    result = annual([view("Zukunft", date(2031, 4, 14))], 2031)
    assert result.school_holidays_unknown and result.school_holidays_unknown_all_year
    assert result.school_holidays_unknown_from == date(2031, 1, 1)
    assert warnings_of(result, "Zukunft")["4"] == (date(2031, 4, 14), "Ostermontag", False, None)


def test_a_year_with_part_of_the_data() -> None:
    result = annual([], 2029)
    assert result.school_holidays_unknown and not result.school_holidays_unknown_all_year
    assert result.school_holidays_unknown_from == date(2029, 8, 15)


def test_a_known_year_is_not_flagged() -> None:
    result = annual([], 2027)
    assert not result.school_holidays_unknown
    assert result.school_holidays_unknown_from is None


def test_the_school_holidays_object_is_passed_in() -> None:
    school = FixedSchoolHolidays({date(2027, 6, 1): "Probeferien", date(2027, 12, 31): "x"})
    result = annual([view("Juni", date(2027, 6, 1))], 2027, school)
    assert warnings_of(result, "Juni")["4"] == (date(2027, 6, 1), None, False, "Probeferien")
    nothing = annual([view("Juni", date(2027, 6, 1))], 2027, FixedSchoolHolidays({}))
    assert nothing.school_holidays_unknown_all_year
    assert "4" not in warnings_of(nothing, "Juni")


# Rendering ------------------------------------------------------------------------------


def render(result: AnnualPlan):
    return RENDERER.message(
        "annual_plan", plan=result, prefix="!zt", **shown_of(result, drawn=True)
    )


def test_rendered_plan() -> None:
    result = annual(
        [
            view("Digitale Ethik", date(2027, 4, 12)),
            view("Mobilität", date(2027, 4, 15), status="paused"),
            view("Regenwasserbewirtschaftung", quarter="Q4/2027", status="idea"),
        ],
        2027,
    )
    body = render(result).body
    assert body.startswith("Jahresplan 2027: 3 Themen, davon 1 Idee")
    assert "Q2 · April bis Juni" in body
    lines = body.splitlines()
    ethik = next(line for line in lines if line.startswith("  Digitale Ethik"))
    assert "Z2 12.04.2027 (KW 15)" in ethik and "läuft" in ethik and "⚠" in ethik
    assert "pausiert" in next(line for line in lines if line.startswith("  Mobilität"))
    idea = next(line for line in lines if line.startswith("  Regenwasserbewirtschaftung"))
    assert "noch kein Z2-Termin" in idea and "Idee" in idea
    q3 = lines.index("Q3 · Juli bis September")
    assert lines[q3 + 1] == "  – noch nichts geplant"
    assert (
        "⚠ Z2 von „Digitale Ethik“ und „Mobilität“ in derselben Woche KW 15 (12.04.–18.04.2027)"
        in body
    )
    assert (
        "⚠ Digitale Ethik, Schritt 3a „Fraktionssitzungen (optional)“ am Mo 29.03.2027 (KW 13): "
        "Feiertag (Ostermontag), Schulferien (Oster-/Frühjahrsferien)" in body
    )
    assert "Ferien unbekannt" not in body


def test_rendered_html_escapes_names_and_has_a_table_per_quarter() -> None:
    result = annual([view("<b>Böse</b>", date(2027, 3, 29)), view("Zwei", date(2027, 3, 31))], 2027)
    html = render(result).html
    assert "<b>Böse</b>" not in html and "&lt;b&gt;Böse&lt;/b&gt;" in html
    assert html.count("<h4>Q") == 4 and html.count("<table>") == 1
    assert "<h4>Hinweise</h4>" in html and "Ostermontag" in html


def test_rendered_unknown_school_holidays() -> None:
    body = render(annual([view("Zukunft", date(2031, 4, 14))], 2031)).body
    assert "Ferien unbekannt: Für 2031 kenne ich die NRW-Schulferien noch nicht" in body
    assert "Feiertag (Ostermontag)" in body
    partial = render(annual([view("Herbst", date(2029, 10, 1))], 2029)).body
    assert "Ferien unbekannt ab 15.08.2029" in partial


def test_rendered_empty_year_says_how_to_add_a_theme() -> None:
    message = render(annual([], 2027))
    assert "Für 2027 steht noch kein Thema im Plan." in message.body
    assert "„!zt neu <Thema> <Z2>“" in message.body
    assert "!zt neu Regenwasserbewirtschaftung Q4/2027" in message.body
    assert "&lt;Thema&gt;" in message.html


def test_rendered_plan_without_warnings() -> None:
    body = render(annual([view("Ruhig", date(2027, 5, 10))], 2027)).body
    assert "Keine Hinweise" in body


# The year argument ----------------------------------------------------------------------


def test_year_defaults_to_the_current_one() -> None:
    assert parse_year("", 2026, "jahresplan [Jahr]") == 2026
    assert parse_year(" 2027 ", 2026, "jahresplan [Jahr]") == 2027


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("abc", "plan_year_unrecognized"),
        ("2027 Mobilität", "plan_year_unrecognized"),
        ("-2027", "plan_year_unrecognized"),
        ("1999", "plan_year_out_of_range"),
        ("99999", "plan_year_out_of_range"),
        ("9" * 5000, "plan_year_out_of_range"),
    ],
)
def test_bad_years_are_refused_in_german(text: str, code: str) -> None:
    with pytest.raises(UserError) as caught:
        parse_year(text, 2026, "jahresplan [Jahr]")
    assert caught.value.code == code
    message = RENDERER.error(code, prefix="!zt", **caught.value.context)
    assert "jahresplan 2027" in message.body
    assert len(message.body) < 300


def test_a_crowded_week_names_its_first_themes_and_counts_the_rest() -> None:
    """Four Z2 in a week are named; more are the first three and a count (in a city with a
    thousand themes every week is crowded, and the warning is the clash, not the list)."""
    monday = date(2027, 4, 12)
    four = annual([view(f"Thema {n}", monday) for n in range(1, 5)], 2027)
    assert "⚠ Z2 von „Thema 1“, „Thema 2“, „Thema 3“ und „Thema 4“ in derselben Woche KW 15" in (
        render(four).body
    )
    crowded = annual([view(f"Thema {n:02d}", monday) for n in range(1, 25)], 2027)
    message = render(crowded)
    assert (
        "⚠ Z2 von „Thema 01“, „Thema 02“, „Thema 03“ und 21 weiteren Themen in derselben Woche "
        "KW 15 (12.04.–18.04.2027)" in message.body
    )
    assert "Thema 04“" not in message.body.split("Hinweise:")[1]
    assert "<b>Thema 03</b> und 21 weiteren Themen in derselben Woche" in message.html
    english = Renderer("en").message(
        "annual_plan", plan=crowded, prefix="!zt", **shown_of(crowded, drawn=True)
    )
    assert "⚠ Z2 of “Thema 01”, “Thema 02”, “Thema 03” and 21 other themes in the same week" in (
        english.body
    )
