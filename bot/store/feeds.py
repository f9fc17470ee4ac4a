"""The store's part for calendar feeds: the secret token in each feed's URL, and when
each theme last changed (a feed's version: its SEQUENCE, ETag and Last-Modified).

A token is `secrets.token_urlsafe(32)`: 256 random bits, unguessable; it is the only
thing that opens a feed. Renewing it deletes the old one, so the old URL stops working.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from bot.store.database import utc
from bot.store.tables import FeedToken, HistoryEntry, Theme
from bot.store.themes import Store

ALL_THEMES = "all"
TOKEN_BYTES = 32


def scope_of(theme_id: int | None) -> str:
    return ALL_THEMES if theme_id is None else f"theme:{theme_id}"


@dataclass(frozen=True)
class Feed:
    """What a token opens: one theme's feed, or (theme_id None) the feed of every theme."""

    theme_id: int | None
    token: str


class FeedTokens:
    def __init__(self, store: Store) -> None:
        self._store = store

    def token(self, theme_id: int | None, *, actor: str, now: datetime) -> str:
        """The feed's token; made on first use, then the same one until renewed."""
        scope = scope_of(theme_id)
        with self._store.reading() as session:
            found = session.exec(select(FeedToken).where(FeedToken.scope == scope)).first()
            if found is not None:
                return found.token
        try:
            return self._insert(theme_id, actor, now)
        except IntegrityError:  # made at the same moment by another command: use that one
            with self._store.reading() as session:
                row = session.exec(select(FeedToken).where(FeedToken.scope == scope)).one()
                return row.token

    def renew(self, theme_id: int | None, *, actor: str, now: datetime) -> str:
        """A new token for the feed; the old URL stops working at once."""
        with self._store.session() as session:
            session.exec(  # type: ignore[call-overload]
                sa.delete(FeedToken).where(FeedToken.scope == scope_of(theme_id))
            )
            session.commit()
        return self._insert(theme_id, actor, now)

    def _insert(self, theme_id: int | None, actor: str, now: datetime) -> str:
        token = secrets.token_urlsafe(TOKEN_BYTES)
        with self._store.session() as session:
            session.add(
                FeedToken(
                    scope=scope_of(theme_id),
                    theme_id=theme_id,
                    token=token,
                    created_by=actor,
                    created_at=utc(now),
                )
            )
            session.commit()
        return token

    def find(self, token: str) -> Feed | None:
        """The feed a token opens; None for an unknown, revoked or malformed token."""
        if not token or len(token) > 64:
            return None
        with self._store.reading() as session:
            row = session.exec(select(FeedToken).where(FeedToken.token == token)).first()
            if row is None or not secrets.compare_digest(row.token, token):
                return None
            return Feed(row.theme_id, row.token)

    def changes(self, theme_ids: Iterable[int]) -> dict[int, list[datetime]]:
        """When each theme changed: its creation and every history entry (a feed's
        version: domain.ics.change_sequence, Last-Modified)."""
        ids = list(theme_ids)
        if not ids:
            return {}
        with self._store.reading() as session:
            created = session.exec(
                select(Theme.id, Theme.created_at).where(Theme.id.in_(ids))  # type: ignore[union-attr]
            ).all()
            entries = session.exec(
                select(HistoryEntry.theme_id, HistoryEntry.at).where(
                    HistoryEntry.theme_id.in_(ids)  # type: ignore[attr-defined]
                )
            ).all()
        found: dict[int, list[datetime]] = {
            theme_id: [utc(at)] for theme_id, at in created if theme_id is not None
        }
        for theme_id, at in entries:
            found.setdefault(theme_id, []).append(utc(at))
        return found
