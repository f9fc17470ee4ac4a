"""The scheduler wakes the reminder engine; the database, not the scheduler, knows what is due.

An interval tick with a generous misfire grace time and coalescing, plus a one-off wake-up
at the next known send time. After a restart nothing has to be re-registered: the first
tick runs at once and catches up from the sent-log.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.reminder_engine import ReminderEngine

log = logging.getLogger(__name__)

TICK_EVERY = timedelta(minutes=5)
MISFIRE_GRACE = int(timedelta(hours=12).total_seconds())


class ReminderScheduler:
    def __init__(self, engine: ReminderEngine, clock: Clock, tick_every: timedelta = TICK_EVERY):
        self.engine = engine
        self.clock = clock
        self.tick_every = tick_every
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._lock = asyncio.Lock()

    def start(self) -> None:
        self._scheduler.add_job(
            self.tick,
            "interval",
            seconds=self.tick_every.total_seconds(),
            id="tick",
            next_run_time=self.clock.wall(),
            misfire_grace_time=MISFIRE_GRACE,
            coalesce=True,
            max_instances=1,
        )
        self._scheduler.start()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def poke(self) -> None:
        """Tick soon: something changed (a command) that may make a reminder due."""
        self._scheduler.add_job(
            self.tick, "date", id="poke", replace_existing=True, misfire_grace_time=MISFIRE_GRACE
        )

    async def tick(self) -> None:
        async with self._lock:  # one tick at a time, whoever woke it
            try:
                now = self.clock.now()
                await self.engine.tick(now)
                self._plan_wakeup(now)
            except Exception:  # a failed tick is retried by the next one
                log.exception("reminder tick failed")

    def _plan_wakeup(self, now: datetime) -> None:
        wake = self.engine.next_wakeup(now)
        if wake is None:
            return
        # The clock may run shifted (testing aid): wake at the matching real time.
        real = wake - self.clock.offset
        self._scheduler.add_job(
            self.tick,
            "date",
            run_date=real,
            id="wakeup",
            replace_existing=True,
            misfire_grace_time=MISFIRE_GRACE,
        )
