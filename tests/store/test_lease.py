"""The lease: one active instance per database (PostgreSQL advisory lock, SQLite lock
file), and the second guard under it: a command's effect and its unique event id commit
in one transaction, so two instances racing on one command apply it once."""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.domain.process import load_template
from bot.domain.timeline import plan
from bot.store.lease import (
    APPLICATION_NAME,
    FileLease,
    NoLease,
    PostgresLease,
    lease_for,
    lease_key,
)
from bot.store.outbox import Outbox
from bot.store.themes import Store
from tests.databases import create_postgres_database, drop_postgres_database

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def postgres_url(postgres_reason: str | None):
    if postgres_reason:
        pytest.skip(postgres_reason)
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


def eventually(condition: Callable[[], bool], seconds: float = 30.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_the_key_is_fixed_and_fits_a_bigint() -> None:
    assert lease_key() == lease_key("zukunftstische-bot")
    assert -(2**63) <= lease_key() < 2**63
    assert lease_key("other") != lease_key()


def test_the_lease_fits_the_database(tmp_path: Path) -> None:
    assert isinstance(lease_for("postgresql+psycopg://u@h/db"), PostgresLease)
    found = lease_for(f"sqlite:///{tmp_path / 'zt.sqlite3'}")
    assert isinstance(found, FileLease) and found.path == tmp_path / "zt.sqlite3.lock"
    assert isinstance(lease_for("sqlite://"), NoLease)


def test_postgres_one_holder_until_it_lets_go(postgres_url: str) -> None:
    first, second = PostgresLease(postgres_url), PostgresLease(postgres_url)
    try:
        assert first.waits and second.waits
        assert first.try_acquire()
        assert first.try_acquire(), "taking it again in the same session is harmless"
        assert first.check()
        assert not second.try_acquire()
        assert not second.check()
        first.release()
        assert not first.check()
        assert second.try_acquire()
        assert second.check()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()


def test_postgres_a_lost_connection_is_a_lost_lease(postgres_url: str) -> None:
    active, standby = PostgresLease(postgres_url), PostgresLease(postgres_url)
    admin = sa.create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    try:
        assert active.try_acquire()
        assert not standby.try_acquire()
        with admin.connect() as connection:
            name = connection.execute(
                sa.text("SELECT application_name FROM pg_stat_activity WHERE pid = :p"),
                {"p": active.backend_pid()},
            ).scalar()
            assert name == APPLICATION_NAME
            connection.execute(
                sa.text("SELECT pg_terminate_backend(:p)"), {"p": active.backend_pid()}
            )
        assert not active.check(), "the active instance must notice and stop"
        # The server ends the session, and its lock with it (a moment after the signal).
        assert eventually(standby.try_acquire)
        assert not active.try_acquire(), "a new connection of the old one is a standby now"
    finally:
        active.release()
        standby.release()
        admin.dispose()


def test_postgres_the_lock_belongs_to_one_database(postgres_url: str) -> None:
    """Bots of two municipalities on one cluster, each with its own database."""
    other_url = create_postgres_database()
    here, there = PostgresLease(postgres_url), PostgresLease(other_url)
    try:
        assert here.try_acquire()
        assert there.try_acquire()
    finally:
        here.release()
        there.release()
        drop_postgres_database(other_url)


def test_postgres_a_process_killed_lets_go(postgres_url: str) -> None:
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from bot.store.lease import PostgresLease\n"
            "lease = PostgresLease(sys.argv[1])\n"
            "assert lease.try_acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            postgres_url,
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    standby = PostgresLease(postgres_url)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not standby.try_acquire()
        holder.kill()  # SIGKILL: no release, the server notices the closed connection
        holder.wait(10)
        assert eventually(standby.try_acquire)
        assert standby.check()
    finally:
        holder.kill()
        standby.release()


def test_sqlite_a_second_instance_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'zt.sqlite3'}"
    first, second = lease_for(url), lease_for(url)
    try:
        assert not first.waits
        assert first.try_acquire()
        assert first.check()
        assert not second.try_acquire(), "refused in the same process (flock, not fcntl)"
        assert str(tmp_path / "zt.sqlite3.lock") in second.describe()
        first.release()
        first.release()  # twice is harmless
        assert second.try_acquire()
    finally:
        first.release()
        second.release()


def test_sqlite_the_lock_goes_with_the_process(tmp_path: Path) -> None:
    path = tmp_path / "zt.sqlite3.lock"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time\n"
            "from pathlib import Path\n"
            "from bot.store.lease import FileLease\n"
            "assert FileLease(Path(sys.argv[1])).try_acquire()\n"
            "print('held', flush=True)\n"
            "time.sleep(60)\n",
            str(path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    lease = FileLease(path)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        assert not lease.try_acquire()
        holder.kill()
        holder.wait(10)
        assert lease.try_acquire()
    finally:
        holder.kill()
        lease.release()


def test_two_instances_racing_on_one_command_apply_it_once(database_url: str) -> None:
    """Two instances (two engines, as two processes) both apply one command before either
    records it: the unique event id, inserted in the effect's transaction, lets one commit
    and rolls the other's effect back. The lease makes this rare; this makes it harmless."""
    stores = [Store(database_url), Store(database_url)]
    stores[0].upgrade()
    template = load_template()
    applied = threading.Barrier(2, timeout=10)
    results: dict[str, object] = {}
    raced: list[str] = []

    def handle(store: Store, name: str) -> None:
        outbox = Outbox(store)
        try:
            with store.unit_of_work():
                z2 = date(2027, 4, 12)
                store.create_theme(
                    name=name,
                    z2=z2,
                    planned_quarter=None,
                    team_room=None,
                    template=template,
                    planned=plan(template, z2),
                    created_by="@k:localhost",
                    now=NOW,
                )
                # PostgreSQL: both effects are applied now (however busy the machine);
                # SQLite: the other waits for the write lock and cannot get this far.
                with contextlib.suppress(threading.BrokenBarrierError):
                    applied.wait(timeout=30 if database_url.startswith("postgresql") else 2)
                    raced.append(name)
                if not outbox.record("$raced", "!r", {"body": name}, NOW):
                    raise LookupError
            results[name] = True
        except LookupError:
            results[name] = False
        except Exception as err:  # anything else fails the test, shown below
            results[name] = repr(err)

    threads = [
        threading.Thread(target=handle, args=(store, name))
        for store, name in zip(stores, ("Eins", "Zwei"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    try:
        assert sorted(results.values(), key=str) == [False, True], results
        if database_url.startswith("postgresql"):
            assert len(raced) == 2, "both applied the command before either recorded it"
        assert len(stores[0].theme_names()) == 1
        assert Outbox(stores[1]).was_handled("$raced")
    finally:
        for store in stores:
            store.close()
