"""Forgetting a person and pruning old history, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.cli import main
from bot.domain.process import load_template
from bot.domain.themes import StepState, ThemeView
from bot.domain.timeline import plan
from bot.rendering import Renderer
from bot.store.privacy import (
    FORGOTTEN,
    PLACES,
    forget_user,
    mention_pattern,
    place_labels,
    prune,
    prune_on_start,
    retention_cutoff,
)
from bot.store.themes import Store

NOW = datetime(2027, 3, 17, 10, 0, tzinfo=UTC)
Z2 = date(2027, 4, 12)
ANNA = "@anna:x"
BEN = "@ben:x"


def create(store: Store, *, by: str = ANNA, now: datetime = NOW, name: str = "Mobilität"):
    template = load_template()
    return store.create_theme(
        name=name,
        z2=Z2,
        planned_quarter=None,
        team_room="!team:x",
        template=template,
        planned=plan(template, Z2),
        created_by=by,
        now=now,
    )


def mark(store: Store, view: ThemeView, key: str, actor: str, note: str, now: datetime = NOW):
    store.set_step_state(
        view.id, key, state=StepState.done, actor=actor, now=now, note=note, action="done"
    )


def seed_anna_and_ben(store: Store) -> ThemeView:
    view = create(store)  # created_by and the "created" history entry
    mark(store, view, "3", ANNA, f"abgestimmt mit {ANNA} und {BEN}")
    mark(store, view, "1", BEN, f"Rückfrage an {ANNA}.")
    store.set_responsible(view.id, "5", [ANNA, BEN], actor="@k:x", now=NOW)
    assert store.add_council_meeting(date(2027, 5, 20), ANNA)
    return view


def text_values(engine: sa.Engine) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text value in the whole database, found
    independently of store.privacy's own list of places."""
    found = []
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        for table in inspector.get_table_names():
            for column in inspector.get_columns(table):
                if not isinstance(column["type"], sa.String):
                    continue
                query = sa.select(sa.column(column["name"])).select_from(sa.table(table))
                for value in connection.execute(query).scalars():
                    if value is not None:
                        found.append((table, column["name"], value))
    return found


def places_holding(engine: sa.Engine, needle: str) -> set[str]:
    return {f"{t}.{c}" for t, c, value in text_values(engine) if needle in value}


def test_forget_user_leaves_no_trace_and_spares_others(store: Store) -> None:
    view = seed_anna_and_ben(store)
    assert "step.note" in places_holding(store.engine, ANNA)

    report = forget_user(store, ANNA, now=NOW)

    assert places_holding(store.engine, ANNA) == set()
    assert report.leftovers == ()
    counts = {place: n for place, n in report.changed.items() if n}
    assert counts == {
        "theme.created_by": 1,
        "step.done_by": 1,
        "step.note": 2,
        "responsibility.user_id": 1,
        "history.actor": 2,
        "history.detail": 3,  # two notes and one list of responsible people
        "council_meeting.added_by": 1,
    }
    assert report.total == 11
    assert report.at == NOW and report.user_id == ANNA

    again = store.theme_by_id(view.id)
    assert again.theme.created_by == FORGOTTEN
    assert (again.step("3").state, again.step("3").done_by) == ("done", FORGOTTEN)
    assert again.step("3").note == f"abgestimmt mit {FORGOTTEN} und {BEN}"
    assert (again.step("1").done_by, again.step("1").note) == (BEN, f"Rückfrage an {FORGOTTEN}.")
    assert again.responsible == {"5": (BEN,)}
    history = {h.action: h for h in store.history(view.id)}
    assert history["created"].actor == FORGOTTEN
    assert history["responsible"].detail["users"] == [FORGOTTEN, BEN]
    assert history["responsible"].actor == "@k:x"
    assert places_holding(store.engine, BEN) >= {"step.done_by", "responsibility.user_id"}


def test_forget_twice_changes_nothing_more(store: Store) -> None:
    seed_anna_and_ben(store)
    forget_user(store, ANNA, now=NOW)
    assert forget_user(store, ANNA, now=NOW).total == 0


def test_dry_run_counts_but_keeps_everything(store: Store) -> None:
    seed_anna_and_ben(store)
    before = sorted(text_values(store.engine))
    report = forget_user(store, ANNA, now=NOW, dry_run=True)
    assert report.dry_run and report.total == 11
    assert sorted(text_values(store.engine)) == before


def test_a_longer_id_on_the_same_server_is_another_person(store: Store) -> None:
    view = create(store, by="@anna:x.org")
    mark(store, view, "3", "@anna:x.org", "von @anna:x.org, nicht @anna:x")
    report = forget_user(store, ANNA, now=NOW)
    assert report.changed["step.note"] == 1
    step = store.theme_by_id(view.id).step("3")
    assert (step.done_by, step.note) == ("@anna:x.org", f"von @anna:x.org, nicht {FORGOTTEN}")


def test_a_place_not_in_the_list_is_reported(store: Store) -> None:
    # A theme name is the coordinators' choice: not rewritten, but the operator is told.
    create(store, by="@k:x", name=f"Sprechstunde {ANNA}")
    report = forget_user(store, ANNA, now=NOW)
    assert report.leftovers == ("theme.name", "theme.name_key")


def test_ideas_are_forgotten_where_the_schema_has_them(store: Store) -> None:
    with store.engine.connect() as connection:
        inspector = sa.inspect(connection)
        has_ideas = inspector.has_table("idea")
        columns = {c["name"] for c in inspector.get_columns("idea")} if has_ideas else set()
    if not {"theme_id", "text", "author", "status", "created_at", "decided_by"} <= columns:
        pytest.skip("no idea table in this schema yet")
    view = create(store, by="@k:x")
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO idea (theme_id, text, author, status, created_at, decided_by) "
                "VALUES (:theme, :text, :author, 'open', :at, :decided)"
            ),
            {"theme": view.id, "text": f"Frag {ANNA}", "author": ANNA, "at": NOW, "decided": BEN},
        )
    report = forget_user(store, ANNA, now=NOW)
    assert (report.changed["idea.author"], report.changed["idea.text"]) == (1, 1)
    assert report.changed["idea.decided_by"] == 0
    assert places_holding(store.engine, ANNA) == set()


def test_an_open_answer_naming_someone_is_forgotten_too(store: Store) -> None:
    """Open answers are kept without author, but the text may name a person."""
    view = create(store, by="@k:x")
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO evaluation (id, theme_id, mode, status, room_id, questionnaire_json,"
                " min_answers, opened_at, closes_at, reminded, participants, kind, auto_started)"
                " VALUES (1, :theme, 'anonym', 'closed', '!r:x', '{}', 3, :at, :at, false, 2,"
                " 'intern', false)"
            ),
            {"theme": view.id, "at": NOW},
        )
        connection.execute(
            sa.text(
                "INSERT INTO evaluation_open_answer (evaluation_id, question_key, text)"
                " VALUES (1, 'aendern', :text)"
            ),
            {"text": f"Mehr Zeit mit {ANNA} einplanen"},
        )
    report = forget_user(store, ANNA, now=NOW)
    assert report.changed["evaluation_open_answer.text"] == 1
    assert places_holding(store.engine, ANNA) == set()


def test_cli_forget_user(store: Store, database_url: str, tmp_path: Path, capsys) -> None:
    seed_anna_and_ben(store)
    config = tmp_path / "zt.toml"
    config.write_text(
        f"""
[matrix]
homeserver = "https://matrix.x"
user_id = "@zt-bot:x"
password = "geheim"
[database]
url = "{database_url}"
[bot]
data_dir = "{tmp_path / "data"}"
""",
        "utf-8",
    )
    assert main(["forget-user", "--config", str(config), ANNA, "--dry-run"]) == 0
    assert "Probelauf" in capsys.readouterr().out
    assert places_holding(store.engine, ANNA)  # still there

    assert main(["forget-user", "--config", str(config), ANNA]) == 0
    out = capsys.readouterr().out
    assert "Verlauf: wer" in out and "zusammen" in out and "11" in out
    assert places_holding(store.engine, ANNA) == set()

    assert main(["forget-user", "--config", str(config), "anna"]) == 2
    assert "keine Matrix-ID" in capsys.readouterr().err


# Retention ------------------------------------------------------------------------------


def test_prune_removes_old_history_and_notes_but_keeps_states(store: Store) -> None:
    old = NOW - timedelta(days=400)
    view = create(store, now=old)
    mark(store, view, "1", ANNA, "alte Notiz", now=old)
    mark(store, view, "3", BEN, "neue Notiz", now=NOW)

    report = prune(store, older_than=NOW - timedelta(days=365))

    assert (report.history_deleted, report.notes_cleared) == (2, 1)
    again = store.theme_by_id(view.id)
    assert (again.step("1").state, again.step("1").done_on, again.step("1").note) == (
        StepState.done,
        old.date(),
        None,
    )
    assert (again.step("3").state, again.step("3").note) == (StepState.done, "neue Notiz")
    assert [(h.action, h.at) for h in store.history(view.id)] == [("done", NOW)]


def test_prune_on_start_follows_retention_days(store: Store) -> None:
    view = create(store, now=NOW - timedelta(days=31))
    assert prune_on_start(store, retention_days=None, now=NOW) is None
    assert len(store.history(view.id)) == 1
    report = prune_on_start(store, retention_days=30, now=NOW)
    assert report is not None and report.history_deleted == 1
    assert store.history(view.id) == []


# The id in text, without a database ------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("@anna:x", True),
        ("Danke @anna:x.", True),
        ("(@anna:x)", True),
        ("@Anna:X", True),
        ("https://matrix.to/#/%40anna%3Ax", True),
        ("@anna:x.org", False),
        ("@anna:xy", False),
        ("@anna:x:8448", False),
        ("@hanna:x", False),
    ],
)
def test_mention_pattern(text: str, found: bool) -> None:
    assert bool(mention_pattern(ANNA).search(text)) is found


def test_retention_cutoff() -> None:
    assert retention_cutoff(NOW, None) is None
    assert retention_cutoff(NOW, 30) == NOW - timedelta(days=30)
    with pytest.raises(ValueError):
        retention_cutoff(NOW, 0)


def test_documents_milestones_and_an_ideas_owner_are_forgotten_too(store: Store) -> None:
    """Issue 21's places: who put a document on a step or a milestone in the plan, and
    who puts an adopted idea into practice."""
    from bot.domain.milestones import Milestone
    from bot.store.evaluations import EvaluationStore

    view = create(store, by=BEN)
    store.add_documents(view.id, "4", [("https://x.example/f", "Foto")], actor=ANNA, now=NOW)
    store.set_milestone(
        Milestone("Reallabor", date(2027, 5, 3), date(2027, 5, 3), "03.05.2027", "day"),
        actor=ANNA,
        now=NOW,
    )
    ideas = EvaluationStore(store)
    idea = ideas.add_idea(view.id, "Früher einladen", None, NOW)
    ideas.decide_idea(
        idea.id, "adopted", by=BEN, reason=None, now=NOW, owner=ANNA, follow_up=date(2027, 6, 1)
    )
    ideas.implement_idea(idea.id, by=ANNA, now=NOW)
    report = forget_user(store, ANNA, now=NOW)
    assert places_holding(store.engine, ANNA) == set() and report.leftovers == ()
    counts = {place: n for place, n in report.changed.items() if n}
    assert {
        "step_document.added_by": 1,
        "strategy_milestone.added_by": 1,
        "idea.owner": 1,
        "idea.implemented_by": 1,
    }.items() <= counts.items()


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_report_names_every_place_in_both_languages(language: str) -> None:
    labels = place_labels(Renderer(language))
    assert set(labels) == {place.name for place in PLACES} and all(labels.values())
    expected = {"de": "Themen: angelegt von", "en": "Themes: created by"}[language]
    assert labels["theme.created_by"] == expected
