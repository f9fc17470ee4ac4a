"""Data protection (DSGVO): forget a person, prune old history and raw notes.

A store module: it speaks SQL like store/theme_changes.py, each operation in one transaction.
Where a person's Matrix id is kept is listed once, in PLACES; a new table that holds
user ids gets a line there and `forget_user` covers it. Places whose table or column
is not in the database (an older schema) are skipped, so the list may run ahead of
the migrations. After the changes, every text column of every table is scanned for the
id, so a place someone forgot to list shows up in the report instead of staying silent.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Session

from bot.rendering import Renderer
from bot.store.database import utc
from bot.store.themes import Store

FORGOTTEN = "gelöscht"


class How(StrEnum):
    """What happens to a place that holds the person."""

    whole = "whole"  # the column holds exactly one user id: replace it by FORGOTTEN
    row = "row"  # the row only says something about the person: delete it
    text = "text"  # free text that may mention the id: replace the id within it
    json = "json"  # JSON whose string values may be or mention the id


@dataclass(frozen=True)
class Place:
    table: str
    column: str
    how: How

    @property
    def name(self) -> str:
        return f"{self.table}.{self.column}"

    @property
    def code(self) -> str:
        """Its block in templates/<lang>/privacy_places.j2: how the report names it."""
        return f"{self.table}_{self.column}"


# Every place that holds a person's Matrix id. Add new tables here.
PLACES: tuple[Place, ...] = (
    Place("theme", "created_by", How.whole),
    Place("step", "done_by", How.whole),
    Place("step", "note", How.text),
    # A meeting's place is free text: a video link may carry a person's id.
    Place("step", "place", How.text),
    Place("responsibility", "user_id", How.row),
    Place("core_team_member", "user_id", How.row),
    Place("theme_participant", "user_id", How.row),
    Place("history", "actor", How.whole),
    Place("history", "detail", How.json),
    Place("council_meeting", "added_by", How.whole),
    Place("theme_paper", "linked_by", How.whole),
    Place("idea", "author", How.whole),
    Place("idea", "text", How.text),
    Place("idea", "reason", How.text),
    Place("idea", "decided_by", How.whole),
    Place("idea", "owner", How.whole),
    Place("idea", "implemented_by", How.whole),
    Place("step_document", "added_by", How.whole),
    Place("step_document", "title", How.text),
    Place("step_document", "url", How.text),
    Place("strategy_milestone", "added_by", How.whole),
    Place("strategy_milestone", "name", How.text),
    # Kept without author, but the text itself may name someone.
    Place("evaluation_open_answer", "text", How.text),
)


@dataclass(frozen=True)
class ForgetReport:
    user_id: str
    at: datetime
    # Rows changed (or deleted) per place, in the order of PLACES; 0 where nothing was.
    changed: dict[str, int] = field(default_factory=dict)
    # "table.column" where the id is still found after the changes (not in PLACES).
    leftovers: tuple[str, ...] = ()
    dry_run: bool = False

    @property
    def total(self) -> int:
        return sum(self.changed.values())


@dataclass(frozen=True)
class PruneReport:
    cutoff: datetime
    history_deleted: int
    notes_cleared: int


# Finding the id ------------------------------------------------------------------------


def mention_pattern(user_id: str) -> re.Pattern[str]:
    """The id as written, or percent-encoded as in a matrix.to link, where it is not the
    beginning of a longer id: `@anna:x` must not match inside `@anna:x.org` or
    `@anna:x:8448`, but does match before a full stop that ends a sentence.

    Case-insensitive: server names are, and forgetting too much of a person beats
    keeping some of them.
    """
    forms = dict.fromkeys((user_id, urllib.parse.quote(user_id, safe="")))
    alternatives = "|".join(re.escape(form) for form in forms)
    continues_id = r"[A-Za-z0-9\-:\[\]_=/]|\.[A-Za-z0-9]|%[0-9A-Fa-f]{2}"
    return re.compile(rf"(?:{alternatives})(?!{continues_id})", re.IGNORECASE)


def _like_patterns(user_id: str) -> list[str]:
    """LIKE patterns that preselect rows in SQL; the regex decides in Python."""
    forms = dict.fromkeys((user_id, urllib.parse.quote(user_id, safe="")))
    return [f"%{_escape_like(form)}%" for form in forms]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _mentions(column: sa.ColumnElement, user_id: str) -> sa.ColumnElement[bool]:
    return sa.or_(*(column.ilike(p, escape="\\") for p in _like_patterns(user_id)))


def _replace_in_json(value: object, pattern: re.Pattern[str]) -> object:
    """Every string inside the JSON value, with the id replaced; keys are code's words."""
    if isinstance(value, str):
        return pattern.sub(FORGOTTEN, value)
    if isinstance(value, list):
        return [_replace_in_json(item, pattern) for item in value]
    if isinstance(value, dict):
        return {key: _replace_in_json(item, pattern) for key, item in value.items()}
    return value


def _replace_in_json_text(text: str, pattern: re.Pattern[str]) -> str:
    try:
        data = json.loads(text)
    except ValueError:  # not JSON after all: still no place to keep the person
        return pattern.sub(FORGOTTEN, text)
    # Same encoding as store.theme_records.record_history, so unchanged entries stay byte-identical.
    return json.dumps(_replace_in_json(data, pattern), ensure_ascii=False)


# Forgetting ----------------------------------------------------------------------------


def _existing_columns(connection: sa.Connection) -> dict[str, dict[str, sa.types.TypeEngine]]:
    inspector = sa.inspect(connection)
    return {
        table: {column["name"]: column["type"] for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def _table(place: Place) -> sa.TableClause:
    # Every table of the bot has an integer primary key "id".
    return sa.table(place.table, sa.column("id"), sa.column(place.column))


def _forget_value(session: Session, place: Place, user_id: str) -> int:
    table = _table(place)
    column = table.c[place.column]
    result = session.execute(
        sa.update(table)
        .where(sa.func.lower(column) == user_id.lower())
        .values({place.column: FORGOTTEN})
    )
    return result.rowcount


def _forget_row(session: Session, place: Place, user_id: str) -> int:
    table = _table(place)
    column = table.c[place.column]
    result = session.execute(sa.delete(table).where(sa.func.lower(column) == user_id.lower()))
    return result.rowcount


def _fit(text: str, column_type: sa.types.TypeEngine) -> str:
    """A replacement may be longer than the id; PostgreSQL refuses an overlong VARCHAR."""
    length = getattr(column_type, "length", None)
    return text[:length] if length else text


def _forget_in_text(
    session: Session, place: Place, user_id: str, column_type: sa.types.TypeEngine
) -> int:
    table = _table(place)
    column = table.c[place.column]
    pattern = mention_pattern(user_id)
    rows = session.execute(sa.select(table.c.id, column).where(_mentions(column, user_id)))
    changed = 0
    for row_id, text in rows.all():
        if not pattern.search(text):  # e.g. only a longer id like @anna:x.org
            continue
        if place.how is How.json:
            new = _replace_in_json_text(text, pattern)
        else:
            new = pattern.sub(FORGOTTEN, text)
        session.execute(
            sa.update(table)
            .where(table.c.id == row_id)
            .values({place.column: _fit(new, column_type)})
        )
        changed += 1
    return changed


def _forget_place(
    session: Session, place: Place, user_id: str, column_type: sa.types.TypeEngine
) -> int:
    if place.how is How.whole:
        return _forget_value(session, place, user_id)
    if place.how is How.row:
        return _forget_row(session, place, user_id)
    return _forget_in_text(session, place, user_id, column_type)


def _text_columns(
    columns: dict[str, dict[str, sa.types.TypeEngine]],
) -> Iterator[tuple[str, str]]:
    for table, table_columns in columns.items():
        for name, column_type in table_columns.items():
            if isinstance(column_type, sa.String):  # VARCHAR and TEXT on both backends
                yield table, name


def find_user(session: Session, user_id: str) -> list[str]:
    """Every "table.column" of the database where the id still occurs, whatever the table."""
    columns = _existing_columns(session.connection())
    pattern = mention_pattern(user_id)
    found = []
    for table_name, column_name in _text_columns(columns):
        column = sa.column(column_name)
        query = (
            sa.select(column).select_from(sa.table(table_name)).where(_mentions(column, user_id))
        )
        if any(pattern.search(value) for value in session.execute(query).scalars()):
            found.append(f"{table_name}.{column_name}")
    return found


def forget_user(
    store: Store, user_id: str, *, now: datetime, dry_run: bool = False
) -> ForgetReport:
    """Replace the person by FORGOTTEN in every place of PLACES, in one transaction.

    With dry_run the same changes are made and counted, then rolled back.
    """
    changed: dict[str, int] = {}
    with store.session() as session:
        columns = _existing_columns(session.connection())
        for place in PLACES:
            column_type = columns.get(place.table, {}).get(place.column)
            if column_type is None:  # not in this schema (yet)
                continue
            changed[place.name] = _forget_place(session, place, user_id, column_type)
        leftovers = tuple(find_user(session, user_id))
        if dry_run:
            session.rollback()
        else:
            session.commit()
    return ForgetReport(user_id, now, changed, leftovers, dry_run)


def place_labels(renderer: Renderer) -> dict[str, str]:
    """How the report names each place ("table.column" → "Themen: angelegt von")."""
    words = renderer.words("privacy_places")
    return {place.name: words[place.code] for place in PLACES}


# Retention -----------------------------------------------------------------------------


def prune(store: Store, *, older_than: datetime) -> PruneReport:
    """Delete history entries from before `older_than` and clear the notes of steps done
    (or skipped) before it, in one transaction. Step states, dates and who marked them
    stay: `status` needs them, and they are the process, not a conversation."""
    if older_than.tzinfo is None:
        raise ValueError("older_than must be timezone-aware")
    history = sa.table("history", sa.column("at"))
    step = sa.table("step", sa.column("note"), sa.column("done_on"))
    with store.session() as session:
        deleted = session.execute(sa.delete(history).where(history.c.at < utc(older_than)))
        # done_on is the local date the step was marked (ThemeChanges.set_step_state).
        cleared = session.execute(
            sa.update(step)
            .where(step.c.done_on < older_than.date(), step.c.note.is_not(None))
            .values(note=None)
        )
        session.commit()
    return PruneReport(older_than, deleted.rowcount, cleared.rowcount)


def retention_cutoff(now: datetime, retention_days: int | None) -> datetime | None:
    """The moment before which history and raw notes go; None: keep everything."""
    if retention_days is None:
        return None
    if retention_days < 1:
        # 0 would wipe all history at every start; refuse rather than guess.
        raise ValueError("retention_days must be at least 1 (or None to keep everything)")
    return now - timedelta(days=retention_days)


def prune_on_start(
    store: Store, *, retention_days: int | None, now: datetime
) -> PruneReport | None:
    """What the bot does at start with `[privacy] retention_days`; None when it keeps all."""
    cutoff = retention_cutoff(now, retention_days)
    return None if cutoff is None else prune(store, older_than=cutoff)
