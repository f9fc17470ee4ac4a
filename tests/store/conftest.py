"""Both database backends: SQLite in a temp dir, and the PostgreSQL server on this machine.

PostgreSQL tests run against 127.0.0.1:5432 (user postgres, trust auth), each in a fresh
database created for the test; where no server answers they are skipped, saying so.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.databases import create_postgres_database, drop_postgres_database, postgres_unavailable


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return postgres_unavailable()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_reason) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zt.sqlite3'}"
        return
    if postgres_reason:
        pytest.skip(postgres_reason)
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)
