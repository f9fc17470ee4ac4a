"""The store behaves the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from bot.domain.process import load_template
from bot.domain.themes import StepState, ThemeStatus
from bot.domain.timeline import plan
from bot.store.theme_records import ThemeExists
from bot.store.themes import Store

NOW = datetime(2027, 3, 17, 10, 0, tzinfo=UTC)
Z2 = date(2027, 4, 12)


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


def test_several_team_rooms_and_removing_one_keeps_the_others(store: Store) -> None:
    view = create(store)  # team room !team:localhost
    for room in ("!verkehr:localhost", "!umwelt", "!verkehr:localhost"):  # v12 id, a repeat
        store.bind_room(view.id, "team", room, actor="@k:localhost", now=NOW)
    store.bind_room(view.id, "z2", "!z2:localhost", actor="@k:localhost", now=NOW)
    theme = store.theme_by_id(view.id).theme
    assert theme.team_rooms == ("!team:localhost", "!verkehr:localhost", "!umwelt")
    assert store.theme_by_id(view.id).rooms == (
        "!team:localhost",
        "!z2:localhost",
        "!verkehr:localhost",
        "!umwelt",
    )
    # Removing a further room leaves the first; removing the first promotes the next.
    assert store.unbind_room_everywhere(
        view.id, "!verkehr:localhost", actor="@k:localhost", now=NOW
    ) == ["team"]
    assert store.theme_by_id(view.id).theme.team_rooms == ("!team:localhost", "!umwelt")
    assert store.unbind_room_everywhere(
        view.id, "!team:localhost", actor="@k:localhost", now=NOW
    ) == ["team"]
    theme = store.theme_by_id(view.id).theme
    assert (theme.team_room, theme.team_rooms, theme.z2_room) == (
        "!umwelt",
        ("!umwelt",),
        "!z2:localhost",
    )
    assert store.unbind_room_everywhere(view.id, "!nie:localhost", actor="@k", now=NOW) == []


def test_department_contact_and_core_team(store: Store) -> None:
    view = create(store)
    store.set_department(view.id, "Amt für <Verkehr>", actor="@k:localhost", now=NOW)
    store.set_contact(view.id, "Anna, Tel. 1", actor="@k:localhost", now=NOW)
    assert store.add_core_team(
        view.id, ["@a:x", "@b:x", "@a:x"], actor="@k:localhost", now=NOW
    ) == ["@a:x", "@b:x"]
    assert store.add_core_team(view.id, ["@b:x", "@c:x"], actor="@k:localhost", now=NOW) == ["@c:x"]
    assert store.remove_core_team(view.id, ["@b:x", "@z:x"], actor="@k", now=NOW) == ["@b:x"]
    theme = store.theme_by_id(view.id).theme
    assert (theme.department, theme.contact, theme.core_team) == (
        "Amt für <Verkehr>",
        "Anna, Tel. 1",
        ("@a:x", "@c:x"),
    )
    history = [h.action for h in store.history(view.id)]
    assert history[:5] == [
        "core_team_removed",
        "core_team_added",
        "core_team_added",
        "contact",
        "department",
    ]
    store.set_department(view.id, None, actor="@k:localhost", now=NOW)
    assert store.theme_by_id(view.id).theme.department is None
    store.delete_theme(view.id)
    with store.engine.connect() as connection:
        for table in ("core_team_member", "team_room"):
            count = connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert count == 0, table
