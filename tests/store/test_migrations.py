"""The schema is Alembic's: every migration runs on both backends, from empty and from the
first migration with data in it, and the result matches the models exactly."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlmodel import SQLModel

from zukunftstische.domain.process import load_template
from zukunftstische.store.themes import Store, alembic_config

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def revisions() -> list[str]:
    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_upgrade_from_empty_matches_the_models(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade()
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, SQLModel.metadata)
    store.close()
    assert differences == []


def test_every_migration_keeps_the_rows_of_the_first(database_url: str) -> None:
    first, *later = revisions()
    assert later, "there is more than one migration to test"
    store = Store(database_url)
    store.upgrade(first)
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
                "INSERT INTO step (theme_id, key, position, due, pinned, state)"
                " VALUES (1, '4', 4, :due, false, 'done')"
            ),
            {"due": date(2027, 4, 12)},
        )
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
