"""The themes' names as `domain.theme_names.KnownNames`, answered by indexed queries on
the folded name column (`theme.name_key`), so that finding one theme does not load every
name. SQLite matches prefixes with GLOB (case-sensitive, so its index on the column
applies; the keys are folded to lower case anyway), PostgreSQL with LIKE on a
`text_pattern_ops` index (which works whatever the database's collation)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import select

from bot.store.database import Database
from bot.store.tables import Theme

_THEME: sa.Table = Theme.__table__  # type: ignore[attr-defined]
# Built once: the lookup every command about a theme makes.
_EXACT = sa.select(_THEME.c.name).where(_THEME.c.name_key == sa.bindparam("key"))

_GLOB_SPECIAL = str.maketrans({"*": "[*]", "?": "[?]", "[": "[[]"})


def glob_prefix(key: str) -> str:
    """A GLOB pattern matching exactly the strings that start with `key`."""
    return key.translate(_GLOB_SPECIAL) + "*"


def like_prefix(key: str) -> str:
    """A LIKE pattern (escape character `\\`) matching the strings that start with `key`."""
    escaped = key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + "%"


def storable(key: str) -> bool:
    """Whether a stored key could be this: stored names have no control characters
    (`clean_name`), and PostgreSQL refuses a NUL in a query's text."""
    return "\x00" not in key


@dataclass(frozen=True)
class StoredNames:
    """Known names read from the database, one small query per question."""

    database: Database

    def exact(self, key: str) -> str | None:
        if not storable(key):
            return None
        with self.database.reading() as session:
            return session.connection().execute(_EXACT, {"key": key}).scalar()

    def starting_with(self, key: str) -> list[str]:
        if not storable(key):
            return []
        column = Theme.name_key
        if self.database.engine.dialect.name == "sqlite":
            condition = column.op("GLOB")(glob_prefix(key))
        else:
            condition = column.like(like_prefix(key), escape="\\")
        with self.database.reading() as session:
            query = select(Theme.name).where(condition).order_by(column)
            return list(session.exec(query))

    def everything(self) -> Sequence[str]:
        with self.database.reading() as session:
            return list(session.exec(select(Theme.name).order_by(Theme.name)))
