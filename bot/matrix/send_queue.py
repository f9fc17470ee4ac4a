"""One send queue for the whole bot.

Synapse limits messages per sender, not per room, so every event the bot sends goes
through here: answers ahead of reminders, 429 `retry_after_ms` honoured by waiting,
transient failures retried with backoff, nothing dropped that could still be delivered.
Event callbacks only `put`; they never wait for a send.

Bulk sends (reminders, polls: everything that is not an answer) are paced below the limit
the queue learns from the homeserver's 429 answers (`Pacer`), so that an answer finds the
homeserver ready and waits behind at most the one bulk send in flight: a rate-limited bulk
send goes back into the queue instead of holding it while it waits.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from enum import Enum, IntEnum
from typing import Any

from bot.domain.sendout import SYNAPSE_MESSAGES, Limit

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


# Bulk sends leave this many of the homeserver's tokens free for answers.
ANSWER_RESERVE = 1.0
# A learned limit is forgotten after this long without a 429 (an admin may have exempted
# the bot): bulk sends go unpaced again until the next 429 teaches the limit anew.
FORGET_AFTER = 600.0
# A spacing measured between two 429s is taken this much longer (rounding, latency).
INTERVAL_MARGIN = 1.02


class Pacer:
    """The homeserver's limit on the bot's events, as far as its 429 answers tell.

    Synapse keeps a token bucket per sender (`rc_message`): `burst` events at once, then
    one every `1 / per_second` seconds. A 429 says how long until the next token
    (`retry_after_ms`); the longest such wait seen is the spacing of one token (5 s at
    Synapse's default 0.2/s). From the first 429 on, the pacer counts the free tokens
    (refilled at that spacing, one spent per event the homeserver took) and lets a bulk
    send go only while `ANSWER_RESERVE` tokens stay free: bulk sends run just below the
    limit and an answer finds a token. Before the first 429 nothing is paced.
    """

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        default: Limit = SYNAPSE_MESSAGES,
        what: str = "event",
    ) -> None:
        self._clock = clock
        self.default = default  # Synapse's limit, assumed until a 429 tells better
        self.what = what  # for the log
        self.interval: float | None = None  # seconds per token, once learned
        self._free = 0.0
        self._at = 0.0
        self._limited_at = 0.0
        self._limited_wait = 0.0  # what the last 429 said
        self._spent = 0  # events the homeserver took since the last 429
        # Events that went through since the last 429: more within a span than Synapse's
        # default limit lets through says the limit is higher (or the bot exempt).
        self._recent: deque[float] = deque(maxlen=2 * default.burst)
        self.above_default = False

    def _refresh(self) -> float:
        now = self._clock()
        if self.interval is not None:
            if now - self._limited_at > FORGET_AFTER:
                log.info(
                    "no 429 for %.0f s: the limit is forgotten until the next one",
                    now - self._limited_at,
                )
                self.interval = None
            else:
                refill = (now - self._at) / self.interval
                self._free = min(float(self.default.burst), self._free + refill)
                self._at = now
        return now

    def limited(self, retry_after: float) -> None:
        """The homeserver answered 429: the next token comes in `retry_after` seconds."""
        now = self._clock()
        wait = max(retry_after, 0.001)
        if self.interval is None:
            # At the first 429 part of a token may have grown back: a first guess.
            interval = wait
            log.info(
                "the homeserver allows the bot about one %s every %.1f s (from its 429 answer)",
                self.what,
                wait,
            )
        elif self._spent:
            # Limited again though paced: between the two 429s the bucket gained
            # (elapsed / interval) tokens and lost the events spent, which gives the spacing
            # (exact when nothing else drew on the bucket, longer when something did).
            elapsed = now - self._limited_at
            measured = (elapsed + wait - self._limited_wait) / self._spent
            interval = max(wait, measured * INTERVAL_MARGIN)
        else:
            interval = max(wait, self.interval)
        self.interval = interval
        self._free = 1.0 - wait / self.interval
        self._at = self._limited_at = now
        self._limited_wait = wait
        self._spent = 0
        self._recent.clear()
        self.above_default = False

    def spent(self) -> None:
        """The homeserver took an event (or a request counted with them: a created room)."""
        now = self._refresh()
        if self.interval is not None:
            self._free -= 1.0
            self._spent += 1
            return
        self._recent.append(now)
        if len(self._recent) == self._recent.maxlen:
            span = now - self._recent[0]
            allowed = self.default.burst + span * self.default.per_second + 1
            self.above_default = len(self._recent) > allowed

    def has_room(self) -> bool:
        """Whether the homeserver should take an event now, as far as the pacer can tell:
        a 429 to something counted with events (creating a room) then came from another
        limit."""
        now = self._refresh()
        if self.interval is not None:
            return self._free >= 1.0
        window = self.default.burst / self.default.per_second  # a full bucket's refill
        return sum(1 for at in self._recent if now - at < window) < self.default.burst

    def bulk_delay(self) -> float:
        """Seconds until a bulk send may go (0: now)."""
        self._refresh()
        if self.interval is None:
            return 0.0
        return max(0.0, (1.0 + ANSWER_RESERVE - self._free) * self.interval)

    def limit(self) -> Limit | None:
        """The limit as learned; Synapse's default while nothing is known; None when more
        went through than the default allows."""
        if self.interval is not None:
            return Limit(1.0 / self.interval, self.default.burst, learned=True)
        return None if self.above_default else self.default


class SendQueue:
    def __init__(
        self,
        transport: Transport,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        confirm: Confirm | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._transport = transport
        self._sleep = sleep
        self._confirm = confirm
        self._clock = clock
        self.pacer = Pacer(monotonic)
        # (priority, order, item): answers first, then in the order queued.
        self._heap: list[tuple[int, int, Outgoing]] = []
        self._changed = asyncio.Event()  # something was queued
        self._idle = asyncio.Event()  # nothing queued or being delivered
        self._idle.set()
        self._order = itertools.count()
        # When each item still held (waiting or being delivered) was queued, for health.
        self._held: dict[int, datetime] = {}
        # An item's failure streak, kept while a rate-limited bulk send waits in the queue.
        self._trouble: dict[int, _Trouble] = {}
        self.last_progress: datetime | None = None  # an item last sent or refused, at
        self.sent = 0
        self.sent_answers = 0  # of those, answers to commands (for metrics)
        self.rejected = 0
        self.rate_limited = 0  # 429 answers honoured (for tests, logs and metrics)

    def put(self, outgoing: Outgoing) -> None:
        """Queue an event; returns at once."""
        order = next(self._order)
        self._held[order] = self._clock()
        heapq.heappush(self._heap, (int(outgoing.priority), order, outgoing))
        self._idle.clear()
        self._changed.set()

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
        await self._idle.wait()

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
            item = await self._next()
            order = item[1]
            again = False
            try:
                again = await self._deliver(order, item[2])
            finally:
                if again:  # rate limited bulk send: back in line, in its place
                    heapq.heappush(self._heap, item)
                else:
                    self._held.pop(order, None)
                    self._trouble.pop(order, None)
                    if not self._held:
                        self._idle.set()

    async def _next(self) -> tuple[int, int, Outgoing]:
        """The next item to deliver: an answer at once, a bulk send when the pacer lets it
        go (an answer queued meanwhile goes first)."""
        while True:
            self._changed.clear()
            if not self._heap:
                await self._changed.wait()
                continue
            priority = self._heap[0][0]
            delay = 0.0 if priority == Priority.answer else self.pacer.bulk_delay()
            if delay < 0.001:  # (a float's rest of a token: no wait worth the name)
                return heapq.heappop(self._heap)
            await self._changed_within(delay)

    async def _changed_within(self, seconds: float) -> None:
        """Wait `seconds`, or less if something is queued meanwhile."""
        queued = asyncio.ensure_future(self._changed.wait())
        slept = asyncio.ensure_future(self._sleep(seconds))
        try:
            await asyncio.wait({queued, slept}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            queued.cancel()
            slept.cancel()

    async def _deliver(self, order: int, outgoing: Outgoing) -> bool:
        """Deliver one item; True when it is a bulk send the homeserver rate-limited (it
        goes back into the queue, which meanwhile serves answers)."""
        backoff = 1.0
        while True:
            try:
                result = await self._transport(outgoing)
            except Exception as err:  # a bug in the transport must not stop the queue
                log.exception("send to %s failed", outgoing.room_id)
                result = SendResult(Delivery.transient, reason=type(err).__name__)
            trouble = self._trouble.get(order)
            if result.delivery in (Delivery.sent, Delivery.rejected):
                self.last_progress = self._clock()
                if trouble is not None:
                    trouble.ended(outgoing)
            if result.delivery is Delivery.sent:
                self.sent += 1
                self.sent_answers += outgoing.priority is Priority.answer
                self.pacer.spent()
                if outgoing.on_sent is not None and result.event_id is not None:
                    await self._confirmed(outgoing, outgoing.on_sent(result.event_id))
                return False
            if result.delivery is Delivery.rejected:
                self.rejected += 1
                log.error("homeserver refused event for %s: %s", outgoing.room_id, result.reason)
                if outgoing.on_rejected is not None:
                    try:
                        outgoing.on_rejected()
                    except Exception:  # the item is done either way; the queue goes on
                        log.exception("after a refused send to %s", outgoing.room_id)
                return False
            if result.delivery is Delivery.rate_limited:
                self.rate_limited += 1
                retry_ms = result.retry_after_ms
                wait = (retry_ms if retry_ms is not None else 1000) / 1000
                self.pacer.limited(wait)
            else:
                wait = backoff
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
            trouble = self._trouble.setdefault(order, _Trouble(time.monotonic()))
            trouble.failed(outgoing, result, wait)
            if result.delivery is Delivery.rate_limited and outgoing.priority != Priority.answer:
                return True  # the pacer holds it back at least `wait`
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
