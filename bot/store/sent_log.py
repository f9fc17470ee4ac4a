"""The reminders' sent-log: a row per reminder and room, pending before the send and sent
after it (the key is the Matrix transaction id: exactly once)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from sqlmodel import select

from bot.domain.reminder_plan import Delivery, SentEntry
from bot.store.database import Database, utc
from bot.store.tables import (
    ReminderLog,
)


def _entry(row: ReminderLog) -> SentEntry:
    return SentEntry(row.key, row.room_id, row.status, utc(row.created_at), row.event_id)


class SentLog(Database):
    """The reminders' sent-log (a part of Store)."""

    def reminder_rows(self, keys: Sequence[str]) -> dict[str, SentEntry]:
        """What the sent-log holds of these deliveries, by their key."""
        if not keys:
            return {}
        with self.reading() as session:
            rows = session.exec(
                select(ReminderLog).where(ReminderLog.key.in_(list(keys)))  # type: ignore[attr-defined]
            )
            return {row.key: _entry(row) for row in rows}

    def record_pending(self, delivery: Delivery, now: datetime) -> bool:
        """Write the pending row before the send; False when it exists already."""
        self.failpoints.hit("reminder_pending")
        reminder = delivery.reminder
        row = ReminderLog(
            key=delivery.txn_id,
            theme_id=reminder.theme_id,
            step_key=reminder.step_key,
            kind=str(reminder.kind),
            n=reminder.n,
            step_date=reminder.step_date,
            room_id=delivery.room_id,
            status="pending",
            created_at=utc(now),
        )
        with self.session() as session:
            session.add(row)
            try:
                session.commit()
            except sa.exc.IntegrityError:
                return False
            return True

    def mark_sent(self, key: str, event_id: str, now: datetime) -> None:
        with self.session() as session:
            row = session.exec(select(ReminderLog).where(ReminderLog.key == key)).first()
            if row is not None:
                row.status = "sent"
                row.event_id = event_id
                row.sent_at = utc(now)
                session.add(row)
                session.commit()

    def sent_reminders(self, theme_id: int | None = None) -> list[SentEntry]:
        with self.reading() as session:
            query = select(ReminderLog).where(ReminderLog.status == "sent")
            if theme_id is not None:
                query = query.where(ReminderLog.theme_id == theme_id)
            return [_entry(row) for row in session.exec(query.order_by(ReminderLog.id))]
