"""How modest the OParl client is: its limits, the request pacing, the byte budget of one
call, and the cache of earlier responses for conditional requests."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from time import monotonic

from bot.council.failures import Failure, OParlUnavailable


@dataclass(frozen=True)
class ClientLimits:
    """How patient and how modest the client is. Times in seconds, sizes in bytes."""

    connect_timeout: float = 10.0
    read_timeout: float = 30.0
    # One request from sending to the last byte: a server that trickles is cut off.
    request_deadline: float = 60.0
    # One public call (e.g. all meetings): all its requests together.
    operation_deadline: float = 600.0
    requests_per_second: float = 2.0
    max_pages: int = 200  # per list
    max_response_bytes: int = 10_000_000
    max_total_bytes: int = 200_000_000  # per public call
    max_redirects: int = 5
    cache_bytes: int = 20_000_000  # bodies kept for conditional requests

    def __post_init__(self) -> None:
        if self.requests_per_second <= 0 or self.max_pages < 1 or self.max_redirects < 0:
            raise ValueError("ClientLimits: requests_per_second > 0, max_pages >= 1 expected")


class RateLimiter:
    """Spaces request starts at least 1/N seconds apart; waits by sleeping, never spinning."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            delay = self._next - monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            self._next = max(monotonic(), self._next) + self._interval


@dataclass
class Budget:
    """Bytes one public call may still read."""

    limit: int
    used: int = 0

    def spend(self, count: int) -> None:
        self.used += count
        if self.used > self.limit:
            raise OParlUnavailable(Failure.TOO_LARGE, "budget", size=self.limit)


@dataclass(frozen=True)
class Cached:
    body: bytes
    etag: str | None
    last_modified: str | None


@dataclass
class ResponseCache:
    """Bodies of earlier responses with their validators, least recently used out first."""

    limit: int
    entries: OrderedDict[str, Cached] = field(default_factory=OrderedDict)
    size: int = 0

    def get(self, url: str) -> Cached | None:
        entry = self.entries.get(url)
        if entry is not None:
            self.entries.move_to_end(url)
        return entry

    def put(self, url: str, entry: Cached) -> None:
        self.drop(url)
        if len(entry.body) > self.limit:
            return
        self.entries[url] = entry
        self.size += len(entry.body)
        while self.size > self.limit:
            _, oldest = self.entries.popitem(last=False)
            self.size -= len(oldest.body)

    def drop(self, url: str) -> None:
        old = self.entries.pop(url, None)
        if old is not None:
            self.size -= len(old.body)
