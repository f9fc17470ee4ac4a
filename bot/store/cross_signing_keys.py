"""The store's part for the bot account's cross-signing keys (matrix/cross_signing.py).

The private keys are secrets: they live in the database because it is the source of truth
and is backed up (the SQLite file is created owner-only, see store.database.make_engine).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select

from bot.store.database import utc
from bot.store.tables import CrossSigningKey
from bot.store.themes import Store

USAGES = ("master", "self_signing", "user_signing")


@dataclass(frozen=True)
class StoredKey:
    """An Ed25519 key pair, both parts unpadded base64 (the private part is the seed)."""

    public_key: str
    private_key: str

    def __repr__(self) -> str:  # never the secret, not even in a traceback or a test diff
        return f"StoredKey(public_key={self.public_key!r}, private_key=<hidden>)"


class CrossSigningKeys:
    def __init__(self, store: Store) -> None:
        self._store = store

    def load(self, user_id: str) -> dict[str, StoredKey] | None:
        """The account's keys by usage; None unless the whole set is stored."""
        with self._store.reading() as session:
            rows = session.exec(select(CrossSigningKey).where(CrossSigningKey.user_id == user_id))
            found = {row.usage: StoredKey(row.public_key, row.private_key) for row in rows}
        return found if set(found) == set(USAGES) else None

    def save(self, user_id: str, keys: Mapping[str, StoredKey], now: datetime) -> None:
        """Replace the account's keys with this set in one transaction: the store never
        holds a mix of an old and a new set."""
        if set(keys) != set(USAGES):
            raise ValueError(f"a cross-signing key set has exactly the usages {USAGES}")
        with self._store.session() as session:
            session.execute(sa.delete(CrossSigningKey).where(CrossSigningKey.user_id == user_id))
            session.add_all(
                CrossSigningKey(
                    user_id=user_id,
                    usage=usage,
                    public_key=key.public_key,
                    private_key=key.private_key,
                    created_at=utc(now),
                )
                for usage, key in keys.items()
            )
            session.commit()
