"""The store's part for the milestones of the city's other strategies (`!zt meilenstein`)."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlmodel import select

from bot.domain.milestones import Milestone
from bot.domain.theme_names import fold
from bot.store.database import Database, utc
from bot.store.tables import StrategyMilestone


def _milestone(row: StrategyMilestone) -> Milestone:
    return Milestone(
        name=row.name,
        first_day=row.first_day,
        last_day=row.last_day,
        written=row.written,
        precision=row.precision,
        added_by=row.added_by,
        changed_at=utc(row.changed_at),
    )


class Milestones(Database):
    """Milestones beside the themes (a part of Store)."""

    def set_milestone(self, milestone: Milestone, *, actor: str, now: datetime) -> bool:
        """Adds it, or moves the one of that name (spelled alike, whatever the case and
        umlauts); True when it is new."""
        key = fold(milestone.name)
        with self.session() as session:
            row = session.exec(
                select(StrategyMilestone).where(StrategyMilestone.name_key == key)
            ).first()
            new = row is None
            if row is None:
                row = StrategyMilestone(
                    name=milestone.name,
                    name_key=key,
                    first_day=milestone.first_day,
                    last_day=milestone.last_day,
                    written=milestone.written,
                    precision=milestone.precision,
                    added_by=actor,
                    added_at=utc(now),
                    changed_at=utc(now),
                )
            else:  # moved: the name keeps the spelling it was first given
                row.first_day = milestone.first_day
                row.last_day = milestone.last_day
                row.written = milestone.written
                row.precision = milestone.precision
                row.changed_at = utc(now)
            session.add(row)
            session.commit()
            return new

    def remove_milestone(self, name: str) -> str | None:
        """Removes the milestone of that name; its name as stored, None if there is none."""
        with self.session() as session:
            row = session.exec(
                select(StrategyMilestone).where(StrategyMilestone.name_key == fold(name))
            ).first()
            if row is None:
                return None
            stored = row.name
            session.delete(row)
            session.commit()
            return stored

    def milestones(self, first: date | None = None, last: date | None = None) -> list[Milestone]:
        """The milestones that overlap [first, last] (all without bounds), by date."""
        with self.reading() as session:
            query = select(StrategyMilestone)
            if last is not None:
                query = query.where(StrategyMilestone.first_day <= last)
            if first is not None:
                query = query.where(StrategyMilestone.last_day >= first)
            order = (StrategyMilestone.first_day, sa.func.lower(StrategyMilestone.name))
            return [_milestone(row) for row in session.exec(query.order_by(*order))]

    def milestones_of_year(self, year: int) -> list[Milestone]:
        return [
            m
            for m in self.milestones(date(year, 1, 1), date(year, 12, 31))
            if m.first_day.year == year
        ]
