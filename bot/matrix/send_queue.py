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
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum, IntEnum
from typing import Any

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
    on_sent: Callable[[str], Coroutine[Any, Any, None]] | None = field(default=None, compare=False)
    # Told when the homeserver refused the event for good (the sender may try again later).
    on_rejected: Callable[[], None] | None = field(default=None, compare=False)


Transport = Callable[[Outgoing], Awaitable[SendResult]]
# Runs a send's confirmation (`on_sent`) without holding up the queue: the bot passes its
# task spawner; by default the confirmation is awaited in place.
Confirm = Callable[[Coroutine[Any, Any, None], str], object]


def txn_id_for(*parts: str) -> str:
    """A transaction id derived from what is sent, so a retried send is deduplicated."""
    return "zt" + hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:40]


class SendQueue:
    def __init__(
        self,
        transport: Transport,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        confirm: Confirm | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._transport = transport
        self._sleep = sleep
        self._confirm = confirm
        self._clock = clock
        self._queue: asyncio.PriorityQueue[tuple[int, int, Outgoing]] = asyncio.PriorityQueue()
        self._order = itertools.count()
        # When each item still held (waiting or being delivered) was queued, for health.
        self._held: dict[int, datetime] = {}
        self.last_progress: datetime | None = None  # an item last sent or refused, at
        self.sent = 0
        self.sent_answers = 0  # of those, answers to commands (for metrics)
        self.rejected = 0
        self.rate_limited = 0  # 429 answers honoured (for tests, logs and metrics)

    def put(self, outgoing: Outgoing) -> None:
        """Queue an event; returns at once."""
        order = next(self._order)
        self._held[order] = self._clock()
        self._queue.put_nowait((int(outgoing.priority), order, outgoing))

    @property
    def pending(self) -> int:
        """Items queued or being delivered."""
        return len(self._held)

    @property
    def oldest_since(self) -> datetime | None:
        """When the oldest item still held was queued."""
        return min(self._held.values(), default=None)

    async def send(self, outgoing: Outgoing) -> str | None:
        """Queue an event and wait for it: its event id, or None when it was refused."""
        done: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()

        async def sent(event_id: str) -> None:
            try:
                if outgoing.on_sent is not None:
                    await outgoing.on_sent(event_id)
            finally:  # the event is there, whatever its confirmation did
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

    async def _confirmed(self, outgoing: Outgoing, confirmation: Coroutine[Any, Any, None]) -> None:
        """Hand the confirmation on, or await it here; a failing one never stops the queue
        (the item is delivered: a later resend under the same transaction id is dropped
        by the homeserver)."""
        if self._confirm is not None:
            self._confirm(confirmation, outgoing.txn_id)
            return
        try:
            await confirmation
        except Exception:
            log.exception("confirming the send to %s failed", outgoing.room_id)

    async def run(self) -> None:
        while True:
            _, order, outgoing = await self._queue.get()
            try:
                await self._deliver(outgoing)
            finally:
                self._held.pop(order, None)
                self._queue.task_done()

    async def _deliver(self, outgoing: Outgoing) -> None:
        backoff = 1.0
        trouble: _Trouble | None = None  # a failure streak: logged once at its start and end
        while True:
            try:
                result = await self._transport(outgoing)
            except Exception as err:  # a bug in the transport must not stop the queue
                log.exception("send to %s failed", outgoing.room_id)
                result = SendResult(Delivery.transient, reason=type(err).__name__)
            if result.delivery in (Delivery.sent, Delivery.rejected):
                self.last_progress = self._clock()
                if trouble is not None:
                    trouble.ended(outgoing)
            if result.delivery is Delivery.sent:
                self.sent += 1
                self.sent_answers += outgoing.priority is Priority.answer
                if outgoing.on_sent is not None and result.event_id is not None:
                    await self._confirmed(outgoing, outgoing.on_sent(result.event_id))
                return
            if result.delivery is Delivery.rejected:
                self.rejected += 1
                log.error("homeserver refused event for %s: %s", outgoing.room_id, result.reason)
                if outgoing.on_rejected is not None:
                    try:
                        outgoing.on_rejected()
                    except Exception:  # the item is done either way; the queue goes on
                        log.exception("after a refused send to %s", outgoing.room_id)
                return
            if result.delivery is Delivery.rate_limited:
                self.rate_limited += 1
                wait = (result.retry_after_ms or 1000) / 1000
            else:
                wait = backoff
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            trouble = trouble or _Trouble(time.monotonic())
            trouble.failed(outgoing, result, wait)
            await self._sleep(wait)


@dataclass
class _Trouble:
    """One item's failed attempts: the first is logged, the rest only counted."""

    started: float
    attempts: int = 0

    def failed(self, outgoing: Outgoing, result: SendResult, wait: float) -> None:
        self.attempts += 1
        if self.attempts > 1:
            log.debug("send to %s: attempt %d failed", outgoing.room_id, self.attempts)
        elif result.delivery is Delivery.rate_limited:
            log.info("rate limited sending to %s, waiting %.1f s", outgoing.room_id, wait)
        else:
            log.warning(
                "send to %s failed (%s); retrying with backoff until it goes through",
                outgoing.room_id,
                result.reason,
            )

    def ended(self, outgoing: Outgoing) -> None:
        log.info(
            "send to %s went through after %d failed attempts (%.0f s)",
            outgoing.room_id,
            self.attempts,
            time.monotonic() - self.started,
        )
