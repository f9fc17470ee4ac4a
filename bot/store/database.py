"""The database itself: the engine, sessions, migrations, and riding out a database that
is briefly unreachable. The store's modules build on it; nothing else speaks SQL."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TypeVar

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config as AlembicConfig
from alembic.migration import MigrationContext
from sqlmodel import Session

from bot.failpoints import Failpoints, FailpointUnavailable
from bot.store.writers import WriterTimeout, WriterTurns

log = logging.getLogger(__name__)
T = TypeVar("T")

# Waiting for the database: 1 s, then doubling up to this.
MAX_WAIT_SECONDS = 30.0
# Execution option of the connections of `Database.reading`: read-only, begun deferred.
READ_ONLY = "zukunftstische_read_only"
# SQLite: how long a writer waits for the ones before it (its turn in this process, then
# the file's lock). Longer than any write transaction lasts (a command's unit of work,
# `!zt vorlage` waiting up to 60 s for the council information system included, or an
# annual plan imported by `zt-bot import` in another process), so that a writer never
# gives up with "database is locked".
SQLITE_WRITE_WAIT_SECONDS = 120


class StoreUnavailable(RuntimeError):
    """The database cannot be reached right now (restarting, locked): try again later."""


def is_unavailable(error: BaseException) -> bool:
    """A database error that goes away by itself (connection lost, server restarting)."""
    if isinstance(error, StoreUnavailable | FailpointUnavailable | WriterTimeout):
        return True
    if isinstance(error, sa.exc.OperationalError | sa.exc.InterfaceError):
        return True
    return isinstance(error, sa.exc.DBAPIError) and error.connection_invalidated


def utc(moment: datetime) -> datetime:
    """Stored times are UTC; SQLite hands them back without a zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# SQLite (issue 23): a transaction that may write takes the write lock at its start
# (BEGIN IMMEDIATE), so it waits for the writer before it instead of failing: a deferred
# one that reads and then writes gets SQLITE_BUSY ("database is locked") at once when
# another connection committed in between (its WAL snapshot is stale; busy_timeout does
# not help). Only the sessions of `Database.reading` begin deferred: WAL readers never
# wait for a writer, so feeds and status reads do not queue behind engine ticks, and
# PRAGMA query_only makes such a session fail loudly should it ever write. In-process
# writers also take turns in arrival order (store/writers.py), fairer than SQLite's
# polling. Not chosen: retrying whole transactions (store calls interleave with sends and
# lookups that must not repeat); one writer connection (the same serialisation, with a
# connection's state to manage besides); IMMEDIATE for reads too (readers would wait).
def _sqlite_begin(connection: sa.Connection) -> None:
    read_only = bool(connection.get_execution_options().get(READ_ONLY, False))
    _query_only(connection, read_only)
    connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _query_only(connection: sa.Connection, on: bool) -> None:
    """PRAGMA query_only as the transaction needs it; said only when it changes (the
    setting stays with the pooled SQLite connection, and so does the note of it)."""
    if connection.info.get(READ_ONLY, False) != on:
        connection.exec_driver_sql(f"PRAGMA query_only={int(on)}")
        connection.info[READ_ONLY] = on


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL: readers do not block the writer, nor the writer the readers.
    cursor.execute("PRAGMA journal_mode=WAL")
    # In WAL mode NORMAL stays consistent after a crash of the bot (only a power cut may
    # lose the last commits) and spares an fsync on every commit of a command.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_WRITE_WAIT_SECONDS * 1000}")
    cursor.close()


# PostgreSQL: connections kept open, and opened on top under load (SQLAlchemy's defaults).
POOL_SIZE = 5
MAX_OVERFLOW = 10


def make_engine(
    url: str, pool_size: int = POOL_SIZE, max_overflow: int = MAX_OVERFLOW
) -> sa.Engine:
    if url.startswith("sqlite"):
        database = sa.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            Path(database).touch(mode=0o600, exist_ok=True)  # owner-only, before SQLite opens it
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite starts transactions on its own and would end a unit of work at its first
        # savepoint's release; SQLAlchemy's documented fix: let SQLAlchemy say BEGIN.
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


def schema_differences(connection: sa.Connection, metadata: sa.MetaData) -> list:
    """What the migrated schema lacks or has beyond the models (Alembic's comparison),
    leaving out what the models create only on another database (`ddl_if`)."""
    dialect = connection.dialect.name

    def wanted(item: object, _name: object, kind: str, _reflected: bool, _other: object) -> bool:
        condition = getattr(item, "_ddl_if", None)
        return kind != "index" or condition is None or condition.dialect in (None, dialect)

    context = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_object": wanted}
    )
    return compare_metadata(context, metadata)


def alembic_config(connection: sa.Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(resources.files("bot.store") / "migrations"))
    config.attributes["connection"] = connection
    return config


class Database:
    """An engine with sessions, units of work and the schema migrations."""

    def __init__(
        self,
        url: str,
        failpoints: Failpoints | None = None,
        *,
        pool_size: int = POOL_SIZE,
        max_overflow: int = MAX_OVERFLOW,
    ) -> None:
        self.engine = make_engine(url, pool_size, max_overflow)
        # The same pool; its connections begin deferred and read-only on SQLite.
        self._reader = self.engine.execution_options(**{READ_ONLY: True})
        # SQLite: this process's writers take turns (store/writers.py); PostgreSQL locks
        # rows, and its writers go on side by side as before.
        self._turns = (
            WriterTurns(SQLITE_WRITE_WAIT_SECONDS) if self.engine.dialect.name == "sqlite" else None
        )
        self.failpoints = failpoints or Failpoints()
        # The unit of work open in this thread (its connection): every session joins it.
        self._unit: ContextVar[sa.Connection | None] = ContextVar(
            f"unit-of-work-{id(self)}", default=None
        )

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` (Alembic); applied at every start."""
        with self._writing(), self.engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)

    def close(self) -> None:
        self.engine.dispose()

    def session(self) -> AbstractContextManager[Session]:
        """A session that may write (on SQLite its transactions take the write lock at
        their start); inside a unit of work it joins it (its commit ends a savepoint, the
        unit commits everything at its end)."""
        return self._session(self.engine, writes=True)

    def reading(self) -> AbstractContextManager[Session]:
        """A session that only reads: it never waits for a writer (SQLite: a deferred,
        read-only transaction in WAL mode). Inside a unit of work it joins it, and so sees
        what the unit wrote."""
        return self._session(self._reader, writes=False)

    def _writing(self) -> AbstractContextManager[None]:
        """This process's turn to write (SQLite), for as long as the block runs."""
        return nullcontext() if self._turns is None else self._turns.turn()

    @contextmanager
    def _session(self, bind: sa.Engine, *, writes: bool) -> Iterator[Session]:
        unit = self._unit.get()
        if unit is None:
            with (
                self._writing() if writes else nullcontext(),
                Session(bind, expire_on_commit=False) as session,
            ):
                yield session
            return
        # A read joins the unit's transaction as it is (a savepoint per read was a third
        # of the statements of `status`); a write keeps its savepoint.
        mode = "create_savepoint" if writes else "rollback_only"
        with Session(bind=unit, join_transaction_mode=mode, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def unit_of_work(self) -> Iterator[None]:
        """Everything the store does inside commits together at the end, or not at all (a
        command's effect and the record of its reply)."""
        if self._unit.get() is not None:
            yield  # already inside one: join it
            return
        with self._writing(), self.engine.connect() as unit, unit.begin():
            token = self._unit.set(unit)
            try:
                yield
            finally:
                self._unit.reset(token)

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """Inside a unit of work: what happens in the block is undone if it raises, the rest
        of the unit stays. Outside one there is nothing to undo."""
        unit = self._unit.get()
        if unit is None:
            yield
            return
        with unit.begin_nested():
            yield


def _waits() -> Iterator[float]:
    wait = 1.0
    while True:
        yield wait
        wait = min(wait * 2, MAX_WAIT_SECONDS)


class _Outage:
    """Logs a database outage once when it starts and once when it ends, not per retry."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.started: float | None = None

    def failed(self, error: BaseException) -> None:
        if self.started is None:
            self.started = time.monotonic()
            log.warning("database unavailable while %s (%s); waiting for it", self.what, error)
        else:
            log.debug("database still unavailable while %s (%s)", self.what, error)

    def ended(self) -> None:
        if self.started is not None:
            log.info(
                "database back after %.0f s; %s goes on",
                time.monotonic() - self.started,
                self.what,
            )


def retry_while_unavailable(action: Callable[[], T], what: str) -> T:
    """Run a store call (in a worker thread) until the database answers; other errors pass."""
    outage = _Outage(what)
    for wait in _waits():
        try:
            result = action()
        except Exception as err:
            if not is_unavailable(err):
                raise
            outage.failed(err)
            time.sleep(wait)
            continue
        outage.ended()
        return result
    raise AssertionError("unreachable")  # _waits never ends


async def retry_while_unavailable_async(action: Callable[[], Awaitable[T]], what: str) -> T:
    """The same on the event loop: await `action()` until the database answers."""
    outage = _Outage(what)
    for wait in _waits():
        try:
            result = await action()
        except Exception as err:
            if not is_unavailable(err):
                raise
            outage.failed(err)
            await asyncio.sleep(wait)
            continue
        outage.ended()
        return result
    raise AssertionError("unreachable")  # _waits never ends
