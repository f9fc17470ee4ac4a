"""domain.plan_file: the annual plan CSV as German Excel and other tools write it."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.dates import CalendarWeek, ExactDate, Quarter
from bot.domain.plan_file import (
    PlanError,
    PlanProblem,
    decode_plan,
    read_plan,
    room_aliases,
    sniff_delimiter,
    spec_matches,
    with_resolved_rooms,
    write_plan,
)
from bot.domain.process import load_template
from bot.domain.theme_names import clean_name, fold
from bot.domain.themes import ThemeRecord, ThemeStatus, ThemeView
from bot.rendering import Renderer
from bot.store.plan_import import error_text, problem_text

TEMPLATE_JSON = load_template().to_json()
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))

PLAN = (
    "Thema;Z2 oder Quartal;Teamraum\r\n"
    "Digitale Ethik;KW 15/2027;!ethik:example.org\r\n"
    "Mobilität;15.06.2027;\r\n"
    "Regenwasserbewirtschaftung;Q4/2027\r\n"
    "Grünflächen und Stadtbäume;2027-09-20;\r\n"
)
EXPECTED = [
    ("Digitale Ethik", CalendarWeek(2027, 15), "!ethik:example.org", 2),
    ("Mobilität", ExactDate(date(2027, 6, 15)), None, 3),
    ("Regenwasserbewirtschaftung", Quarter(2027, 4), None, 4),
    ("Grünflächen und Stadtbäume", ExactDate(date(2027, 9, 20)), None, 5),
]


def _rows(data: bytes | str) -> list[tuple]:
    parsed = read_plan(data)
    assert parsed.errors == (), parsed.errors
    assert parsed.ok
    return [(row.name, row.spec, row.team_room, row.line) for row in parsed.rows]


def _errors(text: str) -> list[tuple[int, str]]:
    parsed = read_plan(text.encode("utf-8"))
    assert not parsed.ok
    return [(error.line, problem_text(error.problem)) for error in parsed.errors]


# Encodings and separators -------------------------------------------------------------


def test_utf8_semicolon_with_umlauts() -> None:
    assert _rows(PLAN.encode("utf-8")) == EXPECTED


def test_utf8_with_bom() -> None:
    assert _rows(PLAN.encode("utf-8-sig")) == EXPECTED


def test_windows_1252_as_german_excel_writes_it() -> None:
    data = PLAN.encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really not UTF-8: the umlauts are single bytes
    assert _rows(data) == EXPECTED
    assert decode_plan(data) == PLAN


def test_comma_separated_with_quoted_cells() -> None:
    text = (
        "Thema,Z2,Teamraum\n"
        '"Wohnen, Bauen und Leben",15.04.2027,\n'
        "Mobilität,KW15 2027,!m:example.org\n"
    )
    assert _rows(text.encode("utf-8")) == [
        ("Wohnen, Bauen und Leben", ExactDate(date(2027, 4, 15)), None, 2),
        ("Mobilität", CalendarWeek(2027, 15), "!m:example.org", 3),
    ]


def test_tab_separated_and_str_input() -> None:
    assert _rows("Thema\tZ2\nMobilität\t15.06.2027\n") == [
        ("Mobilität", ExactDate(date(2027, 6, 15)), None, 2)
    ]


def test_sniff_delimiter() -> None:
    assert sniff_delimiter("Thema;Z2;Teamraum\n") == ";"
    assert sniff_delimiter("\n\nThema,Z2\n") == ","
    assert sniff_delimiter("Thema\tZ2\n") == "\t"
    assert sniff_delimiter("Thema\n") == ";"


# Headers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        "Thema;Z2;Teamraum",
        "THEMA;z2;TEAMRAUM",
        "Thema;Z2 oder Quartal;Team-Raum",
        "Thema;Z2/Quartal;Teamraum",
        "  Thema ; Datum ; Teamraum ",
        "Themen;Termin;Fachbereichsraum",
    ],
)
def test_header_names_are_matched_loosely(header: str) -> None:
    rows = _rows(f"{header}\nMobilität;15.06.2027;!m:example.org\n")
    assert rows == [("Mobilität", ExactDate(date(2027, 6, 15)), "!m:example.org", 2)]


def test_separate_quarter_column_and_extra_columns() -> None:
    text = (
        "Nr;Thema;Z2;Quartal;Status;Bemerkung\n"
        "1;Mobilität;15.06.2027;Q2/2027;aktiv;\n"
        "2;Regenwasser;;Q4/2027;Idee;später\n"
    )
    assert _rows(text) == [
        ("Mobilität", ExactDate(date(2027, 6, 15)), None, 2),
        ("Regenwasser", Quarter(2027, 4), None, 3),
    ]


def test_header_problems() -> None:
    assert _errors("Name;Teamraum\nMobilität;!m:x\n") == [
        (1, "Kopfzeile ohne Spalte „Z2“ oder „Quartal“ (erwartet: Thema; Z2; Teamraum)")
    ]
    assert _errors("Mobilität;15.06.2027\n")[0][0] == 1
    assert "mehrfach" in _errors("Thema;Thema;Z2\na;b;15.06.2027\n")[0][1]
    assert _errors("") == [(0, "Datei ist leer")]
    assert _errors(";;;\r\n\r\n") == [(0, "Datei ist leer")]


def test_bytes_that_are_neither_utf8_nor_cp1252() -> None:
    parsed = read_plan(b"Thema;Z2\n\x81\x8d;15.06.2027\n")
    assert parsed.rows == ()
    assert [error.line for error in parsed.errors] == [0]
    assert "UTF-8" in error_text(parsed.errors[0])


# Rows and their errors ----------------------------------------------------------------


def test_quarter_rows_are_ideas() -> None:
    rows = _rows("Thema;Quartal\nRegenwasser;Q4/2027\nKlima;q1 2028\n")
    assert rows == [
        ("Regenwasser", Quarter(2027, 4), None, 2),
        ("Klima", Quarter(2028, 1), None, 3),
    ]


def test_every_bad_row_is_reported_with_its_line() -> None:
    long_name = "A" * 81
    text = (
        "Thema;Z2;Teamraum\n"  # 1
        "Digitale Ethik;KW 15/2027;\n"  # 2 fine
        ";15.06.2027;\n"  # 3 no name
        f"{long_name};15.06.2027;\n"  # 4 too long
        "Mobilität;31.02.2027;\n"  # 5 impossible date
        "Klima;KW 54/2027;\n"  # 6 impossible week
        "Wasser;irgendwann;\n"  # 7 unrecognised
        "Wohnen;;\n"  # 8 no date
        "Schule;Q5/2027;\n"  # 9 no such quarter
        "Energie;15.06.1999;\n"  # 10 year out of range
        "Kultur;15.06.2027;kultur:example.org\n"  # 11 no sigil: neither id nor alias
        "digitale ethik;15.06.2027;\n"  # 12 duplicate of line 2 (folded)
        "\n"  # 13 empty lines are skipped, numbering goes on
        "Sport;15.06.2027;Sporthalle\n"  # 14 no room id
        "Gesundheit;KW 53/2026;!g:example.org\n"  # 15 fine: 2026 has KW 53
    )
    assert _errors(text) == [
        (3, "Thema fehlt"),
        (4, "Name zu lang (81 Zeichen, höchstens 80)"),
        (5, "Datum „31.02.2027“ gibt es nicht"),
        (6, "„KW 54/2027“ gibt es nicht (2027 hat 52 Kalenderwochen)"),
        (
            7,
            "Datum „irgendwann“ nicht erkannt"
            " (z. B. 15.04.2027, KW 15/2027, Q4/2027 oder Q2/Q3 2027)",
        ),
        (8, "Z2 oder Quartal fehlt"),
        (9, "Quartal „Q5/2027“ gibt es nicht (Q1 bis Q4)"),
        (10, "Jahr in „15.06.1999“ liegt nicht zwischen 2000 und 2100"),
        (11, f"Teamraum „kultur:example.org“ {NOT_A_ROOM}"),
        (12, "„digitale ethik“ steht schon in Zeile 2"),
        (14, f"Teamraum „Sporthalle“ {NOT_A_ROOM}"),
    ]
    assert [row.line for row in read_plan(text).rows] == [2, 15]


NOT_A_ROOM = (
    "ist keine Raum-ID (wie !AbC123… oder !abc:example.org) "
    "und keine Raumadresse (wie #mobilitaet:example.org)"
)
V12 = "!-SiEAHmYreA2x61hKP8x9HorLidGjQHYx45APP1lLY0"


def test_team_rooms_of_every_room_version_aliases_and_links() -> None:
    text = (
        "Thema;Z2;Teamraum\n"
        f"Ethik;15.06.2027;{V12}\n"
        "Klima;15.06.2027;!alt:example.org\n"
        f"Wasser;15.06.2027;https://matrix.to/#/{V12}?via=example.org\n"
        "Kultur;15.06.2027;#kultur:example.org\n"
        "Sport;15.06.2027;https://matrix.to/#/%23sport%3Aexample.org\n"
    )
    parsed = read_plan(text)
    assert parsed.ok
    assert [row.team_room for row in parsed.rows] == [
        V12,
        "!alt:example.org",
        V12,
        "#kultur:example.org",
        "#sport:example.org",
    ]
    assert room_aliases(parsed) == ["#kultur:example.org", "#sport:example.org"]
    # The import resolves aliases through the homeserver; one it does not know is an error.
    resolved = with_resolved_rooms(
        parsed, {"#kultur:example.org": "!k", "#sport:example.org": None}
    )
    assert [row.team_room for row in resolved.rows] == [V12, "!alt:example.org", V12, "!k"]
    assert [(e.line, problem_text(e.problem)) for e in resolved.errors] == [
        (6, "Raumadresse „#sport:example.org“ gibt es nicht")
    ]


def test_kw_53_exists_only_in_long_years() -> None:
    assert _errors("Thema;Z2\nKlima;KW 53/2027\n") == [
        (2, "„KW 53/2027“ gibt es nicht (2027 hat 52 Kalenderwochen)")
    ]
    assert _rows("Thema;Z2\nKlima;KW 53/2026\n") == [("Klima", CalendarWeek(2026, 53), None, 2)]


def test_one_row_with_several_problems_reports_each() -> None:
    assert _errors("Thema;Z2;Teamraum\n;31.02.2027;raum\n") == [
        (2, "Thema fehlt"),
        (2, "Datum „31.02.2027“ gibt es nicht"),
        (2, f"Teamraum „raum“ {NOT_A_ROOM}"),
    ]


def test_duplicates_are_found_across_umlaut_spellings() -> None:
    errors = _errors("Thema;Z2\nMobilität;15.06.2027\nMOBILITAET;KW 30/2027\n mobilitat ;Q3/2027\n")
    assert errors == [
        (3, "„MOBILITAET“ steht schon in Zeile 2"),
        (4, "„mobilitat“ steht schon in Zeile 2"),
    ]


def test_quarter_and_z2_must_agree() -> None:
    assert _errors("Thema;Z2;Quartal\nMobilität;15.06.2027;Q3/2027\n") == [
        (2, "Z2 15.06.2027 liegt nicht im Quartal Q3/2027")
    ]
    assert _errors("Thema;Z2;Quartal\nMobilität;;15.06.2027\n") == [
        (2, "Quartal „15.06.2027“ erwartet wie Q4/2027")
    ]


def test_names_are_cleaned_and_line_numbers_survive_multiline_cells() -> None:
    text = 'Thema;Z2\n"Digitale\nEthik";KW 15/2027\n  Mobilität   und  Verkehr ;15.06.2027\n'
    assert _rows(text) == [
        ("Digitale Ethik", CalendarWeek(2027, 15), None, 2),
        ("Mobilität und Verkehr", ExactDate(date(2027, 6, 15)), None, 4),
    ]


def test_matrix_to_links_name_the_room() -> None:
    rows = _rows("Thema;Z2;Teamraum\nMobilität;15.06.2027;https://matrix.to/#/!abc:example.org\n")
    assert rows[0][2] == "!abc:example.org"


def test_plan_error_text() -> None:
    assert error_text(PlanError(4, PlanProblem("no_name"))) == "Zeile 4: Thema fehlt"
    assert error_text(PlanError(0, PlanProblem("empty"))) == "Datei ist leer"
    english = Renderer("en")
    assert error_text(PlanError(4, PlanProblem("no_name")), english) == (
        "Line 4: The theme is missing"
    )
    week = PlanProblem("impossible_week", {"text": "KW 53/2027", "weeks": 52, "year": 2027})
    assert problem_text(week, english) == "“KW 53/2027” does not exist (2027 has 52 calendar weeks)"


# Writing ------------------------------------------------------------------------------


def _view(
    theme_id: int,
    name: str,
    z2: date | None = None,
    quarter: str | None = None,
    room: str | None = None,
    status: ThemeStatus | None = None,
    **team: object,
) -> ThemeView:
    theme = ThemeRecord(
        id=theme_id,
        name=name,
        name_key=fold(name),
        z2=z2,
        planned_quarter=quarter,
        status=status or (ThemeStatus.active if z2 else ThemeStatus.idea),
        team_room=room,
        process_json=TEMPLATE_JSON,
        created_by="@k:example.org",
        created_at=NOW,
        **team,  # type: ignore[arg-type]
    )
    return ThemeView(theme, ())


VIEWS = [
    _view(1, "Regenwasserbewirtschaftung", quarter="Q4/2027"),
    _view(
        2,
        "Mobilität",
        date(2027, 6, 15),
        room="!m:example.org",
        department="Amt für Verkehr",
        core_team=("@anna:example.org", "@ben:example.org"),
        contact="Anna, Tel. 1",
    ),
    _view(3, "Digitale Ethik", date(2027, 4, 12), quarter="Q2/2027"),
    _view(4, "Wohnen", date(2027, 9, 6), status=ThemeStatus.paused),
    _view(5, "=SUMME(A1)", date(2027, 10, 4), status=ThemeStatus.archived),
]


def test_write_plan_format() -> None:
    participants = {3: ["@ratsfrau:example.org", "@prof:uni.example"]}
    assert write_plan(VIEWS, participants).split("\r\n") == [
        "Thema;Z2;Quartal;Teamraum;Fachbereich;Kernteam;Teilnehmende;Kontakt;Status",
        "Digitale Ethik;12.04.2027;Q2/2027;;;;'@ratsfrau:example.org @prof:uni.example;;aktiv",
        "Mobilität;15.06.2027;Q2/2027;!m:example.org;Amt für Verkehr;"
        "'@anna:example.org @ben:example.org;;Anna, Tel. 1;aktiv",  # @ starts a formula
        "Wohnen;06.09.2027;Q3/2027;;;;;;pausiert",
        "'=SUMME(A1);04.10.2027;Q4/2027;;;;;;archiviert",  # never a live formula
        "Regenwasserbewirtschaftung;;Q4/2027;;;;;;Idee",
        "",
    ]


def test_write_then_read_round_trip() -> None:
    for encoding in ("utf-8", "utf-8-sig", "cp1252"):
        parsed = read_plan(write_plan(VIEWS).encode(encoding))
        assert parsed.ok, parsed.errors
        got = {row.name: row for row in parsed.rows}
        for view in VIEWS:
            row = got[view.theme.name]
            spec, room = row.spec, row.team_room
            assert room == view.theme.team_room
            assert (row.department, row.core_team, row.contact) == (
                view.theme.department,
                view.theme.core_team,
                view.theme.contact,
            )
            assert spec_matches(spec, view.theme.z2, view.theme.planned_quarter)


def test_spec_matches() -> None:
    assert spec_matches(ExactDate(date(2027, 4, 12)), date(2027, 4, 12), None)
    assert not spec_matches(ExactDate(date(2027, 4, 13)), date(2027, 4, 12), None)
    # A calendar week matches any Z2 in that week.
    assert spec_matches(CalendarWeek(2027, 15), date(2027, 4, 15), None)
    assert not spec_matches(CalendarWeek(2027, 16), date(2027, 4, 15), None)
    # A quarter matches the idea's quarter, or a Z2 it has got since, inside that quarter.
    assert spec_matches(Quarter(2027, 4), None, "Q4/2027")
    assert spec_matches(Quarter(2027, 4), date(2027, 11, 8), "Q4/2027")
    assert not spec_matches(Quarter(2027, 4), date(2028, 1, 10), "Q4/2027")
    assert not spec_matches(Quarter(2027, 3), None, "Q4/2027")
    assert not spec_matches(ExactDate(date(2027, 4, 12)), None, "Q2/2027")


_NAME = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzäöüßÄÖÜ ABCXYZ-&.,;\"'=+@"),
    min_size=1,
    max_size=80,
).map(clean_name)


@example(names=["'=x", "''y", "-z", "'a"], days=[date(2027, 1, 1)] * 8)
@given(
    names=st.lists(_NAME, min_size=1, max_size=8, unique_by=fold).filter(lambda names: all(names)),
    days=st.lists(st.dates(date(2000, 1, 1), date(2100, 12, 31)), min_size=8, max_size=8),
)
def test_round_trip_property(names: list[str], days: list[date]) -> None:
    views = [_view(i, name, days[i]) for i, name in enumerate(names)]
    parsed = read_plan(write_plan(views).encode("utf-8-sig"))
    assert parsed.ok, parsed.errors
    assert sorted(row.name for row in parsed.rows) == sorted(names)
    by_name = {row.name: row.spec for row in parsed.rows}
    for view in views:
        assert by_name[view.theme.name] == ExactDate(view.theme.z2)


def test_team_columns_are_read_and_checked() -> None:
    parsed = read_plan(
        "Thema;Z2;Fachbereich;Kernteam;Kontakt\n"
        "Mobilität;15.06.2027;Amt für Verkehr;@anna:example.org, https://matrix.to/#/@ben:example.org;"
        "Anna Beispiel\n"
        "Wohnen;06.09.2027;;anna;\n"
        f"Klima;04.10.2027;{'x' * 201};;\n"
    )
    assert [row.name for row in parsed.rows] == ["Mobilität"]
    row = parsed.rows[0]
    assert row.department == "Amt für Verkehr" and row.contact == "Anna Beispiel"
    assert row.core_team == ("@anna:example.org", "@ben:example.org")
    assert [error_text(e) for e in parsed.errors] == [
        "Zeile 3: Kernteam: „anna“ ist keine Matrix-ID (wie @anna:example.org)",
        "Zeile 4: Fachbereich zu lang (201 Zeichen, höchstens 200)",
    ]


def test_an_old_file_without_team_columns_still_reads() -> None:
    parsed = read_plan("Thema;Z2;Teamraum\nMobilität;15.06.2027;!m:example.org\n")
    assert parsed.ok
    (row,) = parsed.rows
    assert (row.team_room, row.department, row.core_team, row.contact) == (
        "!m:example.org",
        None,
        (),
        None,
    )
