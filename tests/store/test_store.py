"""The store behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from zukunftstische.domain.process import load_template
from zukunftstische.domain.themes import StepState, ThemeStatus
from zukunftstische.domain.timeline import plan
from zukunftstische.store.themes import Store, ThemeExists

NOW = datetime(2027, 3, 17, 10, 0, tzinfo=UTC)
Z2 = date(2027, 4, 12)


@pytest.fixture
def store(database_url: str):
    store = Store(database_url)
    store.upgrade()
    yield store
    store.close()


def create(store: Store, name: str = "Mobilität"):
    template = load_template()
    return store.create_theme(
        name=name,
        z2=Z2,
        planned_quarter=None,
        team_room="!team:localhost",
        template=template,
        planned=plan(template, Z2),
        created_by="@k:localhost",
        now=NOW,
    )


def test_create_and_find_by_folded_name(store: Store) -> None:
    view = create(store)
    assert [s.key for s in view.steps] == ["1", "2", "3", "3a", "4", "5", "6", "7"]
    assert store.theme("MOBILITAET").theme.id == view.id
    with pytest.raises(ThemeExists):
        create(store, "mobilitat")


def test_changes_are_recorded_with_who_and_when(store: Store) -> None:
    view = create(store)
    store.set_step_state(
        view.id, "3", state=StepState.done, actor="@f:localhost", now=NOW, note="ok", action="done"
    )
    store.set_status(view.id, ThemeStatus.paused, actor="@k:localhost", now=NOW, action="paused")
    store.set_responsible(view.id, "3", ["@a:x", "@b:x", "@a:x"], actor="@k:localhost", now=NOW)
    again = store.theme_by_id(view.id)
    step = again.step("3")
    assert (step.state, step.done_by, step.done_on, step.note) == (
        "done",
        "@f:localhost",
        NOW.date(),
        "ok",
    )
    assert again.theme.status == "paused"
    assert again.responsible == {"3": ("@a:x", "@b:x")}
    history = store.history(view.id)
    assert [h.action for h in history] == ["responsible", "paused", "done", "created"]
    assert all(h.at == NOW and h.at.tzinfo is not None for h in history)


def test_delete_takes_steps_and_history_along(store: Store) -> None:
    view = create(store)
    store.set_responsible(view.id, "3", ["@a:x"], actor="@k:localhost", now=NOW)
    store.delete_theme(view.id)
    with store.engine.connect() as connection:
        for table in ("theme", "step", "history", "responsibility"):
            count = connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert count == 0, table


def test_council_meetings_are_unique(store: Store) -> None:
    assert store.add_council_meeting(date(2027, 5, 20), "@k:localhost")
    assert not store.add_council_meeting(date(2027, 5, 20), "@k:localhost")
    assert store.council_meetings() == [date(2027, 5, 20)]
    assert store.remove_council_meeting(date(2027, 5, 20))
    assert not store.remove_council_meeting(date(2027, 5, 20))
