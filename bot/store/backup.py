"""Backup and restore of everything the bot needs to carry on: the database, matrix-nio's
encryption store (the device's keys) and the record of which device the bot is.

Safe while the bot runs: SQLite files (the database and the encryption store) are copied
with SQLite's online backup API, which gives a consistent snapshot; PostgreSQL is dumped
with `pg_dump` (custom format), which reads one consistent snapshot too. A restore puts
everything back into an empty data directory and refuses to overwrite anything.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa

from bot import __version__

MANIFEST = "manifest.json"
DATABASE_FILE = "zukunftstische.sqlite3"
DATABASE_DUMP = "zukunftstische.pgdump"
KEYS_DIR = "store"
DEVICE_FILE = "device.json"
# Reading a SQLite file in WAL mode waits only in rare moments (another connection
# recovering the log); this patient, a backup never fails on a lock.
LOCK_WAIT_SECONDS = 120.0


class BackupError(RuntimeError):
    """What went wrong, for the operator: `code` is a block of templates/<lang>/backup.j2,
    `values` fill it (the CLI renders it)."""

    def __init__(self, code: str, /, **values: object) -> None:
        super().__init__(code, values)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class Layout:
    """Where the bot keeps its state (from the config)."""

    database_url: str
    data_dir: Path
    store_path: Path

    @property
    def sqlite_file(self) -> Path | None:
        url = sa.make_url(self.database_url)
        if url.get_backend_name() != "sqlite" or not url.database:
            return None
        return Path(url.database)

    @property
    def device_file(self) -> Path:
        return self.data_dir / DEVICE_FILE


@dataclass
class Report:
    written: list[str] = field(default_factory=list)


def _private_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


def _copy_sqlite(source: Path, target: Path) -> None:
    """A consistent copy of a SQLite file, even while another process writes to it."""
    target.touch(mode=0o600)
    with (
        sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=LOCK_WAIT_SECONDS) as src,
        sqlite3.connect(target) as dst,
    ):
        src.backup(dst)  # one step, one read transaction: a snapshot; busy steps are retried
    target.chmod(0o600)


def _libpq_url(database_url: str) -> str:
    """pg_dump understands postgresql:// but not SQLAlchemy's driver suffix."""
    return (
        sa.make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    )


def _is_empty(directory: Path) -> bool:
    return not directory.exists() or not any(directory.iterdir())


def backup(layout: Layout, target: Path, *, now: datetime) -> Report:
    """Write a backup into the empty (or new) directory `target`."""
    if not _is_empty(target):
        raise BackupError("target_not_empty", path=target)
    _private_dir(target)
    report = Report()
    database = layout.sqlite_file
    if database is not None:
        if not database.exists():
            raise BackupError("no_database", path=database)
        _copy_sqlite(database, target / DATABASE_FILE)
        report.written.append(DATABASE_FILE)
    else:
        _pg_dump(layout.database_url, target / DATABASE_DUMP)
        report.written.append(DATABASE_DUMP)
    if layout.store_path.is_dir():
        _copy_key_store(layout.store_path, target / KEYS_DIR)
        report.written.append(f"{KEYS_DIR}/")
    if layout.device_file.exists():
        shutil.copy2(layout.device_file, target / DEVICE_FILE)
        (target / DEVICE_FILE).chmod(0o600)
        report.written.append(DEVICE_FILE)
    manifest = {"version": __version__, "created": now.isoformat(), "files": report.written}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2), "utf-8")
    (target / MANIFEST).chmod(0o600)
    return report


def _copy_key_store(source: Path, target: Path) -> None:
    """matrix-nio's store: SQLite files (copied consistently) and whatever else is there."""
    _private_dir(target)
    for path in sorted(source.iterdir()):
        if path.name.endswith(("-wal", "-shm", "-journal")):
            continue  # part of a SQLite file that the backup API folds in
        if path.is_file() and path.suffix == ".db":
            _copy_sqlite(path, target / path.name)
        elif path.is_file():
            shutil.copy2(path, target / path.name)
            (target / path.name).chmod(0o600)


def _pg_dump(database_url: str, target: Path) -> None:
    if shutil.which("pg_dump") is None:
        raise BackupError("no_pg_dump")
    done = subprocess.run(
        ["pg_dump", "-Fc", "--no-owner", "-f", str(target), _libpq_url(database_url)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError("tool_failed", tool="pg_dump", error=done.stderr.strip())
    target.chmod(0o600)


def restore(layout: Layout, source: Path) -> Report:
    """Put a backup back; only into an empty data directory and an empty database."""
    if not (source / MANIFEST).exists():
        raise BackupError("not_a_backup", path=source, manifest=MANIFEST)
    for directory in (layout.data_dir, layout.store_path):
        if not _is_empty(directory):
            raise BackupError("data_dir_not_empty", path=directory)
    report = Report()
    _private_dir(layout.data_dir)
    database = layout.sqlite_file
    if database is not None:
        if not (source / DATABASE_FILE).exists():
            raise BackupError("no_sqlite_file", path=source, file=DATABASE_FILE)
        _private_dir(database.parent)
        _copy_sqlite(source / DATABASE_FILE, database)
        report.written.append(str(database))
    else:
        _pg_restore(layout.database_url, source / DATABASE_DUMP)
        report.written.append("PostgreSQL")
    if (source / KEYS_DIR).is_dir():
        _copy_key_store(source / KEYS_DIR, layout.store_path)
        report.written.append(str(layout.store_path))
    if (source / DEVICE_FILE).exists():
        shutil.copy2(source / DEVICE_FILE, layout.device_file)
        layout.device_file.chmod(0o600)
        report.written.append(str(layout.device_file))
    return report


def _pg_restore(database_url: str, dump: Path) -> None:
    if not dump.exists():
        raise BackupError("no_pg_dump_file", path=dump.parent, file=DATABASE_DUMP)
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            tables = sa.inspect(connection).get_table_names()
    finally:
        engine.dispose()
    if tables:
        raise BackupError("database_not_empty")
    if shutil.which("pg_restore") is None:
        raise BackupError("no_pg_restore")
    done = subprocess.run(
        ["pg_restore", "--no-owner", "-d", _libpq_url(database_url), str(dump)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BackupError("tool_failed", tool="pg_restore", error=done.stderr.strip())
