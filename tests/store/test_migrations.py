"""The schema is Alembic's: every migration runs on both backends, from empty and from the
first migration with data in it, and the result matches the models exactly."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from bot.domain.process import load_template
from bot.domain.theme_names import fold
from bot.store.database import alembic_config, schema_differences
from bot.store.themes import Store

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
Z2 = date(2027, 4, 12)


def insert(connection: sa.Connection, table: str, **values: object) -> None:
    """A row as an older revision stored it, written by hand: the models are the newest's."""
    columns, slots = ", ".join(values), ", ".join(f":{name}" for name in values)
    connection.execute(sa.text(f"INSERT INTO {table} ({columns}) VALUES ({slots})"), values)


def insert_theme(
    connection: sa.Connection,
    theme_id: int,
    name: str,
    process: str,
    *,
    z2: date = Z2,
    digest: bool = False,
    **more: object,
) -> None:
    """A running theme's row with its template copy `process`; `digest`: with the copy's
    SHA-256, as the store writes it from 0017 on."""
    if digest:
        more["process_digest"] = hashlib.sha256(process.encode("utf-8")).hexdigest()
    insert(
        connection, "theme", id=theme_id, name=name, name_key=fold(name), z2=z2,
        status="active", process_json=process, created_by="@k:localhost", created_at=NOW,
        **more,
    )  # fmt: skip


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_upgrade_from_empty_matches_the_models(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade()
    with store.engine.connect() as connection:
        differences = schema_differences(connection, SQLModel.metadata)
    store.close()
    assert differences == []


def test_every_migration_keeps_the_rows_of_the_first(database_url: str) -> None:
    first, *later = revisions()
    assert later, "there is more than one migration to test"
    store = Store(database_url)
    store.upgrade(first)
    with store.engine.begin() as connection:
        insert_theme(connection, 1, "Mobilität", load_template().to_json())
        insert(connection, "step", theme_id=1, key="4", position=4, due=Z2, pinned=False,
               state="done")  # fmt: skip
    store.upgrade()
    view = store.theme("mobilitaet")
    store.close()
    assert view is not None
    assert view.theme.name == "Mobilität" and view.theme.z2 == date(2027, 4, 12)
    assert [(s.key, s.state, s.due) for s in view.steps] == [("4", "done", date(2027, 4, 12))]
    assert json.loads(view.theme.process_json)["steps"][0]["key"] == "1"


def test_upgrade_twice_is_harmless(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade()
    store.upgrade()
    assert store.theme_names() == []
    store.close()


GAP_FIELDS = ("min_weeks_before", "min_weeks_after", "gap_to")


def before_0019() -> dict:
    """The shipped process as themes stored it before 0019: no lead times of its own."""
    process = json.loads(load_template().to_json())
    for step in process["steps"]:
        step.pop("lead_days")
    return process


def before_0018() -> dict:
    """The shipped process as themes stored it before 0018: no step aliases (Z1, Z2)."""
    process = before_0019()
    for step in process["steps"]:
        step.pop("aliases")
    return process


def without_gaps(process: dict) -> dict:
    """A copy as stored before 0014 (no minimum distances)."""
    for step in process["steps"]:
        for field in GAP_FIELDS:
            step.pop(field)
    return process


def before_0013(process: dict) -> dict:
    """A copy of the shipped process as stored before 0013: step 7 one week after step 6,
    for the Koordination only."""
    for step in process["steps"]:
        after = step.pop("after_step", None)
        weeks = step.pop("after_weeks", None)
        if after is not None:
            step["anchor"], step["offset_weeks"] = after, weeks
            step["leads"] = ["koordination"]
    return process


def stored_before_0013() -> dict:
    """The shipped process as a theme stored it at 0012."""
    return before_0013(without_gaps(before_0018()))


def old_copy() -> str:
    """The shipped process as themes stored it before steps had roles."""
    process = before_0013(without_gaps(before_0018()))
    for step in process["steps"]:
        step.pop("role")
        for milestone in step["milestones"]:
            milestone.pop("role")
    return json.dumps(process, ensure_ascii=False)


def test_stored_template_copies_get_their_step_roles(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade("0006")
    own = json.loads(old_copy())
    for step in own["steps"]:  # a city's own process with other keys keeps its copy
        step["key"] = f"S{step['key']}"
        step["anchor"] = step["anchor"] if step["anchor"] == "z2" else f"S{step['anchor']}"
        step["snap"] = None
        for milestone in step["milestones"]:
            milestone["key"] = f"eigen-{milestone['key']}"
    with store.engine.begin() as connection:
        insert_theme(connection, 1, "Mobilität", old_copy())
        insert_theme(connection, 2, "Eigen", json.dumps(own))
    store.upgrade()
    migrated = store.theme_by_id(1)
    unchanged = store.theme_by_id(2)
    assert migrated is not None and unchanged is not None
    assert migrated.template == load_template()  # exactly the roles the process file gives
    assert {s.role for s in unchanged.template.steps} == {None}
    with store.engine.begin() as connection:  # and back (read by hand: the models are newer)
        command.downgrade(alembic_config(connection), "0006")
        downgraded = connection.execute(sa.text("SELECT process_json FROM theme WHERE id = 1"))
        process_json = downgraded.scalar_one()
    store.close()
    assert json.loads(process_json) == json.loads(old_copy())


def test_stored_copies_get_the_draft_resolution_role_and_lose_only_it_again(
    database_url: str,
) -> None:
    store = Store(database_url)
    store.upgrade("0007")
    copy = before_0013(without_gaps(before_0018()))
    for step in copy["steps"]:  # as 0007 left it: every role but the new one
        if step.get("role") == "draft_resolution":
            step.pop("role")
    with store.engine.begin() as connection:
        insert_theme(connection, 1, "Sport", json.dumps(copy), z2=date(2027, 3, 15))
    store.upgrade()
    migrated = store.theme_by_id(1)
    assert migrated is not None and migrated.template == load_template()
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0007")
        text = connection.execute(sa.text("SELECT process_json FROM theme")).scalar_one()
    store.close()
    assert json.loads(text) == copy


def test_0013_puts_step_7_after_z2_and_the_council_and_adds_the_window_columns(
    database_url: str,
) -> None:
    store = Store(database_url)
    store.upgrade("0012")
    copy = before_0013(without_gaps(before_0018()))
    own = json.loads(json.dumps(copy))
    own["steps"][-1]["offset_weeks"] = 3  # a city's own step 7: left as it is
    with store.engine.begin() as connection:
        for theme_id, name, process in ((1, "Sport", copy), (2, "Eigen", own)):
            insert_theme(connection, theme_id, name, json.dumps(process), z2=date(2027, 3, 15))
    store.upgrade()
    migrated, unchanged = store.theme_by_id(1), store.theme_by_id(2)
    assert migrated is not None and unchanged is not None
    assert migrated.template == load_template()
    seven = migrated.template.step("7")
    assert seven is not None and (seven.anchor, seven.offset_weeks, seven.after_step) == (
        "z2",
        5,
        "6",
    )
    assert unchanged.template.step("7").anchor == "6"
    assert unchanged.template.step("7").offset_weeks == 3
    assert (migrated.theme.participation_start, migrated.theme.participation_end) == (None, None)
    store.set_participation(1, date(2027, 2, 1), date(2027, 3, 1), actor="@k:localhost", now=NOW)
    moved = store.theme_by_id(1)
    assert moved is not None
    assert (moved.theme.participation_start, moved.theme.participation_end) == (
        date(2027, 2, 1),
        date(2027, 3, 1),
    )
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0012")
        text = connection.execute(
            sa.text("SELECT process_json FROM theme WHERE id = 1")
        ).scalar_one()
    store.close()
    assert json.loads(text) == copy


def test_0015_keeps_stored_evaluations_as_participants_evaluations(database_url: str) -> None:
    """Evaluations stored before 0015 asked the Z2 participants, and the bot never marked
    one as started by itself: both read so after the upgrade, with their counts intact."""
    store = Store(database_url)
    store.upgrade("0012")
    with store.engine.begin() as connection:
        insert_theme(connection, 1, "Mobilität", load_template().to_json())
        insert(connection, "evaluation", id=1, theme_id=1, mode="anonym", status="closed",
               room_id="!z2:localhost", questionnaire_json="{}", min_answers=3, opened_at=NOW,
               closes_at=NOW, reminded=False, participants=4)  # fmt: skip
        insert(connection, "evaluation_result", evaluation_id=1, question_key="q1",
               answer_id=None, count=3, spoiled=0)  # fmt: skip
    store.upgrade("0015")
    with store.engine.connect() as connection:
        row = connection.execute(
            sa.text("SELECT kind, auto_started, participants FROM evaluation")
        ).one()
        counts = connection.execute(sa.text("SELECT count FROM evaluation_result")).scalars()
        assert list(counts) == [3]
        tables = set(sa.inspect(connection).get_table_names())
    store.close()
    assert (row.kind, bool(row.auto_started), row.participants) == ("teilnehmende", False, 4)
    assert {"evaluation_open_prompt", "evaluation_open_answer", "evaluation_offer"} <= tables


def test_0014_keeps_the_team_room_and_adds_the_team(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade("0012")
    with store.engine.begin() as connection:
        insert_theme(
            connection, 1, "Mobilität", json.dumps(stored_before_0013()),
            team_room="!team:localhost",
        )  # fmt: skip
    store.upgrade()  # through 0014 (the store's code reads the newest schema)
    assert "0014" in revisions()
    view = store.theme("Mobilität")
    assert view is not None
    assert view.theme.team_rooms == ("!team:localhost",)
    assert (view.theme.department, view.theme.contact, view.theme.core_team) == (None, None, ())
    assert view.template == load_template()  # the stored copy got the minimum distances
    store.bind_room(view.id, "team", "!zweiter:localhost", actor="@k:localhost", now=NOW)
    store.add_core_team(view.id, ["@a:localhost"], actor="@k:localhost", now=NOW)
    assert store.theme("Mobilität").theme.team_rooms == ("!team:localhost", "!zweiter:localhost")
    with store.engine.begin() as connection:  # and back: the first team room stays
        command.downgrade(alembic_config(connection), "0012")
    with store.engine.connect() as connection:
        room, process = connection.execute(
            sa.text("SELECT team_room, process_json FROM theme")
        ).one()
    store.close()
    assert room == "!team:localhost"
    assert json.loads(process) == stored_before_0013()


def test_0017_gives_every_stored_copy_its_digest_and_lists_read_the_copy(
    database_url: str,
) -> None:
    """Copies stored before 0017 get their SHA-256; a list reads each distinct copy once
    and hands every theme its own (two themes with different copies stay apart)."""
    store = Store(database_url)
    store.upgrade("0016")
    shipped = load_template().to_json()
    other = json.loads(shipped)
    other["process"]["name"] = "Zukunftstische (alt)"
    copies = {"Mobilität": shipped, "Energie": json.dumps(other, ensure_ascii=False)}
    with store.engine.begin() as connection:
        for number, (name, process) in enumerate(copies.items(), start=1):
            insert_theme(connection, number, name, process)
    store.upgrade()
    with store.engine.connect() as connection:
        digests = dict(connection.execute(sa.text("SELECT name, process_digest FROM theme")).all())
    listed = {view.theme.name: view.theme.process_json for view in store.themes()}
    store.close()
    assert digests == {
        name: hashlib.sha256(process.encode("utf-8")).hexdigest()
        for name, process in copies.items()
    }
    assert listed == copies


def test_0018_names_z1_and_z2_in_stored_copies_and_lets_evaluations_go_without_a_room(
    database_url: str,
) -> None:
    store = Store(database_url)
    store.upgrade("0017")
    shipped = json.dumps(before_0018(), ensure_ascii=False)
    own = before_0018()
    for step in own["steps"]:  # a city's own keys: nothing to match, the copy stays
        step["key"] = f"S{step['key']}"
        step["anchor"] = step["anchor"] if step["anchor"] == "z2" else f"S{step['anchor']}"
        step["role"] = None
        step["gap_to"] = "z2"
        step["after_step"] = None
    own_text = json.dumps(own, ensure_ascii=False)
    with store.engine.begin() as connection:
        insert_theme(connection, 1, "Mobilität", shipped, digest=True)
        insert_theme(connection, 2, "Eigen", own_text, digest=True)
    store.upgrade()
    migrated, unchanged = store.theme_by_id(1), store.theme_by_id(2)
    assert migrated is not None and unchanged is not None
    assert migrated.template == load_template()
    assert migrated.template.step("z1").key == "2" and migrated.template.step("Z2").key == "4"
    assert all(not step.aliases for step in unchanged.template.steps)
    assert unchanged.theme.process_json == own_text  # byte for byte
    with store.engine.connect() as connection:
        digest = connection.execute(
            sa.text("SELECT process_json, process_digest FROM theme WHERE id = 1")
        ).one()
    assert digest[1] == hashlib.sha256(digest[0].encode("utf-8")).hexdigest()
    with store.engine.begin() as connection:
        insert(connection, "evaluation", theme_id=1, mode="anonym", status="open",
               room_id=None, questionnaire_json="{}", min_answers=3, opened_at=NOW,
               closes_at=NOW, reminded=False, participants=0, kind="teilnehmende",
               auto_started=False)  # fmt: skip
        command.downgrade(alembic_config(connection), "0017")
        back = connection.execute(sa.text("SELECT process_json FROM theme WHERE id = 1"))
        process_json = back.scalar_one()
        room = connection.execute(sa.text("SELECT room_id FROM evaluation")).scalar_one()
    store.close()
    assert json.loads(process_json) == before_0018()
    assert room == ""


def test_0019_gives_stored_copies_the_shipped_lead_times_and_meetings_a_time_and_place(
    database_url: str,
) -> None:
    store = Store(database_url)
    store.upgrade("0018")
    shipped = json.dumps(before_0019(), ensure_ascii=False)
    own = before_0019()
    for step in own["steps"]:  # a city's own keys and no Z2 role: nothing to match
        step["key"] = f"S{step['key']}"
        step["anchor"] = step["anchor"] if step["anchor"] == "z2" else f"S{step['anchor']}"
        step["role"] = None
        step["gap_to"] = "z2"
        step["after_step"] = None
        step["aliases"] = []
    own_text = json.dumps(own, ensure_ascii=False)
    with store.engine.begin() as connection:
        insert_theme(connection, 1, "Mobilität", shipped, digest=True)
        insert_theme(connection, 2, "Eigen", own_text, digest=True)
        insert(connection, "step", theme_id=1, key="4", position=4, due=Z2, pinned=False,
               state="open")  # fmt: skip
    store.upgrade()
    migrated, unchanged = store.theme_by_id(1), store.theme_by_id(2)
    assert migrated is not None and unchanged is not None
    # The stored copy now reads as the shipped process does, lead times and all.
    assert migrated.template == load_template()
    z1, material, z2 = (migrated.template.step(key) for key in ("Z1", "3", "Z2"))
    assert z1 is not None and material is not None and z2 is not None
    assert [(lead.days, lead.text) for lead in z2.lead_days or ()] == [
        (28, "Einladung verschicken"),
        (7, ""),
    ]
    assert z1.lead_days == z2.lead_days
    assert [(lead.days, lead.before) for lead in material.lead_days or ()] == [(14, "z2")]
    assert unchanged.theme.process_json == own_text  # byte for byte
    # A step's time and place start empty: every stored meeting stays a day.
    step = migrated.step("4")
    assert step is not None and (step.starts_at, step.ends_at, step.place) == (None, None, None)
    with store.engine.connect() as connection:
        digest = connection.execute(
            sa.text("SELECT process_json, process_digest FROM theme WHERE id = 1")
        ).one()
    assert digest[1] == hashlib.sha256(digest[0].encode("utf-8")).hexdigest()
    with store.engine.begin() as connection:
        connection.execute(
            sa.text("UPDATE step SET starts_at = :at, place = 'Ratssaal' WHERE theme_id = 1"),
            {"at": "14:00:00"},
        )
        command.downgrade(alembic_config(connection), "0018")
        process_json = connection.execute(
            sa.text("SELECT process_json FROM theme WHERE id = 1")
        ).scalar_one()
        columns = {c["name"] for c in sa.inspect(connection).get_columns("step")}
    store.close()
    assert json.loads(process_json) == before_0019()
    assert not {"starts_at", "ends_at", "place"} & columns


def test_0020_keeps_ideas_and_themes_and_adds_documents_milestones_and_follow_ups(
    database_url: str,
) -> None:
    """Stored ideas keep their decision and get no owner or day; documents, milestones and
    follow-ups work after it, and going back keeps the ideas."""
    from bot.domain.milestones import Milestone
    from bot.store.evaluations import EvaluationStore

    store = Store(database_url)
    store.upgrade("0018")
    with store.engine.begin() as connection:
        insert_theme(connection, 1, "Mobilität", load_template().to_json())
        insert(connection, "idea", theme_id=1, text="Früher einladen", status="adopted",
               created_at=NOW, decided_by="@k:localhost", decided_at=NOW)  # fmt: skip
    store.upgrade()
    ideas = EvaluationStore(store)
    [idea] = ideas.adopted_open()
    assert (idea.text, idea.owner, idea.follow_up, idea.implemented_at) == (
        "Früher einladen", None, None, None,
    )  # fmt: skip
    store.add_documents(1, "4", [("https://x.example/f", "Foto")], actor="@k:localhost", now=NOW)
    store.set_milestone(
        Milestone("Masterplan", date(2027, 7, 1), date(2027, 9, 30), "Q3/2027", "quarter"),
        actor="@k:localhost",
        now=NOW,
    )
    ideas.decide_idea(
        idea.id, "adopted", by="@k:localhost", reason=None, now=NOW,
        owner="@a:localhost", follow_up=date(2027, 6, 1),
    )  # fmt: skip
    view = store.theme_by_id(1)
    assert view is not None and [d.url for d in view.documents_of("4")] == ["https://x.example/f"]
    assert [m.name for m in store.milestones()] == ["Masterplan"]
    assert [f.day for f in ideas.follow_ups(date(2027, 6, 1))] == [date(2027, 6, 1)]
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0018")
        rows = connection.execute(sa.text("SELECT text, status FROM idea")).all()
    store.close()
    assert [tuple(row) for row in rows] == [("Früher einladen", "adopted")]


def test_0023_keeps_stored_evaluations_and_their_results_internal(database_url: str) -> None:
    """No evaluation stored before 0023 is on the public page after it; a downgrade
    removes only the column, the counts stay."""
    store = Store(database_url)
    store.upgrade("0022")
    with store.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO theme (id, name, name_key, z2, status, process_json, created_by,"
                " created_at) VALUES (1, 'Mobilität', 'mobilitat', :z2, 'active', :process,"
                " '@k:localhost', :now)"
            ),
            {"z2": date(2027, 4, 12), "process": load_template().to_json(), "now": NOW},
        )
        connection.execute(
            sa.text(
                "INSERT INTO evaluation (id, theme_id, mode, status, questionnaire_json,"
                " min_answers, opened_at, closes_at, reminded, participants)"
                " VALUES (1, 1, 'anonym', 'closed', '{}', 3, :now, :now, false, 4)"
            ),
            {"now": NOW},
        )
        connection.execute(
            sa.text(
                "INSERT INTO evaluation_result (evaluation_id, question_key, answer_id, count,"
                " spoiled) VALUES (1, 'q1', NULL, 3, 0)"
            )
        )
    store.upgrade("0023")
    with store.engine.connect() as connection:
        public = connection.execute(sa.text("SELECT public FROM evaluation")).scalar_one()
    with store.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0022")
    with store.engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("evaluation")}
        counts = list(connection.execute(sa.text("SELECT count FROM evaluation_result")).scalars())
    store.close()
    assert bool(public) is False
    assert "public" not in columns and counts == [3]
