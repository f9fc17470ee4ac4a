"""Background tasks that never fail silently.

Short-lived tasks (a command being handled, a join, a send confirmation) are created
through `Tasks.spawn`: it keeps a reference (asyncio keeps only weak ones) and logs a
failure with its traceback. Long-lived tasks (sync, the send queue) run under
`Tasks.supervise`: a crash is logged and the task restarted with backoff; a task that
keeps crashing ends the bot with an error, so that systemd or the container restarts the
whole process instead of it living on half-dead. After mautrix-python's
`util.background_task`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)

# Restarts wait 1 s, doubling up to this; a run that lasted this long resets the count.
MAX_BACKOFF_SECONDS = 60.0
STABLE_AFTER_SECONDS = 300.0
# Consecutive crashes (each within STABLE_AFTER_SECONDS of its start) before giving up.
MAX_CRASHES = 8


class TaskGaveUp(RuntimeError):
    """A long-lived task kept crashing; the process should end (and be restarted)."""


@dataclass
class Tasks:
    """The bot's background tasks."""

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _running: set[asyncio.Task[Any]] = field(default_factory=set, init=False)

    def spawn(self, coroutine: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        """Run `coroutine` in the background; its failure is logged, never lost."""
        task = asyncio.get_running_loop().create_task(coroutine, name=name)
        self._running.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._running.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.error("task %s failed", task.get_name(), exc_info=error)

    @property
    def pending(self) -> int:
        return len(self._running)

    def cancel_all(self) -> None:
        for task in list(self._running):
            task.cancel()

    async def supervise(self, name: str, run: Callable[[], Awaitable[None]]) -> None:
        """Run `run()` for good: restart it with backoff when it crashes or returns; raise
        TaskGaveUp after MAX_CRASHES crashes in a row."""
        crashes = 0
        while True:
            started = time.monotonic()
            try:
                await run()
                log.error("task %s ended by itself; restarting it", name)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("task %s crashed; restarting it", name)
            crashes = 1 if time.monotonic() - started > STABLE_AFTER_SECONDS else crashes + 1
            if crashes >= MAX_CRASHES:
                raise TaskGaveUp(f"{name} crashed {crashes} times in a row")
            await self.sleep(min(2.0 ** (crashes - 1), MAX_BACKOFF_SECONDS))
