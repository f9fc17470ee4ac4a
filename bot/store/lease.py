"""The lease: never two active instances of the bot on one database.

On PostgreSQL an instance holds a session-level advisory lock (`pg_try_advisory_lock`) on
one dedicated connection outside the pool, for as long as it is active. A second instance
against the same database does not get it and waits as standby, trying again every
`POLL_SECONDS`; the lock goes with the session, so when the active instance dies (even by
SIGKILL: the server ends its session) or lets go (SIGTERM), the standby gets it. Advisory
locks belong to one database: bots of other municipalities on the same cluster, each with
its own database, never wait for each other.

If the lease connection dies while the instance is active, the lock may already be
someone else's: `check()` says so, and the instance must stop being active at once.

On SQLite an OS lock (`flock`) on a file next to the database keeps a second instance
from starting at all; there is no standby (one host, one file).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
from pathlib import Path
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

log = logging.getLogger(__name__)

# The lock's name; its key is a signed 64-bit number derived from it (PostgreSQL's bigint).
LEASE_NAME = "zukunftstische-bot"
# A standby tries to take the lease this often; the active one checks its connection so.
POLL_SECONDS = 2.0
CHECK_SECONDS = 5.0
# How the lease connection shows in pg_stat_activity (operators, and the tests, find it).
APPLICATION_NAME = "zukunftstische-lease"
SERVER_KEEPALIVES = (
    ("tcp_keepalives_idle", 10),
    ("tcp_keepalives_interval", 5),
    ("tcp_keepalives_count", 3),
)


def lease_key(name: str = LEASE_NAME) -> int:
    """A fixed signed 64-bit key for the advisory lock (the same in every version)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


class AlreadyRunning(RuntimeError):
    """Another instance holds the lock on this SQLite database: this one must not start."""


class Lease(Protocol):
    def try_acquire(self) -> bool:
        """Take the lease if it is free; True when this instance holds it now."""
        ...

    def check(self) -> bool:
        """Still held (the connection alive, the lock ours)? False: stop being active."""
        ...

    def release(self) -> None:
        """Let go at once (the standby takes over); safe to call twice."""
        ...

    @property
    def waits(self) -> bool:
        """True: a lease held elsewhere is waited for (standby); False: refuse to start."""
        ...

    def describe(self) -> str: ...


class PostgresLease:
    """A session-level advisory lock held on one connection of its own (not the pool's)."""

    waits = True

    def __init__(self, url: str, name: str = LEASE_NAME) -> None:
        self.key = lease_key(name)
        # TCP keepalives: a connection to a server that vanished is noticed in ~25 s even
        # when no query runs on it; the periodic check notices sooner.
        self._engine = sa.create_engine(
            url,
            poolclass=NullPool,
            connect_args={
                "application_name": APPLICATION_NAME,
                "connect_timeout": 10,
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
            },
        )
        self._connection: sa.Connection | None = None
        self._held = False

    def describe(self) -> str:
        url = self._engine.url
        return f"PostgreSQL {url.host}:{url.port or 5432}/{url.database} (advisory lock {self.key})"

    def _open(self) -> sa.Connection:
        if self._connection is None:
            # Autocommit: the session holds the lock, and never sits idle in a transaction
            # (which idle_in_transaction_session_timeout would end).
            connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            # The server side too: a client host that vanished (power, network) is noticed
            # in ~25 s and its session, with the lock, ended, instead of after the kernel's
            # default of two hours. SET rather than startup options: PgBouncer passes it.
            for setting, value in SERVER_KEEPALIVES:
                connection.exec_driver_sql(f"SET {setting} = {value}")
            self._connection = connection
        return self._connection

    def _drop(self) -> None:
        self._held = False
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.invalidate()
                connection.close()
            except Exception:  # a dead connection may fail to close; it is gone either way
                log.debug("closing the lease connection failed", exc_info=True)

    def try_acquire(self) -> bool:
        if self._held:
            return True  # advisory locks stack: never take it twice in one session
        try:
            connection = self._open()
            taken = connection.execute(
                sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}
            ).scalar()
        except sa.exc.DBAPIError:
            self._drop()  # the database is unreachable: try again with a new connection
            raise
        self._held = bool(taken)
        return self._held

    def check(self) -> bool:
        if self._connection is None:
            return False
        try:
            held = self._connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid() AND granted "
                    "AND classid = ((:key >> 32) & 4294967295)::oid "
                    "AND objid = (:key & 4294967295)::oid "
                    "AND objsubid = 1"
                ),
                {"key": self.key},
            ).scalar()
        except sa.exc.DBAPIError:
            self._drop()
            return False
        self._held = bool(held)
        return self._held

    def backend_pid(self) -> int | None:
        """The server process of the lease session (for logs and tests)."""
        if self._connection is None:
            return None
        return self._connection.execute(sa.text("SELECT pg_backend_pid()")).scalar()

    def release(self) -> None:
        """Unlock on the server before closing: the standby may take it the moment this
        returns (a closed connection's session may linger for a moment)."""
        if self._connection is not None:
            # A session that is gone took its lock with it.
            with contextlib.suppress(sa.exc.DBAPIError):
                self._connection.execute(sa.text("SELECT pg_advisory_unlock_all()"))
            self._drop()
        self._held = False
        self._engine.dispose()


class FileLease:
    """An OS lock (`flock`) on `<database>.lock`: released by the kernel when the process
    ends, however it ends."""

    waits = False

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def describe(self) -> str:
        return f"lock file {self.path}"

    def try_acquire(self) -> bool:
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def check(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


class NoLease:
    """An in-memory SQLite database: nothing to share, nothing to guard."""

    waits = False

    def describe(self) -> str:
        return "in-memory database"

    def try_acquire(self) -> bool:
        return True

    def check(self) -> bool:
        return True

    def release(self) -> None:
        pass


def lease_for(url: str) -> Lease:
    """The lease that fits the database: an advisory lock (PostgreSQL) or a lock file."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "postgresql":
        return PostgresLease(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            return NoLease()
        return FileLease(Path(f"{database}.lock"))
    raise ValueError(f"no lease for database {parsed.get_backend_name()}")
