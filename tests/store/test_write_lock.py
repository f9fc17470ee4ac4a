"""How the store takes SQLite's write lock (issue 23): a session that may write holds it
from its start, a reading session never takes it (nor may it write), and the writers of
one process take turns in the order they came (store/writers.py)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from bot.store.database import is_unavailable
from bot.store.tables import CouncilMeeting, Theme
from bot.store.themes import Store
from bot.store.writers import WriterTimeout, WriterTurns

NOW = datetime(2027, 6, 1, 9, 0, tzinfo=UTC)
GUARD = 30.0  # seconds: a guard against a hanging test, not a measurement


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "zt.sqlite3"


@pytest.fixture
def store(path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    yield store
    store.close()


def another_writer_may_start(path: Path) -> bool:
    """Whether another process could take the write lock right now (without waiting)."""
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as err:
        assert "database is locked" in str(err)
        return False
    finally:
        other.close()
    return True


def test_a_session_that_may_write_holds_the_lock_from_its_first_read(
    store: Store, path: Path
) -> None:
    """Reading first, then writing, can no longer meet a commit in between."""
    with store.session() as session:
        session.exec(select(Theme)).all()
        assert not another_writer_may_start(path)
        session.add(CouncilMeeting(day=date(2027, 7, 8), added_by="@k:stadt.example"))
        session.commit()
    assert another_writer_may_start(path)
    assert store.council_meetings() == [date(2027, 7, 8)]


def test_a_reading_session_never_takes_the_lock_and_never_writes(store: Store, path: Path) -> None:
    with store.reading() as session:
        session.exec(select(Theme)).all()
        assert another_writer_may_start(path)
        session.add(CouncilMeeting(day=date(2027, 7, 8), added_by="@k:stadt.example"))
        with pytest.raises(sa.exc.OperationalError, match="readonly"):
            session.commit()
    # The pooled connection writes again in the next session that may write.
    assert store.add_council_meeting(date(2027, 7, 8), "@k:stadt.example")


def test_a_read_goes_on_while_another_thread_writes(store: Store) -> None:
    writing, read = threading.Event(), threading.Event()
    seen: list[bool] = []

    def write() -> None:
        with store.unit_of_work():
            store.add_council_meeting(date(2027, 7, 8), "@k:stadt.example")
            writing.set()
            seen.append(read.wait(GUARD))  # the lock is held until the read is done

    writer = threading.Thread(target=write)
    writer.start()
    assert writing.wait(GUARD)
    assert store.council_meetings() == []  # the unit has not committed yet
    read.set()
    writer.join(GUARD)
    assert seen == [True]
    assert store.council_meetings() == [date(2027, 7, 8)]


def eventually(condition: Callable[[], bool]) -> None:
    """Wait for something the other threads do (an event, not a time)."""
    deadline = time.monotonic() + GUARD
    while not condition():
        assert time.monotonic() < deadline, "the other threads hang"
        time.sleep(0.001)


def test_writers_take_turns_in_the_order_they_came() -> None:
    turns = WriterTurns(timeout=GUARD)
    order: list[int] = []
    release = threading.Event()

    def hold() -> None:
        with turns.turn():
            release.wait(GUARD)

    def write(n: int) -> None:
        with turns.turn():
            order.append(n)

    holder = threading.Thread(target=hold)
    holder.start()
    eventually(lambda: turns.busy)
    writers = []
    for n in range(5):
        writers.append(threading.Thread(target=write, args=(n,)))
        writers[-1].start()
        eventually(lambda n=n: turns.waiting == n + 1)
    release.set()
    for thread in [holder, *writers]:
        thread.join(GUARD)
    assert order == [0, 1, 2, 3, 4]
    assert not turns.busy and turns.waiting == 0


def test_a_write_session_inside_another_fails_at_once(store: Store) -> None:
    """It would wait for the lock its own thread holds; a unit of work is the way."""
    with pytest.raises(RuntimeError, match="inside another"), store.session() as session:
        session.exec(select(Theme)).all()
        store.add_council_meeting(date(2027, 7, 8), "@k:stadt.example")
    with store.unit_of_work(), store.session() as session:
        session.exec(select(Theme)).all()
        assert store.add_council_meeting(date(2027, 7, 8), "@k:stadt.example")
        session.commit()  # the inner session's savepoint lies within this one's
    assert store.council_meetings() == [date(2027, 7, 8)]


def test_a_writer_that_waited_too_long_gives_up_and_the_next_one_gets_in() -> None:
    turns = WriterTurns(timeout=0.05)
    release = threading.Event()
    failures: list[BaseException] = []

    def hold() -> None:
        with turns.turn():
            release.wait(GUARD)

    def wait_too_long() -> None:
        try:
            with turns.turn():
                pass
        except WriterTimeout as err:
            failures.append(err)

    holder = threading.Thread(target=hold)
    holder.start()
    eventually(lambda: turns.busy)
    late = threading.Thread(target=wait_too_long)
    late.start()
    late.join(GUARD)
    assert len(failures) == 1 and is_unavailable(failures[0])  # tried again by the caller
    release.set()
    holder.join(GUARD)
    with turns.turn():
        assert turns.waiting == 0
