"""store.plan_import and the CLI: the annual plan against a real SQLite store, all or nothing."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from bot.cli import main
from bot.config import load_config
from bot.domain.plan_file import read_plan
from bot.domain.process import load_template
from bot.domain.themes import StepState
from bot.store.plan_import import (
    Action,
    decide,
    error_text,
    import_plan,
    problem_text,
    text_progress,
)
from bot.store.theme_records import ThemeExists
from bot.store.themes import Store

TEMPLATE = load_template()
NOW = datetime(2027, 1, 4, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ACTOR = "@bot:localhost"
COUNCIL = date(2027, 5, 20)  # Thursday of KW 20/2027

PLAN = (
    "Thema;Z2 oder Quartal;Teamraum\r\n"
    "Digitale Ethik;KW 15/2027;!ethik:localhost\r\n"
    "Mobilität;15.06.2027;\r\n"
    "Regenwasserbewirtschaftung;Q4/2027;\r\n"
)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(
        "[matrix]\n"
        'homeserver = "http://127.0.0.1:1"\n'
        'user_id = "@bot:localhost"\n'
        'password = "x"\n'
        "[bot]\n"
        f"data_dir = {str(tmp_path)!r}\n"
        "[council]\n"
        f'meetings = ["{COUNCIL.isoformat()}"]\n',
        "utf-8",
    )
    return path


@pytest.fixture
def store(config_file: Path) -> Store:
    store = Store(load_config(config_file).database_url)
    store.upgrade()
    yield store
    store.close()


def _import(store: Store, text: str, **kwargs: object):
    return import_plan(
        store,
        read_plan(text.encode("utf-8")),
        template=TEMPLATE,
        council_meetings=[COUNCIL],
        actor=ACTOR,
        now=NOW,
        **kwargs,
    )


def _csv(tmp_path: Path, text: str, encoding: str = "utf-8", name: str = "plan.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


# Applying -----------------------------------------------------------------------------


def test_import_creates_themes_ideas_and_steps(store: Store) -> None:
    report = _import(store, PLAN)
    assert report.applied
    assert report.count(Action.create) == 3
    ethik = store.theme("digitale ethik")
    assert ethik is not None
    assert ethik.theme.z2 == date(2027, 4, 12)  # Monday of KW 15/2027
    assert ethik.theme.team_room == "!ethik:localhost"
    assert ethik.theme.created_by == ACTOR
    assert [s.key for s in ethik.steps] == [s.key for s in TEMPLATE.steps]
    assert ethik.step("6").due == COUNCIL  # the council meeting decides step 6
    assert all(s.state == StepState.open for s in ethik.steps)
    idea = store.theme("Regenwasserbewirtschaftung")
    assert idea is not None
    assert idea.theme.status == "idea" and idea.theme.planned_quarter == "Q4/2027"
    assert idea.steps == ()
    assert store.history(ethik.id)[0].action == "created"


def test_second_import_of_the_same_file_changes_nothing(store: Store) -> None:
    _import(store, PLAN)
    before = {view.theme.name: (view.theme, view.steps) for view in store.themes()}
    history = {view.id: len(store.history(view.id)) for view in store.themes()}
    report = _import(store, PLAN)
    assert report.count(Action.unchanged) == 3
    assert not report.changes and not report.applied
    after = {view.theme.name: (view.theme, view.steps) for view in store.themes()}
    assert after == before
    assert {view.id: len(store.history(view.id)) for view in store.themes()} == history
    # Other spellings of the same names are the same themes, too.
    respelled = PLAN.replace("Mobilität", "MOBILITAET").replace("KW 15/2027", "kw15 2027")
    assert _import(store, respelled).count(Action.unchanged) == 3


def test_one_bad_row_means_nothing_is_created(store: Store) -> None:
    report = _import(store, PLAN + "Klima;KW 54/2027;\r\n")
    assert not report.applied
    assert [(e.line, problem_text(e.problem)) for e in report.errors] == [
        (5, "„KW 54/2027“ gibt es nicht (2027 hat 52 Kalenderwochen)")
    ]
    assert store.themes(include_archived=True) == []


def test_a_clash_while_writing_rolls_everything_back(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    _import(store, "Thema;Z2\nMobilität;15.06.2027\n")
    # Someone created "Mobilität" between the comparison and the write: the comparison
    # saw no themes, the write meets the existing one half-way through the file.
    monkeypatch.setattr(store, "themes", lambda **_: [])
    with pytest.raises(ThemeExists):
        _import(store, "Thema;Z2\nDigitale Ethik;KW 15/2027\nMobilität;15.06.2027\n")
    monkeypatch.undo()
    assert [view.theme.name for view in store.themes()] == ["Mobilität"]


def test_dry_run_reports_without_writing(store: Store) -> None:
    report = _import(store, PLAN, dry_run=True)
    assert report.count(Action.create) == 3 and not report.applied
    assert store.themes(include_archived=True) == []


def test_changes_to_existing_themes(store: Store) -> None:
    _import(store, PLAN)
    changed = (
        "Thema;Z2;Teamraum\n"
        "Digitale Ethik;KW 16/2027;\n"  # another Z2: not moved by an import
        "Mobilität;15.06.2027;!mobil:localhost\n"  # no team room yet: bound
        "Regenwasserbewirtschaftung;11.11.2027;\n"  # the idea gets its Z2
    )
    report = _import(store, changed)
    assert [(r.row.name, r.action, r.reason) for r in report.results] == [
        ("Digitale Ethik", Action.skipped, "Thema existiert mit anderem Z2 (12.04.2027)"),
        ("Mobilität", Action.update, ""),
        ("Regenwasserbewirtschaftung", Action.update, ""),
    ]
    assert store.theme("Digitale Ethik").theme.z2 == date(2027, 4, 12)
    assert store.theme("Mobilität").theme.team_room == "!mobil:localhost"
    scheduled = store.theme("Regenwasserbewirtschaftung")
    assert scheduled.theme.z2 == date(2027, 11, 11)
    assert scheduled.theme.status == "active"
    assert len(scheduled.steps) == len(TEMPLATE.steps)
    assert store.history(scheduled.id)[0].action == "scheduled"
    # The quarter the idea was planned in still matches; another team room does not.
    # An empty team room cell leaves the bound room alone.
    again = _import(store, PLAN)
    assert [r.action for r in again.results] == [Action.unchanged] * 3
    other = _import(store, "Thema;Z2;Teamraum\nMobilität;15.06.2027;!other:localhost\n")
    assert other.results[0].reason == "Thema existiert mit anderem Teamraum (!mobil:localhost)"


def test_team_columns_create_and_fill_but_never_overwrite(store: Store) -> None:
    report = _import(
        store,
        "Thema;Z2;Teamraum;Fachbereich;Kernteam;Kontakt\n"
        "Mobilität;15.06.2027;!mobil:localhost;Amt für Verkehr;@anna:localhost @ben:localhost;"
        "Anna, Tel. 1\n"
        "Wohnen;06.09.2027;;;;\n",
    )
    assert report.applied and report.count(Action.create) == 2
    mobil = store.theme("Mobilität").theme
    assert (mobil.department, mobil.core_team, mobil.contact) == (
        "Amt für Verkehr",
        ("@anna:localhost", "@ben:localhost"),
        "Anna, Tel. 1",
    )
    # The old file (no team columns) changes nothing; a later file fills what is empty
    # and leaves what was set in chat alone.
    old = _import(store, "Thema;Z2;Teamraum\nMobilität;15.06.2027;!mobil:localhost\n")
    assert [r.action for r in old.results] == [Action.unchanged]
    store.set_department(mobil.id, "Stadtplanung", actor=ACTOR, now=NOW)
    filled = _import(
        store,
        "Thema;Z2;Fachbereich;Kernteam;Kontakt\n"
        "Mobilität;15.06.2027;Anderes Amt;@carl:localhost;\n"
        "Wohnen;06.09.2027;Sozialamt;@dora:localhost;Dora\n",
    )
    assert [r.action for r in filled.results] == [Action.unchanged, Action.update]
    assert store.theme("Mobilität").theme.department == "Stadtplanung"
    wohnen = store.theme("Wohnen").theme
    assert (wohnen.department, wohnen.core_team, wohnen.contact) == (
        "Sozialamt",
        ("@dora:localhost",),
        "Dora",
    )


def test_the_z2_participants_column_names_whom_the_evaluation_asks(store: Store) -> None:
    report = _import(
        store,
        "Thema;Z2;Teilnehmende\n"
        "Mobilität;15.06.2027;@ratsfrau:localhost, @prof:uni.example\n"
        "Wohnen;06.09.2027;\n",
    )
    assert report.applied and report.count(Action.create) == 2
    mobil = store.theme("Mobilität")
    assert store.participants(mobil.id) == ["@ratsfrau:localhost", "@prof:uni.example"]
    # The same file again changes nothing; a further name is added, none is dropped.
    again = _import(store, "Thema;Z2;Teilnehmende\nMobilität;15.06.2027;@prof:uni.example\n")
    assert [r.action for r in again.results] == [Action.unchanged]
    more = _import(store, "Thema;Z2;Teilnehmende\nMobilität;15.06.2027;@experte:localhost\n")
    assert [r.action for r in more.results] == [Action.update]
    assert store.participants(mobil.id) == [
        "@ratsfrau:localhost",
        "@prof:uni.example",
        "@experte:localhost",
    ]
    wrong = read_plan("Thema;Z2;Teilnehmende\nMobilität;15.06.2027;Frau Meyer\n")
    assert [error_text(e) for e in wrong.errors] == [
        "Zeile 2: Teilnehmende: „Frau“ ist keine Matrix-ID (wie @anna:example.org)",
        "Zeile 2: Teilnehmende: „Meyer“ ist keine Matrix-ID (wie @anna:example.org)",
    ]


def test_decide_is_pure_over_rows_and_views(store: Store) -> None:
    _import(store, PLAN)
    rows = read_plan("Thema;Quartal\nRegenwasserbewirtschaftung;Q1/2028\nNeu;Q1/2028\n").rows
    results = decide(rows, store.themes())
    assert [r.action for r in results] == [Action.skipped, Action.create]
    assert results[0].reason == "Thema existiert mit anderem Quartal (Q4/2027)"


def test_progress_on_long_files(store: Store) -> None:
    rows = "".join(f"Thema {n};{1 + n % 28:02d}.02.2027\n" for n in range(120))
    lines: list[tuple[int, int]] = []
    report = _import(store, "Thema;Z2\n" + rows, progress=lambda d, t: lines.append((d, t)))
    assert report.count(Action.create) == 120
    assert lines[-1] == (120, 120) and len(lines) == 120
    assert len(store.themes()) == 120
    stream = io.StringIO()
    bar = text_progress(stream, every=50)
    for done in range(1, 121):
        bar(done, 120)
    assert [line.split()[-1] for line in stream.getvalue().splitlines()] == [
        "50/120",
        "100/120",
        "120/120",
    ]
    quiet = io.StringIO()
    text_progress(quiet, every=50)(3, 3)  # short files get no bar
    assert quiet.getvalue() == ""


# The command line ---------------------------------------------------------------------


def test_cli_import_exit_codes_and_counts(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(config_file)
    bad = _csv(tmp_path, PLAN + ";15.06.2027;\r\nKlima;31.02.2027;raum\r\n", name="bad.csv")
    assert main(["import", "--config", cfg, bad]) == 1
    err = capsys.readouterr().err
    assert "Zeile 5: Thema fehlt" in err
    assert "Zeile 6: Datum „31.02.2027“ gibt es nicht" in err
    assert "Zeile 6: Teamraum „raum“ ist keine Raum-ID" in err and "Raumadresse" in err
    assert "nichts importiert" in err

    good = _csv(tmp_path, PLAN, encoding="cp1252")
    assert main(["import", "--config", cfg, good, "--dry-run"]) == 0
    assert "3 angelegt" in capsys.readouterr().out
    assert main(["import", "--config", cfg, good]) == 0
    assert "3 angelegt, 0 ergänzt, 0 unverändert, 0 übersprungen" in capsys.readouterr().out
    assert main(["import", "--config", cfg, good]) == 0
    assert "0 angelegt, 0 ergänzt, 3 unverändert" in capsys.readouterr().out

    moved = _csv(tmp_path, "Thema;Z2\nMobilität;KW 30/2027\n", name="moved.csv")
    assert main(["import", "--config", cfg, moved]) == 0
    out = capsys.readouterr().out
    assert "Zeile 2: „Mobilität“ übersprungen: Thema existiert mit anderem Z2 (15.06.2027)" in out
    assert main(["import", "--config", cfg, str(tmp_path / "missing.csv")]) == 2


def test_cli_export_round_trips_through_import(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(config_file)
    assert main(["import", "--config", cfg, _csv(tmp_path, PLAN)]) == 0
    capsys.readouterr()
    exported = tmp_path / "export.csv"
    assert main(["export", "--config", cfg, "--output", str(exported)]) == 0
    data = exported.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")  # Excel opens UTF-8 with its umlauts
    assert data.decode("utf-8-sig").splitlines() == [
        "Thema;Z2;Quartal;Teamraum;Fachbereich;Kernteam;Teilnehmende;Kontakt;Status",
        "Digitale Ethik;12.04.2027;Q2/2027;!ethik:localhost;;;;;aktiv",
        "Mobilität;15.06.2027;Q2/2027;;;;;;aktiv",
        "Regenwasserbewirtschaftung;;Q4/2027;;;;;;Idee",
    ]
    assert main(["import", "--config", cfg, str(exported)]) == 0
    assert "0 angelegt, 0 ergänzt, 3 unverändert" in capsys.readouterr().out
    assert main(["export", "--config", cfg]) == 0
    assert capsys.readouterr().out.startswith("Thema;Z2;Quartal;Teamraum;Fachbereich")


def test_cli_export_ics(
    tmp_path: Path, config_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = str(config_file)
    assert main(["import", "--config", cfg, _csv(tmp_path, PLAN)]) == 0
    export = ["export-ics", "--config", cfg, "--theme"]
    output = tmp_path / "ethik.ics"
    assert main([*export, "digitale", "--output", str(output)]) == 0
    first = Calendar.from_ical(output.read_bytes())
    events = list(first.walk("VEVENT"))
    # Every step and the digital participation window (issue 12).
    assert len(events) == len(TEMPLATE.steps) + 1
    assert "Federführung: Fachbereich, Koordination" in str(events[0]["DESCRIPTION"])
    assert main([*export, "Digitale Ethik", "--output", str(tmp_path / "again.ics")]) == 0
    again = Calendar.from_ical((tmp_path / "again.ics").read_bytes())
    assert [e["UID"] for e in again.walk("VEVENT")] == [e["UID"] for e in events]
    capsys.readouterr()
    assert main([*export, "Mobilitaet"]) == 0
    assert "BEGIN:VCALENDAR" in capsys.readouterr().out
    assert main([*export, "Klimaschutz"]) == 1
    assert "nicht gefunden" in capsys.readouterr().err
