"""The scheduler wakes the reminder engine; the database, not the scheduler, knows what is due.

An interval tick with a generous misfire grace time and coalescing, plus a one-off wake-up
at the next known send time. After a restart nothing has to be re-registered: the first
tick runs at once and catches up from the sent-log.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.tasks import Tasks
from bot.wake import Wake

log = logging.getLogger(__name__)

TICK_EVERY = timedelta(minutes=5)
MISFIRE_GRACE = int(timedelta(hours=12).total_seconds())


class Engine(Protocol):
    """Something the tick wakes: the reminder engine, the evaluation engine."""

    async def tick(self, now: datetime) -> object: ...

    def next_wakeup(self, now: datetime) -> datetime | None: ...


class ReminderScheduler:
    def __init__(
        self,
        engines: Sequence[Engine],
        clock: Clock,
        tick_every: timedelta = TICK_EVERY,
        tasks: Tasks | None = None,
        wake: Wake | None = None,
    ) -> None:
        self.engines = tuple(engines)
        # Poked by whatever changed something (commands, joins, the council engine).
        self.wake = wake or Wake()
        self.clock = clock
        self.tick_every = tick_every
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._lock = asyncio.Lock()
        self.last_tick: datetime | None = None  # wall clock, for health
        # How long each engine's last tick took, by engine (metrics; bench/scale.py).
        self.tick_seconds: dict[str, float] = {}
        self._again = False
        self.tasks = tasks or Tasks()

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
        self.tasks.spawn(self.tasks.supervise("wake-ups", self._on_wake), "wake-ups")

    async def _on_wake(self) -> None:
        while True:
            await self.wake.wait()
            await self.tick()

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    def poke(self) -> None:
        """Tick now: something changed (a command, a join) that may make work due."""
        self.wake.poke()

    async def tick(self) -> None:
        """Run every engine; a wake-up during a run makes the run go round once more."""
        self._again = True
        if self._lock.locked():
            return
        async with self._lock:
            while self._again:
                self._again = False
                now = self.clock.now()
                for engine in self.engines:
                    started = time.perf_counter()
                    try:
                        await engine.tick(now)
                    except Exception:  # a failed tick is retried by the next one
                        log.exception("%s tick failed", type(engine).__name__)
                    self.tick_seconds[type(engine).__name__] = time.perf_counter() - started
                try:
                    self._plan_wakeup(now)
                except Exception:  # the interval tick still runs
                    log.exception("planning the next wake-up failed")
                self.last_tick = self.clock.wall()

    def _plan_wakeup(self, now: datetime) -> None:
        times = [wake for engine in self.engines if (wake := engine.next_wakeup(now))]
        if not times:
            return
        wake = min(times)
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
