"""Drawing in a child process, so that matplotlib lives there and not in the bot.

matplotlib and one drawing's peak cost the bot ~75 MiB that it never gives back (the
modules stay loaded, the freed memory fragmented). A worker process holds them instead,
and ends after a while without a picture: the bot's own memory stays what its data
needs, and pictures cost memory only while people ask for them.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.charts.drawing import Drawer, Picture

log = logging.getLogger(__name__)


class PictureWorker:
    """One child process that draws; started on the first picture, ended `idle_seconds`
    after the last one. A worker that died (killed, out of memory) is replaced once."""

    def __init__(self, idle_seconds: float) -> None:
        self._idle_seconds = idle_seconds
        self._pool: ProcessPoolExecutor | None = None
        self._idle_timer: threading.Timer | None = None
        self._lock = threading.Lock()

    def draw(self, draw: Drawer, data: object) -> Picture:
        from bot.charts.drawing import draw_picture

        try:
            return self._pool_for_use().submit(draw_picture, draw, data).result()
        except BrokenProcessPool:
            log.warning("the picture worker died; drawing in a new one")
            self.close()
            return self._pool_for_use().submit(draw_picture, draw, data).result()
        finally:
            self._end_when_idle()

    def close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    @property
    def running(self) -> bool:
        return self._pool is not None

    def _pool_for_use(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._idle_timer is not None:
                self._idle_timer.cancel()
                self._idle_timer = None
            if self._pool is None:
                # spawn: a fresh interpreter, not a fork of a process with threads and
                # open database connections.
                self._pool = ProcessPoolExecutor(1, multiprocessing.get_context("spawn"))
            return self._pool

    def _end_when_idle(self) -> None:
        with self._lock:
            if self._pool is None:
                return
            timer = threading.Timer(self._idle_seconds, self.close)
            timer.daemon = True
            self._idle_timer = timer
            timer.start()
