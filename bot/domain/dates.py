"""Parsing the dates people write in chat: 15.04.2027, 2027-04-15, 15. April 2027,
KW 15/2027, Q4/2027, and quarter ranges as the concept writes them (Q2/Q3 2027,
Q2–Q3/2027).

A two-digit year (15.04.27) is not guessed: the answer asks for it with four digits and
names the date it would be ("bitte vierstellig: 15.04.2027").

Pure: text in, a date specification or a DateError out. A command that ends in a date
is parsed from the right; the rest is the theme's name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

MIN_YEAR = 2000
MAX_YEAR = 2100

# The digit groups are bounded so that a 5,000-digit "year" is a format error, not a crash.
_DAY_FIRST = re.compile(r"(?P<d>\d{1,6})\.(?P<m>\d{1,6})\.(?P<y>\d{1,6})")
_ISO = re.compile(r"(?P<y>\d{1,6})-(?P<m>\d{1,6})-(?P<d>\d{1,6})")
_WEEK = re.compile(r"KW\s*(?P<w>\d{1,6})(?:\s*/\s*|\s+)(?P<y>\d{1,6})", re.IGNORECASE)
_QUARTER = re.compile(r"Q\s*(?P<q>\d{1,6})(?:\s*/\s*|\s+)(?P<y>\d{1,6})", re.IGNORECASE)
# The concept's "Mobilität: Q2/Q3": two quarters of one year, joined by / - – or "bis".
_QUARTER_RANGE = re.compile(
    r"Q\s*(?P<q>\d{1,6})\s*(?:/|-|–|bis)\s*Q\s*(?P<q2>\d{1,6})(?:\s*/\s*|\s+)(?P<y>\d{1,6})",
    re.IGNORECASE,
)

# Month names as people write them in German (and English), full or short, with the
# umlaut or without: "15. April 2027", "3. März 2027", "1. Okt. 2027", "15 April 2027".
MONTHS = {
    "januar": 1, "jan": 1, "january": 1, "jänner": 1,
    "februar": 2, "feb": 2, "february": 2,
    "märz": 3, "maerz": 3, "marz": 3, "mär": 3, "mar": 3, "march": 3,
    "april": 4, "apr": 4,
    "mai": 5, "may": 5,
    "juni": 6, "jun": 6, "june": 6,
    "juli": 7, "jul": 7, "july": 7,
    "august": 8, "aug": 8,
    "september": 9, "sep": 9, "sept": 9,
    "oktober": 10, "okt": 10, "october": 10, "oct": 10,
    "november": 11, "nov": 11,
    "dezember": 12, "dez": 12, "december": 12, "dec": 12,
}  # fmt: skip
_MONTH_NAME = re.compile(
    r"(?P<d>\d{1,6})\.?\s*(?P<name>[A-Za-zÄÖÜäöü]{3,9})\.?\s+(?P<y>\d{1,6})", re.IGNORECASE
)


@dataclass(frozen=True)
class ExactDate:
    day: date

    @property
    def first_day(self) -> date:
        return self.day


@dataclass(frozen=True)
class CalendarWeek:
    """An ISO 8601 week; as a date it stands for its Monday."""

    year: int
    week: int

    @property
    def first_day(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)


@dataclass(frozen=True)
class Quarter:
    year: int
    quarter: int

    @property
    def first_day(self) -> date:
        return date(self.year, 3 * self.quarter - 2, 1)

    @property
    def last_day(self) -> date:
        return quarter_last_day(self.year, self.quarter)

    def __str__(self) -> str:
        return f"Q{self.quarter}/{self.year}"


@dataclass(frozen=True)
class QuarterRange(Quarter):
    """Quarters `quarter` to `last` of one year (`Q2–Q3/2027`). A Quarter for everything
    that asks for one (an idea's place in the year plan is its first quarter)."""

    last: int

    @property
    def last_day(self) -> date:
        return quarter_last_day(self.year, self.last)

    def __str__(self) -> str:
        # Ten characters, the length stored for an idea's quarter.
        return f"Q{self.quarter}–Q{self.last}/{self.year}"


def quarter_last_day(year: int, quarter: int) -> date:
    if quarter == 4:
        return date(year, 12, 31)
    return date(year, 3 * quarter + 1, 1) - timedelta(days=1)


DateSpec = ExactDate | CalendarWeek | Quarter


class DateError(ValueError):
    """Why a date could not be read; `code` selects the German explanation."""

    def __init__(
        self, code: str, text: str = "", details: dict[str, int | str] | None = None
    ) -> None:
        super().__init__(code, text)
        self.code = code
        self.text = text
        self.details = details or {}

    def __str__(self) -> str:
        return f"{self.code}: {self.text}"


def _two_digits(value: str) -> int | None:
    """The year meant by a two-digit year (27 → 2027), None for a longer one."""
    return MIN_YEAR + int(value) if len(value) <= 2 else None


def _year(value: str, text: str) -> int:
    year = int(value)
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise DateError("year_out_of_range", text, {"min": MIN_YEAR, "max": MAX_YEAR})
    return year


def _ask_four_digits(text: str, suggestion: str) -> DateError:
    return DateError("two_digit_year", text, {"suggestion": suggestion})


def _calendar_date(y: str, m: str, d: str, text: str) -> ExactDate:
    meant = _two_digits(y)
    if meant is not None:
        try:
            suggestion = format_date(date(meant, int(m), int(d)))
        except ValueError as err:
            raise DateError("impossible_date", text) from err
        raise _ask_four_digits(text, suggestion)
    year = _year(y, text)
    try:
        return ExactDate(date(year, int(m), int(d)))
    except ValueError as err:
        raise DateError("impossible_date", text) from err


def _week(w: str, y: str, text: str) -> CalendarWeek:
    meant = _two_digits(y)
    if meant is not None:
        raise _ask_four_digits(text, f"KW {int(w)}/{meant}")
    year = _year(y, text)
    week = int(w)
    try:
        date.fromisocalendar(year, week, 1)
    except ValueError as err:
        weeks = date(year, 12, 28).isocalendar().week  # 28 Dec is always in the last ISO week
        raise DateError("impossible_week", text, {"year": year, "weeks": weeks}) from err
    return CalendarWeek(year, week)


def _quarter(q: str, y: str, text: str) -> Quarter:
    meant = _two_digits(y)
    if meant is not None:
        raise _ask_four_digits(text, f"Q{int(q)}/{meant}")
    year = _year(y, text)
    quarter = int(q)
    if not 1 <= quarter <= 4:
        raise DateError("impossible_quarter", text)
    return Quarter(year, quarter)


def _named_month(d: str, name: str, y: str, text: str) -> ExactDate:
    month = MONTHS.get(name.casefold())
    if month is None:
        raise DateError("unrecognized", text)
    return _calendar_date(y, str(month), d, text)


def _quarter_range(q: str, q2: str, y: str, text: str) -> Quarter:
    meant = _two_digits(y)
    if meant is not None:
        raise _ask_four_digits(text, f"Q{int(q)}–Q{int(q2)}/{meant}")
    year = _year(y, text)
    first, last = int(q), int(q2)
    if not 1 <= first <= 4 or not 1 <= last <= 4 or last < first:
        raise DateError("impossible_quarter", text)
    if first == last:
        return Quarter(year, first)
    return QuarterRange(year, first, last)


_PATTERNS = (
    # Before the single quarter: "Q2 – Q3 2027" would otherwise read as "Q3 2027".
    (_QUARTER_RANGE, lambda m, t: _quarter_range(m["q"], m["q2"], m["y"], t)),
    (_DAY_FIRST, lambda m, t: _calendar_date(m["y"], m["m"], m["d"], t)),
    (_MONTH_NAME, lambda m, t: _named_month(m["d"], m["name"], m["y"], t)),
    (_ISO, lambda m, t: _calendar_date(m["y"], m["m"], m["d"], t)),
    (_WEEK, lambda m, t: _week(m["w"], m["y"], t)),
    (_QUARTER, lambda m, t: _quarter(m["q"], m["y"], t)),
)


def parse_date_spec(text: str, *, allow_quarter: bool = False) -> DateSpec:
    """One date, the whole of `text`."""
    rest, spec = split_trailing_date(text, allow_quarter=allow_quarter)
    if rest:
        raise DateError("unrecognized", text.strip())
    return spec


def split_trailing_date(text: str, *, allow_quarter: bool = False) -> tuple[str, DateSpec]:
    """(the text before it, the date) for a text that ends in a date."""
    stripped = text.strip()
    for pattern, build in _PATTERNS:
        match = re.search(rf"(?:^|\s){pattern.pattern}$", stripped, pattern.flags)
        if match is None:
            continue
        found = match.group(0).strip()
        if pattern in (_QUARTER, _QUARTER_RANGE) and not allow_quarter:
            raise DateError("quarter_not_allowed", found)
        return stripped[: match.start()].strip(), build(match, found)
    raise DateError("unrecognized", _last_word(stripped))


def _last_word(text: str) -> str:
    words = text.split()
    return words[-1] if words else ""


def format_date(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def format_week(day: date, *, with_year: bool = False) -> str:
    iso = day.isocalendar()
    return f"KW {iso.week}/{iso.year}" if with_year else f"KW {iso.week}"
