"""SQLite: the writers of one process take turns, in the order they came.

SQLite has one write lock per database file. A writer that finds it taken waits in
SQLite's busy handler, which sleeps and looks again (up to 100 ms between looks) and is
not fair: under a burst of short writes one waiter can lose the race again and again, for
seconds (tests/store/test_busy_writers.py saw 7 s). Within the process writers queue here
instead: each is let in the moment the one before it is done, in arrival order. SQLite's
own lock and busy handler remain for writers of other processes (`zt-bot import`).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class WriterTimeout(RuntimeError):
    """No turn to write came within the timeout: the database counts as unavailable."""


class WriterTurns:
    """One writer at a time, first come first served."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout
        self._changed = threading.Condition()
        self._waiting: deque[object] = deque()
        self._owner: int | None = None  # the thread whose turn it is

    @property
    def busy(self) -> bool:
        """A writer has its turn now."""
        return self._owner is not None

    @property
    def waiting(self) -> int:
        """Writers in line."""
        return len(self._waiting)

    @contextmanager
    def turn(self) -> Iterator[None]:
        self._enter()
        try:
            yield
        finally:
            self._leave()

    def _enter(self) -> None:
        me = threading.get_ident()
        with self._changed:
            if self._owner == me:
                # Its own transaction holds SQLite's lock: the second would wait for it.
                raise RuntimeError("a write session inside another one: pass the session on")
            ticket = object()
            self._waiting.append(ticket)
            if not self._changed.wait_for(lambda: self._free_for(ticket), self._timeout):
                self._waiting.remove(ticket)
                self._changed.notify_all()  # the next in line may be first now
                raise WriterTimeout(f"waited {self._timeout:.0f} s for another writer")
            self._waiting.popleft()
            self._owner = me

    def _free_for(self, ticket: object) -> bool:
        return self._owner is None and self._waiting[0] is ticket

    def _leave(self) -> None:
        with self._changed:
            self._owner = None
            self._changed.notify_all()
