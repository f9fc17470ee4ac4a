"""One command, one transaction: its effect and the record of its reply commit together,
on both backends (Database.unit_of_work)."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime

import pytest

from bot.domain.process import load_template
from bot.domain.timeline import plan
from bot.store.outbox import Outbox
from bot.store.themes import Store

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
TEMPLATE = load_template()


def create(store: Store, name: str) -> None:
    z2 = date(2027, 4, 12)
    store.create_theme(
        name=name,
        z2=z2,
        planned_quarter=None,
        team_room=None,
        template=TEMPLATE,
        planned=plan(TEMPLATE, z2),
        created_by="@k:localhost",
        now=NOW,
    )


def test_effect_and_reply_record_commit_together(store: Store) -> None:
    outbox = Outbox(store)
    with store.unit_of_work():
        create(store, "Mobilität")
        assert outbox.record("$cmd1", "!r", {"body": "ok"}, NOW)
    assert store.theme("Mobilität") is not None
    assert outbox.was_handled("$cmd1")


def test_a_crash_inside_leaves_neither(store: Store) -> None:
    outbox = Outbox(store)
    with pytest.raises(RuntimeError), store.unit_of_work():
        create(store, "Klima")
        outbox.record("$cmd2", "!r", {"body": "ok"}, NOW)
        raise RuntimeError("the process dies before the commit")
    assert store.theme("Klima") is None
    assert not outbox.was_handled("$cmd2")


def test_a_command_handled_before_rolls_its_effect_back(store: Store) -> None:
    outbox = Outbox(store)
    with store.unit_of_work():
        assert outbox.record("$cmd3", "!r", {"body": "ok"}, NOW)

    class HandledBefore(Exception):
        pass

    with pytest.raises(HandledBefore), store.unit_of_work():
        create(store, "Wasser")
        if not outbox.record("$cmd3", "!r", {"body": "again"}, NOW):
            raise HandledBefore
    assert store.theme("Wasser") is None


def test_a_failing_handler_is_undone_but_the_unit_goes_on(store: Store) -> None:
    outbox = Outbox(store)
    with store.unit_of_work():
        with pytest.raises(ValueError), store.savepoint():
            create(store, "Boden")
            raise ValueError("the handler had a bug")
        assert outbox.record("$cmd4", "!r", {"body": "interner Fehler"}, NOW)
    assert store.theme("Boden") is None
    assert outbox.was_handled("$cmd4")


def test_two_units_for_one_command_apply_it_once(store: Store) -> None:
    """Two instances (a rolling update) handle the same command at once: one wins, the
    other's effect rolls back (PostgreSQL: the unique event id; SQLite: the write lock)."""
    outbox = Outbox(store)
    start = threading.Event()
    results: list[object] = []

    def handle(name: str) -> None:
        start.wait(timeout=10)
        try:
            with store.unit_of_work():
                create(store, name)
                if not outbox.record("$same", "!r", {"body": name}, NOW):
                    raise LookupError
            results.append(True)
        except LookupError:
            results.append(False)
        except Exception as err:  # anything else is a failure of the test, shown below
            results.append(repr(err))

    threads = [threading.Thread(target=handle, args=(n,)) for n in ("Eins", "Zwei")]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(results, key=str) == [False, True]
    assert len(store.theme_names()) == 1
