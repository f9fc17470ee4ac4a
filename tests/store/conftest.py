"""Both database backends: SQLite in a temp dir, and the PostgreSQL server on this machine.

PostgreSQL tests run against 127.0.0.1:5432 (user postgres, trust auth), each in a fresh
database created for the test; where no server answers they are skipped, saying so.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get(
    "ZT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def postgres_available() -> str | None:
    """None when the server answers, else why not."""
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as err:  # any reason at all means: no server to test against
        return f"no PostgreSQL at {POSTGRES_ADMIN_URL}: {type(err).__name__}"
    return None


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return postgres_available()


def _fresh_postgres_database() -> Iterator[str]:
    name = f"zt_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield (
            sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_reason) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zt.sqlite3'}"
        return
    if postgres_reason:
        pytest.skip(postgres_reason)
    yield from _fresh_postgres_database()
