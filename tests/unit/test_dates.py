"""domain.dates: the date formats people write in chat, and the errors they get."""

from __future__ import annotations

import string
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.dates import (
    CalendarWeek,
    DateError,
    ExactDate,
    Quarter,
    format_date,
    format_week,
    parse_date_spec,
    split_trailing_date,
)

APRIL_15 = date(2027, 4, 15)


def _code(text: str, *, allow_quarter: bool = False) -> str:
    with pytest.raises(DateError) as info:
        parse_date_spec(text, allow_quarter=allow_quarter)
    return info.value.code


def _iso_weeks(year: int) -> int:
    return date(year, 12, 28).isocalendar().week


# --- the accepted formats ---------------------------------------------------------------


@pytest.mark.parametrize("text", ["15.04.2027", "15.4.2027", "2027-04-15", " 15.04.2027 "])
def test_exact_date_formats(text: str) -> None:
    spec = parse_date_spec(text)
    assert spec == ExactDate(APRIL_15)
    assert spec.first_day == APRIL_15


@pytest.mark.parametrize(
    "text", ["KW 15/2027", "KW15 2027", "kw 15 2027", "KW 15 / 2027", "Kw15/2027"]
)
def test_calendar_week_formats(text: str) -> None:
    spec = parse_date_spec(text)
    assert spec == CalendarWeek(2027, 15)
    # A calendar week stands for its Monday.
    assert spec.first_day == date(2027, 4, 12)
    assert spec.first_day.weekday() == 0


def test_kw_53_exists_in_2026() -> None:
    spec = parse_date_spec("KW 53/2026")
    assert spec == CalendarWeek(2026, 53)
    assert spec.first_day == date(2026, 12, 28)


def test_kw_1_can_start_in_the_previous_year() -> None:
    # ISO week 1 of 2026 starts on Monday 29.12.2025.
    assert parse_date_spec("KW 1/2026").first_day == date(2025, 12, 29)


def test_quarter_when_allowed() -> None:
    spec = parse_date_spec("Q4/2027", allow_quarter=True)
    assert spec == Quarter(2027, 4)
    assert spec.first_day == date(2027, 10, 1)
    assert str(spec) == "Q4/2027"


def test_quarter_with_space_when_allowed() -> None:
    assert parse_date_spec("q1 2028", allow_quarter=True) == Quarter(2028, 1)


def test_quarter_not_allowed_by_default() -> None:
    assert _code("Q4/2027") == "quarter_not_allowed"


def test_quarter_not_allowed_in_split_either() -> None:
    with pytest.raises(DateError) as info:
        split_trailing_date("Mobilität Q4/2027")
    assert info.value.code == "quarter_not_allowed"


# --- errors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["31.02.2027", "29.02.2027", "2027-02-29", "32.01.2027", "15.13.2027", "0.1.2027"]
)
def test_impossible_date(text: str) -> None:
    assert _code(text) == "impossible_date"


def test_leap_day_in_leap_year_is_fine() -> None:
    assert parse_date_spec("29.02.2028") == ExactDate(date(2028, 2, 29))


@pytest.mark.parametrize("text", ["KW 54/2027", "KW 53/2027", "KW 0/2027", "KW 99/2026"])
def test_impossible_week(text: str) -> None:
    assert _code(text) == "impossible_week"


def test_impossible_week_says_how_many_weeks_the_year_has() -> None:
    with pytest.raises(DateError) as info:
        parse_date_spec("KW 53/2027")
    assert info.value.details == {"year": 2027, "weeks": 52}
    with pytest.raises(DateError) as info:
        parse_date_spec("KW 54/2026")
    assert info.value.details == {"year": 2026, "weeks": 53}


@pytest.mark.parametrize("text", ["Q5/2027", "Q0/2027"])
def test_impossible_quarter(text: str) -> None:
    assert _code(text, allow_quarter=True) == "impossible_quarter"


@pytest.mark.parametrize(
    "text", ["15.04.1999", "15.04.2101", "2101-01-01", "KW 15/1999", "KW 1/2101", "15.04.999"]
)
def test_year_out_of_range(text: str) -> None:
    with pytest.raises(DateError) as info:
        parse_date_spec(text)
    assert info.value.code == "year_out_of_range"
    assert info.value.details == {"min": 2000, "max": 2100}


def test_year_out_of_range_for_quarter() -> None:
    assert _code("Q1/2101", allow_quarter=True) == "year_out_of_range"


def test_range_bounds_are_inclusive() -> None:
    assert parse_date_spec("01.01.2000") == ExactDate(date(2000, 1, 1))
    assert parse_date_spec("31.12.2100") == ExactDate(date(2100, 12, 31))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Mobilität",
        "morgen",
        "15.04.",
        "15/04/2027",
        "KW 15",
        "KW 99999999999/2027",
        "KW 15/99999999999",
        "1" * 5000,
        "KW " + "9" * 5000 + "/2027",
        "15.04." + "2" * 5000,
        "Thema15.04.2027",
    ],
)
def test_unrecognized(text: str) -> None:
    assert _code(text) == "unrecognized"


def test_text_before_the_date_is_not_a_date() -> None:
    with pytest.raises(DateError) as info:
        parse_date_spec("Mobilität 15.04.2027")
    assert info.value.code == "unrecognized"


def test_unrecognized_names_the_last_word() -> None:
    with pytest.raises(DateError) as info:
        split_trailing_date("Mobilität nächste Woche")
    assert info.value.code == "unrecognized"
    assert info.value.text == "Woche"


def test_date_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_date_spec("31.02.2027")


def test_date_error_passes_through_a_context_manager_unchanged() -> None:
    # Commands parse dates inside `with` blocks (e.g. a store session); the error must
    # reach the handler as the DateError it is, so the user gets the German explanation.
    @contextmanager
    def scope():
        yield

    with pytest.raises(DateError) as info, scope():
        parse_date_spec("31.02.2027")
    assert info.value.code == "impossible_date"


# --- split_trailing_date ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "spec"),
    [
        ("Mobilität 15.04.2027", "Mobilität", ExactDate(APRIL_15)),
        ("Digitale Ethik KW 15/2027", "Digitale Ethik", CalendarWeek(2027, 15)),
        ("Digitale Ethik KW15 2027", "Digitale Ethik", CalendarWeek(2027, 15)),
        ("  „Digitale Ethik“   2027-04-15 ", "„Digitale Ethik“", ExactDate(APRIL_15)),
        ("Agenda 2030 15.04.2027", "Agenda 2030", ExactDate(APRIL_15)),
        ("15.04.2027", "", ExactDate(APRIL_15)),
    ],
)
def test_split_trailing_date(text: str, name: str, spec: object) -> None:
    assert split_trailing_date(text) == (name, spec)


def test_split_trailing_quarter() -> None:
    assert split_trailing_date("Wärmewende Q3/2028", allow_quarter=True) == (
        "Wärmewende",
        Quarter(2028, 3),
    )


def test_split_only_looks_at_the_end() -> None:
    assert split_trailing_date("15.04.2027 Thema 16.04.2027") == (
        "15.04.2027 Thema",
        ExactDate(date(2027, 4, 16)),
    )


# --- formatting -------------------------------------------------------------------------


def test_format_date_and_week() -> None:
    assert format_date(date(2027, 2, 1)) == "01.02.2027"
    assert format_week(date(2027, 2, 1)) == "KW 5"
    assert format_week(date(2027, 1, 1), with_year=True) == "KW 53/2026"


# --- properties -------------------------------------------------------------------------

days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@given(days)
def test_day_first_round_trip(day: date) -> None:
    assert parse_date_spec(format_date(day)) == ExactDate(day)
    assert parse_date_spec(f"{day.day}.{day.month}.{day.year}") == ExactDate(day)


@given(days)
def test_iso_round_trip(day: date) -> None:
    assert parse_date_spec(day.isoformat()) == ExactDate(day)


@st.composite
def iso_weeks(draw: st.DrawFn) -> tuple[int, int]:
    year = draw(st.integers(2000, 2100))
    return year, draw(st.integers(1, _iso_weeks(year)))


@given(iso_weeks(), st.sampled_from(["KW {w}/{y}", "KW{w} {y}", "kw {w} {y}", "KW {w:02d}/{y}"]))
def test_valid_week_parses_to_its_monday(week: tuple[int, int], form: str) -> None:
    year, number = week
    spec = parse_date_spec(form.format(w=number, y=year))
    assert spec == CalendarWeek(year, number)
    assert spec.first_day == date.fromisocalendar(year, number, 1)


@given(st.integers(2000, 2100), st.integers(0, 999))
def test_week_beyond_the_year_is_impossible(year: int, number: int) -> None:
    if 1 <= number <= _iso_weeks(year):
        return
    with pytest.raises(DateError) as info:
        parse_date_spec(f"KW {number}/{year}")
    assert info.value.code == "impossible_week"


@given(st.dates(min_value=date(2000, 1, 3), max_value=date(2100, 12, 31)))
def test_formatted_week_parses_to_the_monday_of_that_week(day: date) -> None:
    # 1-2 Jan 2000 belong to KW 52/1999, outside the accepted years.
    spec = parse_date_spec(format_week(day, with_year=True))
    assert spec.first_day == day - timedelta(days=day.weekday())


LETTERS = st.characters(categories=["L"])
names = st.text(alphabet=st.one_of(LETTERS, st.just(" ")), max_size=40)


@st.composite
def written_dates(draw: st.DrawFn) -> tuple[str, date]:
    day = draw(st.dates(min_value=date(2000, 1, 4), max_value=date(2100, 12, 27)))
    iso = day.isocalendar()
    monday = day - timedelta(days=day.weekday())
    form = draw(st.sampled_from(["dmy", "d.m.y", "iso", "kw", "kw-compact", "kw-lower"]))
    text = {
        "dmy": format_date(day),
        "d.m.y": f"{day.day}.{day.month}.{day.year}",
        "iso": day.isoformat(),
        "kw": f"KW {iso.week}/{iso.year}",
        "kw-compact": f"KW{iso.week} {iso.year}",
        "kw-lower": f"kw {iso.week} {iso.year}",
    }[form]
    return text, (monday if form.startswith("kw") else day)


@given(names, written_dates())
def test_split_keeps_the_name(name: str, written: tuple[str, date]) -> None:
    text, day = written
    rest, spec = split_trailing_date(f"{name} {text}")
    assert rest == name.strip()
    assert spec.first_day == day


@given(names, st.integers(1, 4), st.integers(2000, 2100))
def test_split_keeps_the_name_before_a_quarter(name: str, quarter: int, year: int) -> None:
    rest, spec = split_trailing_date(f"{name} Q{quarter}/{year}", allow_quarter=True)
    assert rest == name.strip()
    assert spec == Quarter(year, quarter)


date_like = st.text(
    alphabet=st.sampled_from([*string.digits, ".", "-", "/", " ", "K", "W", "k", "w", "Q", "q"])
)


@given(st.one_of(st.text(), date_like), st.booleans())
def test_arbitrary_text_raises_only_date_error(text: str, allow_quarter: bool) -> None:
    for parse in (parse_date_spec, split_trailing_date):
        try:
            parse(text, allow_quarter=allow_quarter)
        except DateError as err:
            assert err.code in {
                "impossible_date",
                "impossible_week",
                "impossible_quarter",
                "year_out_of_range",
                "two_digit_year",
                "quarter_not_allowed",
                "unrecognized",
            }


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("15.04.27", "15.04.2027"),
        ("1.4.27", "01.04.2027"),
        ("KW 15/27", "KW 15/2027"),
        ("Q4/27", "Q4/2027"),
        ("27-04-15", None),  # ISO: the year first, two digits are no ISO date
    ],
)
def test_two_digit_years_are_asked_for_with_four(text: str, suggestion: str | None) -> None:
    with pytest.raises(DateError) as info:
        parse_date_spec(text, allow_quarter=True)
    if suggestion is None:
        assert info.value.code in {"impossible_date", "two_digit_year"}
        return
    assert info.value.code == "two_digit_year"
    assert info.value.details == {"suggestion": suggestion}


def test_a_two_digit_year_of_an_impossible_date_says_so() -> None:
    with pytest.raises(DateError) as info:
        parse_date_spec("30.02.27")
    assert info.value.code == "impossible_date"
