"""The store's part for handled commands: which events were answered, and the replies
that are not yet confirmed by the homeserver."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select

from bot.store.database import utc
from bot.store.tables import HandledEvent
from bot.store.themes import Store


class Outbox:
    def __init__(self, store: Store) -> None:
        self._store = store

    def unit_of_work(self) -> AbstractContextManager[None]:
        """A command and the record of its reply commit together (Database.unit_of_work)."""
        return self._store.unit_of_work()

    def was_handled(self, event_id: str) -> bool:
        with self._store.reading() as session:
            found = session.exec(select(HandledEvent.id).where(HandledEvent.event_id == event_id))
            return found.first() is not None

    def record(self, event_id: str, room_id: str, reply: dict, now: datetime) -> bool:
        """The command is handled and this is its reply; False when it was handled before."""
        with self._store.session() as session:
            session.add(
                HandledEvent(
                    event_id=event_id,
                    room_id=room_id,
                    handled_at=utc(now),
                    reply_json=json.dumps(reply, ensure_ascii=False),
                )
            )
            try:
                session.commit()
            except sa.exc.IntegrityError:
                return False
            return True

    def sent(self, event_id: str) -> None:
        self._store.failpoints.hit("outbox_sent")
        with self._store.session() as session:
            session.execute(
                sa.update(HandledEvent)
                .where(HandledEvent.event_id == event_id)
                .values(reply_json=None)
            )
            session.commit()

    def pending(self, newer_than: datetime) -> list[tuple[str, str, dict]]:
        """(command event id, room id, reply content) of replies not yet confirmed."""
        with self._store.reading() as session:
            rows = session.exec(
                select(HandledEvent).where(
                    HandledEvent.reply_json.is_not(None),  # type: ignore[union-attr]
                    HandledEvent.handled_at >= utc(newer_than),
                )
            )
            return [(r.event_id, r.room_id, json.loads(r.reply_json or "{}")) for r in rows]

    def prune(self, older_than: datetime) -> int:
        with self._store.session() as session:
            result = session.execute(
                sa.delete(HandledEvent).where(HandledEvent.handled_at < utc(older_than))
            )
            session.commit()
            return result.rowcount
