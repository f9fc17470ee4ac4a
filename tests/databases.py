"""Test databases on both backends: SQLite files, and fresh databases on the PostgreSQL
server of this machine (127.0.0.1:5432, user postgres, trust auth, database test)."""

from __future__ import annotations

import os
import uuid

import sqlalchemy as sa

POSTGRES_ADMIN_URL = os.environ.get(
    "ZT_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
# `ZT_TEST_DATABASE=postgresql` runs the integration bots on PostgreSQL instead of SQLite.
BACKEND = os.environ.get("ZT_TEST_DATABASE", "sqlite")


def postgres_unavailable() -> str | None:
    """None when the server answers, else why not."""
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
        engine.dispose()
    except Exception as err:  # any reason at all means: no server to test against
        return f"no PostgreSQL at {POSTGRES_ADMIN_URL}: {type(err).__name__}"
    return None


def create_postgres_database() -> str:
    """A new, empty database; its URL."""
    name = f"zt_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(url: str) -> None:
    name = sa.make_url(url).database
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
