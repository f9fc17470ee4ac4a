"""The coordination office's annual plan as a CSV file: read, validate, write. Pure.

Columns: Thema; Z2 or Quartal; Teamraum, Fachbereich, Kernteam and Teilnehmende (Matrix
ids separated by spaces or commas; the Teilnehmende are the people at Z2, whom the
evaluation asks), Kontakt, Art (all optional: older files without them still import).
A row whose Art is "Meilenstein" is a milestone of another strategy (Masterplan
Mobilität Q3/2027), not a theme: its date, week or quarter stands in the Z2 or Quartal
column, and the theme's columns stay empty.
German Excel writes semicolon-separated Windows-1252; other tools write UTF-8 (with or
without BOM) and commas. Both are read. Every problem is reported with its line number,
so that a long file can be fixed in one pass instead of one error per attempt.
A problem is a code and its values (`PlanProblem`); its words are a block of
templates/<lang>/plan_file.j2, rendered at the edge (bot/store/plan_import.py).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

from bot.domain.dates import (
    CalendarWeek,
    DateError,
    DateSpec,
    Quarter,
    format_date,
    parse_date_spec,
)
from bot.domain.matrix_ids import (
    is_room_alias,
    is_user_id,
    parse_room_ref,
    parse_user_link,
)
from bot.domain.theme_names import MAX_NAME_LENGTH, clean_name, fold
from bot.domain.themes import ThemeStatus, ThemeView

# Header names as they are compared: folded, punctuation as spaces (see _header_key).
NAME_HEADERS = frozenset({"thema", "themen", "name"})
DATE_HEADERS = frozenset(
    {"z2", "z2 oder quartal", "z2 quartal", "z2 termin", "z2 datum", "datum", "termin"}
)
QUARTER_HEADERS = frozenset({"quartal"})
ROOM_HEADERS = frozenset({"teamraum", "team raum", "fachbereichsraum", "raum"})
DEPARTMENT_HEADERS = frozenset({"fachbereich", "federfuhrung", "amt"})
CORE_TEAM_HEADERS = frozenset({"kernteam", "kern team"})
CONTACT_HEADERS = frozenset({"kontakt", "ansprechperson", "ansprechpartner in", "ansprechpartner"})
PARTICIPANT_HEADERS = frozenset(
    {"teilnehmende", "teilnehmer", "teilnehmer innen", "z2 teilnehmende", "participants"}
)
KIND_HEADERS = frozenset({"art", "typ", "kind", "zeilenart"})
THEME_KIND = "theme"
MILESTONE_KIND = "milestone"
KIND_WORDS = {
    "": THEME_KIND,
    "thema": THEME_KIND,
    "theme": THEME_KIND,
    "meilenstein": MILESTONE_KIND,
    "milestone": MILESTONE_KIND,
}
# As the chat commands allow (commands/fachbereich.py, kontakt.py, kernteam.py).
MAX_DEPARTMENT_LENGTH = 200
MAX_CONTACT_LENGTH = 500
MAX_CORE_TEAM = 20
MAX_PARTICIPANTS = 100

WRITE_HEADER = (
    "Thema",
    "Z2",
    "Quartal",
    "Teamraum",
    "Fachbereich",
    "Kernteam",
    "Teilnehmende",
    "Kontakt",
    "Status",
)
STATUS_WORDS = {
    ThemeStatus.active: "aktiv",
    ThemeStatus.idea: "Idee",
    ThemeStatus.paused: "pausiert",
    ThemeStatus.archived: "archiviert",
}
DELIMITERS = (";", ",", "\t")

# Cells that a spreadsheet would run as a formula; written with a leading apostrophe.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class PlanRow:
    name: str
    spec: DateSpec
    team_room: str | None
    line: int
    department: str | None = None
    core_team: tuple[str, ...] = ()
    contact: str | None = None
    participants: tuple[str, ...] = ()
    kind: str = THEME_KIND  # or MILESTONE_KIND

    @property
    def is_milestone(self) -> bool:
        return self.kind == MILESTONE_KIND


@dataclass(frozen=True)
class PlanProblem:
    """What is wrong: a block of templates/<lang>/plan_file.j2 and the values it says."""

    code: str
    values: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class PlanError:
    """One problem; `line` is the file's line number (1 = header, 0 = the whole file)."""

    line: int
    problem: PlanProblem

    @property
    def code(self) -> str:
        return self.problem.code


@dataclass(frozen=True)
class ParsedPlan:
    rows: tuple[PlanRow, ...] = ()
    errors: tuple[PlanError, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def themes(self) -> tuple[PlanRow, ...]:
        return tuple(row for row in self.rows if not row.is_milestone)

    @property
    def milestones(self) -> tuple[PlanRow, ...]:
        return tuple(row for row in self.rows if row.is_milestone)


# Reading ------------------------------------------------------------------------------


def decode_plan(data: bytes) -> str:
    """UTF-8 (a BOM is dropped) or, failing that, Windows-1252 as German Excel writes.

    Raises UnicodeDecodeError for a file that is neither (cp1252 leaves five bytes
    undefined): better to say so than to guess.
    """
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252")


def sniff_delimiter(text: str) -> str:
    """The separator of the first non-empty line: the most frequent of ; , and tab."""
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = [(first.count(delimiter), -rank) for rank, delimiter in enumerate(DELIMITERS)]
    best = max(range(len(DELIMITERS)), key=lambda index: counts[index])
    return DELIMITERS[best] if counts[best][0] else DELIMITERS[0]


def read_plan(data: bytes | str) -> ParsedPlan:
    """Every row of the file, or every problem in it."""
    if isinstance(data, bytes):
        try:
            text = decode_plan(data)
        except UnicodeDecodeError:
            return ParsedPlan(errors=(PlanError(0, PlanProblem("not_encoded")),))
    else:
        text = data.removeprefix("\ufeff")
    records = list(_records(text))
    if not records:
        return ParsedPlan(errors=(PlanError(0, PlanProblem("empty")),))
    header_line, header = records[0]
    columns = _columns(header)
    if isinstance(columns, PlanProblem):
        return ParsedPlan(errors=(PlanError(header_line, columns),))
    return _validate(records[1:], columns)


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """(first line number, cells) of each non-empty record."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    start = 1
    for cells in reader:
        if any(cell.strip() for cell in cells):
            yield start, cells
        start = reader.line_num + 1  # a quoted cell may span lines


def _header_key(cell: str) -> str:
    return " ".join(re.sub(r"[^0-9a-z]+", " ", fold(cell)).split())


@dataclass(frozen=True)
class _Columns:
    name: int
    dates: tuple[int, ...]  # Z2 columns, in file order
    quarter: int | None
    room: int | None
    department: int | None = None
    core_team: int | None = None
    contact: int | None = None
    participants: int | None = None
    kind: int | None = None


def _columns(header: Sequence[str]) -> _Columns | PlanProblem:
    """Where each column is, or why the header cannot be used."""
    keys = [_header_key(cell) for cell in header]

    def find(names: frozenset[str]) -> list[int]:
        return [index for index, key in enumerate(keys) if key in names]

    name, dates, quarter, room = (
        find(NAME_HEADERS),
        find(DATE_HEADERS),
        find(QUARTER_HEADERS),
        find(ROOM_HEADERS),
    )
    department, core_team, contact, participants = (
        find(DEPARTMENT_HEADERS),
        find(CORE_TEAM_HEADERS),
        find(CONTACT_HEADERS),
        find(PARTICIPANT_HEADERS),
    )
    kind = find(KIND_HEADERS)
    if not name:
        return PlanProblem("no_name_column")
    if not dates and not quarter:
        return PlanProblem("no_date_column")
    single = (
        ("Thema", name),
        ("Quartal", quarter),
        ("Teamraum", room),
        ("Fachbereich", department),
        ("Kernteam", core_team),
        ("Kontakt", contact),
        ("Teilnehmende", participants),
        ("Art", kind),
    )
    for label, found in single:
        if len(found) > 1:
            return PlanProblem("column_twice", {"label": label})
    return _Columns(
        name[0],
        tuple(dates),
        quarter[0] if quarter else None,
        room[0] if room else None,
        department[0] if department else None,
        core_team[0] if core_team else None,
        contact[0] if contact else None,
        participants[0] if participants else None,
        kind[0] if kind else None,
    )


def _cell(cells: Sequence[str], index: int | None) -> str:
    if index is None or index >= len(cells):
        return ""
    value = cells[index].strip()
    # Undo the apostrophe write_plan puts before formula-like cells.
    if value.startswith("'") and value[1:2] and value[1] in (*_FORMULA_START, "'"):
        return value[1:]
    return value


def _validate(records: Sequence[tuple[int, list[str]]], columns: _Columns) -> ParsedPlan:
    rows: list[PlanRow] = []
    errors: list[PlanError] = []
    first_seen: dict[str, int] = {}
    for line, cells in records:
        problems, row = _row(line, cells, columns)
        if row is not None:
            key = f"{row.kind}:{fold(row.name)}"
            if key in first_seen:
                seen = {"name": row.name, "first": first_seen[key]}
                problems.append(PlanProblem("seen_before", seen))
            else:
                first_seen[key] = line
        errors.extend(PlanError(line, problem) for problem in problems)
        if row is not None and not problems:
            rows.append(row)
    return ParsedPlan(tuple(rows), tuple(errors))


def _row(
    line: int, cells: Sequence[str], columns: _Columns
) -> tuple[list[PlanProblem], PlanRow | None]:
    """(problems, row); the row is None when the name or the date is unusable."""
    problems: list[PlanProblem] = []
    name = _name(_cell(cells, columns.name), problems)
    spec = _spec(cells, columns, problems)
    room = _room(_cell(cells, columns.room), problems)
    department = _text(
        _cell(cells, columns.department), "Fachbereich", MAX_DEPARTMENT_LENGTH, problems
    )
    contact = _text(_cell(cells, columns.contact), "Kontakt", MAX_CONTACT_LENGTH, problems)
    core_team = _people(_cell(cells, columns.core_team), "Kernteam", MAX_CORE_TEAM, problems)
    participants = _people(
        _cell(cells, columns.participants), "Teilnehmende", MAX_PARTICIPANTS, problems
    )
    kind = _kind(_cell(cells, columns.kind), problems)
    if kind == MILESTONE_KIND and (room or department or contact or core_team or participants):
        problems.append(PlanProblem("milestone_with_theme_columns"))
    if name is None or spec is None:
        return problems, None
    return problems, PlanRow(
        name, spec, room, line, department, core_team, contact, participants, kind
    )


def _kind(raw: str, problems: list[PlanProblem]) -> str:
    kind = KIND_WORDS.get(fold(raw.strip()))
    if kind is None:
        shown = raw if len(raw) <= 30 else raw[:29] + "…"
        problems.append(PlanProblem("bad_kind", {"text": shown}))
        return THEME_KIND
    return kind


def _text(raw: str, label: str, limit: int, problems: list[PlanProblem]) -> str | None:
    text = clean_name(" ".join(raw.split()))
    if len(text) > limit:
        too_long = {"label": label, "length": len(text), "limit": limit}
        problems.append(PlanProblem("too_long", too_long))
        return None
    return text or None


def _people(raw: str, label: str, limit: int, problems: list[PlanProblem]) -> tuple[str, ...]:
    """Matrix user ids (or matrix.to links to them), separated by spaces, commas or
    semicolons."""
    found: list[str] = []
    for word in re.split(r"[\s,;]+", raw.strip()):
        if not word:
            continue
        user = word if is_user_id(word) else parse_user_link(word)
        if user is None:
            shown = word if len(word) <= 60 else word[:59] + "…"
            problems.append(PlanProblem("not_a_user", {"label": label, "text": shown}))
            continue
        found.append(user)
    people = tuple(dict.fromkeys(found))
    if len(people) > limit:
        too_many = {"label": label, "count": len(people), "limit": limit}
        problems.append(PlanProblem("too_many_people", too_many))
        return ()
    return people


def _name(raw: str, problems: list[PlanProblem]) -> str | None:
    name = clean_name(" ".join(raw.split()))  # a line break inside a cell is a space
    if not name:
        problems.append(PlanProblem("no_name"))
        return None
    if len(name) > MAX_NAME_LENGTH:
        too_long = {"length": len(name), "limit": MAX_NAME_LENGTH}
        problems.append(PlanProblem("name_too_long", too_long))
    return name


def _spec(cells: Sequence[str], columns: _Columns, problems: list[PlanProblem]) -> DateSpec | None:
    z2_text = next((value for i in columns.dates if (value := _cell(cells, i))), "")
    quarter_text = _cell(cells, columns.quarter)
    if not z2_text and not quarter_text:
        problems.append(PlanProblem("no_date"))
        return None
    try:
        z2 = parse_date_spec(z2_text, allow_quarter=True) if z2_text else None
        quarter = parse_date_spec(quarter_text, allow_quarter=True) if quarter_text else None
    except DateError as err:
        problems.append(date_problem(err))
        return None
    if quarter is not None and not isinstance(quarter, Quarter):
        problems.append(PlanProblem("not_a_quarter", {"text": quarter_text}))
        return None
    if z2 is None:
        return quarter
    if quarter is not None and not _in_quarter(z2, quarter):
        outside = {"z2": z2_text, "quarter": str(quarter)}
        problems.append(PlanProblem("not_in_quarter", outside))
        return None
    return z2


def quarter_of(day: date) -> Quarter:
    return Quarter(day.year, (day.month - 1) // 3 + 1)


def _in_quarter(spec: DateSpec, quarter: Quarter) -> bool:
    if isinstance(spec, Quarter):
        return spec == quarter
    return quarter.first_day <= spec.first_day <= quarter.last_day


def _room(raw: str, problems: list[PlanProblem]) -> str | None:
    """A room id, an alias (resolved by `zt-bot import`) or a matrix.to link to either."""
    if not raw:
        return None
    ref = parse_room_ref(raw)
    if ref is None:
        problems.append(PlanProblem("not_a_room", {"text": raw}))
        return None
    return ref.value


def with_resolved_rooms(parsed: ParsedPlan, resolved: Mapping[str, str | None]) -> ParsedPlan:
    """The plan with every room alias replaced by the room id it names (`resolved`: alias →
    id, None where the homeserver knows no such alias); an unknown alias is a row error."""
    rows: list[PlanRow] = []
    errors = list(parsed.errors)
    for row in parsed.rows:
        if row.team_room is None or not is_room_alias(row.team_room):
            rows.append(row)
        elif (room_id := resolved.get(row.team_room)) is not None:
            rows.append(replace(row, team_room=room_id))
        else:
            errors.append(
                PlanError(row.line, PlanProblem("unknown_alias", {"room": row.team_room}))
            )
    return ParsedPlan(tuple(rows), tuple(sorted(errors, key=lambda e: e.line)))


def room_aliases(parsed: ParsedPlan) -> list[str]:
    """The aliases the plan names, to resolve before importing."""
    rooms = (row.team_room for row in parsed.rows if row.team_room)
    return sorted({room for room in rooms if is_room_alias(room)})


def date_problem(err: DateError) -> PlanProblem:
    """A date the parser refused (domain.dates error codes), as a problem of the plan."""
    text, details = err.text, err.details
    if err.code == "impossible_date":
        return PlanProblem("impossible_date", {"text": text})
    if err.code == "impossible_week":
        weeks = {"text": text, "weeks": details.get("weeks"), "year": details.get("year")}
        return PlanProblem("impossible_week", weeks)
    if err.code == "impossible_quarter":
        return PlanProblem("impossible_quarter", {"text": text})
    if err.code == "two_digit_year":
        return PlanProblem(
            "two_digit_year", {"text": text, "suggestion": details.get("suggestion")}
        )
    if err.code == "year_out_of_range":
        span = {"text": text, "low": details.get("min"), "high": details.get("max")}
        return PlanProblem("year_out_of_range", span)
    return PlanProblem("date_not_recognized", {"text": text})


# Writing ------------------------------------------------------------------------------


def write_plan(
    views: Iterable[ThemeView], participants: Mapping[int, Sequence[str]] | None = None
) -> str:
    """The plan with the current state, in the format read_plan reads (semicolons, CRLF);
    `participants`: the named Z2 participants by theme id."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(WRITE_HEADER)
    named = participants or {}
    for view in sorted(views, key=_plan_order):
        cells = _plan_cells(view, named.get(view.id, ()))
        writer.writerow([_safe(cell) for cell in cells])
    return out.getvalue()


def _theme_quarter(view: ThemeView) -> Quarter | None:
    theme = view.theme
    if theme.z2 is not None:
        return quarter_of(theme.z2)
    if theme.planned_quarter:
        try:
            spec = parse_date_spec(theme.planned_quarter, allow_quarter=True)
        except DateError:
            return None
        return spec if isinstance(spec, Quarter) else None
    return None


def _plan_order(view: ThemeView) -> tuple[date, date, str]:
    """By quarter; inside a quarter by Z2, the ideas without one last."""
    quarter = _theme_quarter(view)
    first_day = quarter.first_day if quarter else date.max
    return first_day, view.theme.z2 or date.max, fold(view.theme.name)


def _plan_cells(view: ThemeView, participants: Sequence[str]) -> list[str]:
    theme = view.theme
    quarter = _theme_quarter(view)
    return [
        theme.name,
        format_date(theme.z2) if theme.z2 else "",
        str(quarter) if quarter else (theme.planned_quarter or ""),
        theme.team_room or "",
        theme.department or "",
        " ".join(theme.core_team),
        " ".join(participants),
        theme.contact or "",
        STATUS_WORDS.get(theme.status, theme.status),
    ]


def _safe(cell: str) -> str:
    # A theme name typed in chat must not become a formula when Excel opens the export.
    # An apostrophe of its own is doubled so that reading takes off exactly one.
    return f"'{cell}" if cell.startswith((*_FORMULA_START, "'")) else cell


def spec_matches(spec: DateSpec, z2: date | None, planned_quarter: str | None) -> bool:
    """Whether a theme with this Z2 / planned quarter already stands where `spec` says."""
    if isinstance(spec, Quarter):
        if z2 is not None:
            return quarter_of(z2) == spec  # the idea got its Z2 in the planned quarter
        return planned_quarter == str(spec)
    if z2 is None:
        return False
    if isinstance(spec, CalendarWeek):
        iso = z2.isocalendar()
        return (iso.year, iso.week) == (spec.year, spec.week)
    return z2 == spec.first_day
