"""One send queue for the whole bot.

Synapse limits messages per sender, not per room, so every event the bot sends goes
through here: answers ahead of reminders, 429 `retry_after_ms` honoured by waiting,
transient failures retried with backoff, nothing dropped that could still be delivered.
Event callbacks only `put`; they never wait for a send.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from enum import Enum, IntEnum

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0
# Synapse deduplicates a transaction id from the same device for 24 h (in its database);
# a send older than this is looked up in the room before it is repeated, or dropped.
TXN_DEDUP_WINDOW = timedelta(hours=23)


class Priority(IntEnum):
    answer = 0
    reminder = 1


class Delivery(Enum):
    sent = "sent"
    rate_limited = "rate_limited"  # wait retry_after, then again
    transient = "transient"  # homeserver unreachable or 5xx: back off, then again
    rejected = "rejected"  # the homeserver refused for good (not joined, forbidden)


@dataclass(frozen=True)
class SendResult:
    delivery: Delivery
    event_id: str | None = None
    retry_after_ms: int | None = None
    reason: str = ""


@dataclass(frozen=True)
class Outgoing:
    room_id: str
    content: dict
    txn_id: str
    event_type: str = "m.room.message"
    priority: Priority = Priority.answer
    # Told the event id once the homeserver has the event (the sent-log marks it sent).
    on_sent: Callable[[str], Awaitable[None]] | None = field(default=None, compare=False)
    # Told when the homeserver refused the event for good (the sender may try again later).
    on_rejected: Callable[[], None] | None = field(default=None, compare=False)


Transport = Callable[[Outgoing], Awaitable[SendResult]]


def txn_id_for(*parts: str) -> str:
    """A transaction id derived from what is sent, so a retried send is deduplicated."""
    return "zt" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class SendQueue:
    def __init__(
        self, transport: Transport, sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    ) -> None:
        self._transport = transport
        self._sleep = sleep
        self._queue: asyncio.PriorityQueue[tuple[int, int, Outgoing]] = asyncio.PriorityQueue()
        self._order = itertools.count()
        self.sent = 0
        self.rejected = 0
        self.rate_limited = 0  # 429 answers honoured (for tests and logs)

    def put(self, outgoing: Outgoing) -> None:
        """Queue an event; returns at once."""
        self._queue.put_nowait((int(outgoing.priority), next(self._order), outgoing))

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    async def send(self, outgoing: Outgoing) -> str | None:
        """Queue an event and wait for it: its event id, or None when it was refused."""
        done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        async def sent(event_id: str) -> None:
            if outgoing.on_sent is not None:
                await outgoing.on_sent(event_id)
            if not done.done():
                done.set_result(event_id)

        def rejected() -> None:
            if outgoing.on_rejected is not None:
                outgoing.on_rejected()
            if not done.done():
                done.set_result(None)

        self.put(replace(outgoing, on_sent=sent, on_rejected=rejected))
        return await done

    async def join(self) -> None:
        """Wait until everything queued so far has been delivered or rejected."""
        await self._queue.join()

    async def run(self) -> None:
        while True:
            _, _, outgoing = await self._queue.get()
            try:
                await self._deliver(outgoing)
            finally:
                self._queue.task_done()

    async def _deliver(self, outgoing: Outgoing) -> None:
        backoff = 1.0
        while True:
            try:
                result = await self._transport(outgoing)
            except Exception as err:  # a bug in the transport must not stop the queue
                log.exception("send to %s failed", outgoing.room_id)
                result = SendResult(Delivery.transient, reason=type(err).__name__)
            if result.delivery is Delivery.sent:
                self.sent += 1
                if outgoing.on_sent is not None and result.event_id is not None:
                    await outgoing.on_sent(result.event_id)
                return
            if result.delivery is Delivery.rejected:
                self.rejected += 1
                log.error("homeserver refused event for %s: %s", outgoing.room_id, result.reason)
                if outgoing.on_rejected is not None:
                    outgoing.on_rejected()
                return
            if result.delivery is Delivery.rate_limited:
                self.rate_limited += 1
                wait = (result.retry_after_ms or 1000) / 1000
                log.info("rate limited, waiting %.1fs", wait)
            else:
                wait = backoff
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
                log.warning("send failed (%s), retrying in %.0fs", result.reason, wait)
            await self._sleep(wait)
