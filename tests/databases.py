"""Test databases on both backends: SQLite files, and fresh databases on the PostgreSQL
server of this machine (127.0.0.1:5432, user postgres, trust auth, database test).

Several test runs may share that server at once (`make test` runs its passes side by
side), and one test restarts it (tests/integration/test_faults.py). So a process holds
the server shared from the moment it has a database there until it drops the last one,
and the restart holds it alone: it waits until no other process has a database on it,
and they wait while it restarts (`SERVER.alone()`).
"""

from __future__ import annotations

import errno
import fcntl
import os
import tempfile
import threading
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get(
    "ZT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# `ZT_TEST_DATABASE=postgresql` runs the integration bots on PostgreSQL instead of SQLite.
BACKEND = os.environ.get("ZT_TEST_DATABASE", "sqlite")


class ServerUse:
    """Who uses the PostgreSQL server, across the test processes of this machine: a POSIX
    record lock on a file named after the server. Such locks belong to the process, so its
    own shared hold never stands in the way of its own restart, and they go with it when it
    ends, however it ends."""

    def __init__(self, url: str) -> None:
        address = sa.make_url(url)
        name = f"zt-tests-postgresql-{address.host}-{address.port or 5432}.lock"
        self.path = Path(tempfile.gettempdir()) / name
        self._mutex = threading.Lock()
        self._file: int | None = None
        self._shared = 0
        self._alone = False

    def _set(self, kind: int) -> None:
        if self._file is None:
            self._file = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        while True:
            try:
                fcntl.lockf(self._file, kind)  # waits for the other processes
                return
            except OSError as err:  # two processes want it alone at once: one waits
                if err.errno != errno.EDEADLK:
                    raise
                time.sleep(0.5)

    def share(self) -> None:
        with self._mutex:
            self._shared += 1
            if self._shared == 1 and not self._alone:
                self._set(fcntl.LOCK_SH)

    def unshare(self) -> None:
        with self._mutex:
            self._shared -= 1
            if self._shared == 0 and not self._alone:
                self._set(fcntl.LOCK_UN)

    def alone(self) -> None:
        """Wait until no other process uses the server, and keep them off it (blocks: call
        it in a thread from async code)."""
        with self._mutex:
            self._set(fcntl.LOCK_EX)
            self._alone = True

    def not_alone(self) -> None:
        with self._mutex:
            self._alone = False
            self._set(fcntl.LOCK_SH if self._shared else fcntl.LOCK_UN)


SERVER = ServerUse(POSTGRES_ADMIN_URL)


def postgres_unavailable() -> str | None:
    """None when the server answers, else why not (never while a test restarts it)."""
    SERVER.share()
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as err:  # any reason at all means: no server to test against
        return f"no PostgreSQL at {POSTGRES_ADMIN_URL}: {type(err).__name__}"
    finally:
        SERVER.unshare()
    return None


def create_postgres_database() -> str:
    """A new, empty database; its URL. The server is held shared until it is dropped."""
    name = f"zt_test_{uuid.uuid4().hex[:12]}"
    SERVER.share()
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except BaseException:
        SERVER.unshare()
        raise
    finally:
        admin.dispose()
    return sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = sa.make_url(url).database
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()
        SERVER.unshare()
