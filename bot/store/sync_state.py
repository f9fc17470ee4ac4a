"""The store's part for where the bot's sync stands (its sync token)."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select

from bot.store.database import utc
from bot.store.tables import SyncToken
from bot.store.themes import Store


class SyncState:
    def __init__(self, store: Store) -> None:
        self._store = store

    def load(self, user_id: str) -> str | None:
        with self._store.reading() as session:
            row = session.exec(select(SyncToken).where(SyncToken.user_id == user_id)).first()
            return None if row is None else row.token

    def save(self, user_id: str, token: str, now: datetime) -> None:
        with self._store.session() as session:
            updated = session.execute(
                sa.update(SyncToken)
                .where(SyncToken.user_id == user_id)  # type: ignore[arg-type]
                .values(token=token, saved_at=utc(now))
            )
            if updated.rowcount == 0:
                session.add(SyncToken(user_id=user_id, token=token, saved_at=utc(now)))
            session.commit()
