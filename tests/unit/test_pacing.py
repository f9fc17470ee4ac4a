"""The send queue under a homeserver's rate limit: a stand-in that keeps Synapse's token
bucket (`synapse.api.ratelimiting.Ratelimiter.can_do_action`, rc_message 0.2/s, burst 10)
on a virtual clock, so that an hour of sending runs in a moment. What is checked is order
and counts: answers never wait behind more than one bulk send, bulk sends run just below
the limit (few 429s, none for answers once the limit is known), nothing is lost or
reordered."""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from unittest import mock

import pytest

from bot.matrix.send_queue import (
    FORGET_AFTER,
    Delivery,
    Outgoing,
    Pacer,
    Priority,
    SendQueue,
    SendResult,
)


@contextlib.contextmanager
def virtual_time() -> Iterator[None]:
    """The running loop's clock jumps over every wait: asyncio.sleep(300) returns at once
    with loop.time() 300 s later (no threads and no real I/O in these tests)."""
    loop = asyncio.get_running_loop()
    now = [loop.time()]

    def select(original, timeout):  # type: ignore[no-untyped-def]
        if timeout:
            now[0] += timeout
        return original(0)

    selector = loop._selector  # type: ignore[attr-defined]
    with (
        mock.patch.object(selector, "select", functools.partial(select, selector.select)),
        mock.patch.object(loop, "time", lambda: now[0]),
    ):
        yield


@dataclass
class Homeserver:
    """Synapse's rate limiter for one sender, answering sends after `latency` seconds."""

    per_second: float = 0.2
    burst: int = 10
    latency: float = 0.05
    exempt: bool = False
    count: float = 0.0
    start: float = 0.0
    log: list[tuple[str, str]] = field(default_factory=list)  # (txn id, "sent" | "429")

    async def transport(self, outgoing: Outgoing) -> SendResult:
        await asyncio.sleep(self.latency)
        now = asyncio.get_running_loop().time()
        performed = self.count - (now - self.start) * self.per_second
        if performed < 0:
            performed, self.count, self.start = 0.0, 0.0, now
        if not self.exempt and performed > self.burst - 1:
            allowed_at = self.start + (self.count - self.burst + 1) / self.per_second
            self.log.append((outgoing.txn_id, "429"))
            retry_ms = max(0, int((allowed_at - now) * 1000))
            return SendResult(Delivery.rate_limited, retry_after_ms=retry_ms)
        self.count += 1
        self.log.append((outgoing.txn_id, "sent"))
        return SendResult(Delivery.sent, event_id=f"${outgoing.txn_id}")

    def sent(self) -> list[str]:
        return [txn for txn, what in self.log if what == "sent"]

    def limited(self, prefix: str) -> list[str]:
        return [txn for txn, what in self.log if what == "429" and txn.startswith(prefix)]


def queue_for(server: Homeserver) -> SendQueue:
    loop = asyncio.get_running_loop()
    return SendQueue(server.transport, monotonic=loop.time)


async def answers_meanwhile(queue: SendQueue, count: int, every: float) -> None:
    for number in range(count):
        await asyncio.sleep(every)
        queue.put(Outgoing("!koordination", {"body": "status"}, f"answer{number:02d}"))


def bulk_between(sent: list[str], answer: str, queued_after: str | None) -> int:
    """How many bulk sends went out after `queued_after` (the last event sent before the
    answer was queued) and before the answer."""
    start = sent.index(queued_after) + 1 if queued_after else 0
    return sum(1 for txn in sent[start : sent.index(answer)] if txn.startswith("bulk"))


async def test_a_burst_of_reminders_is_paced_and_answers_pass_it() -> None:
    server = Homeserver()
    with virtual_time():
        queue = queue_for(server)
        runner = asyncio.create_task(queue.run())
        for number in range(60):
            queue.put(
                Outgoing(
                    "!team", {"body": "Erinnerung"}, f"bulk{number:02d}", priority=Priority.reminder
                )
            )
        # An answer every 20 s while the burst goes out, each noted with what had gone out.
        before: dict[str, str | None] = {}
        for number in range(12):
            await asyncio.sleep(20)
            sent = server.sent()
            before[f"answer{number:02d}"] = sent[-1] if sent else None
            queue.put(Outgoing("!koordination", {"body": "status"}, f"answer{number:02d}"))
        await asyncio.wait_for(queue.join(), 3600)
        runner.cancel()
    sent = server.sent()
    bulk = [txn for txn in sent if txn.startswith("bulk")]
    assert bulk == [f"bulk{number:02d}" for number in range(60)]  # all, in order, once
    assert len(sent) == 72
    for answer, last in before.items():
        assert bulk_between(sent, answer, last) <= 1, answer
    # Learning the limit costs a 429 or two; then bulk sends stay just below it.
    assert len(server.limited("bulk")) <= 3
    assert server.limited("answer") == []


async def test_an_evaluation_sent_one_event_at_a_time_leaves_room_for_answers() -> None:
    """The evaluation engine waits for each event (`send`); answers come every 20 s."""
    server = Homeserver()
    with virtual_time():
        queue = queue_for(server)
        runner = asyncio.create_task(queue.run())
        chatter = asyncio.create_task(answers_meanwhile(queue, 15, 20))
        for number in range(80):
            event_id = await queue.send(
                Outgoing("!dm", {"body": "Frage"}, f"bulk{number:02d}", priority=Priority.reminder)
            )
            assert event_id == f"$bulk{number:02d}"
        await chatter
        await asyncio.wait_for(queue.join(), 3600)
        runner.cancel()
    assert len(server.sent()) == 95
    assert len(server.limited("bulk")) <= 3
    assert len(server.limited("answer")) <= 1


async def test_answers_alone_are_never_held_back() -> None:
    server = Homeserver()
    with virtual_time():
        queue = queue_for(server)
        runner = asyncio.create_task(queue.run())
        for number in range(15):  # more than the burst: the homeserver's 429 is waited out
            queue.put(Outgoing("!r", {"body": "x"}, f"answer{number:02d}"))
        await asyncio.wait_for(queue.join(), 3600)
        runner.cancel()
    assert server.sent() == [f"answer{number:02d}" for number in range(15)]
    assert queue.rate_limited == len(server.limited("answer")) > 0


async def test_a_lifted_limit_is_noticed() -> None:
    """After an admin exempts the bot (override_ratelimit) no 429 comes any more: the pacer
    forgets the limit, and once more events go through than the default would let through
    it says so (the evaluation's announcement then names no wait)."""
    server = Homeserver()
    with virtual_time():
        queue = queue_for(server)
        runner = asyncio.create_task(queue.run())
        for number in range(12):
            queue.put(Outgoing("!r", {}, f"bulk{number:02d}", priority=Priority.reminder))
        await asyncio.wait_for(queue.join(), 3600)
        assert queue.pacer.interval is not None
        limit = queue.pacer.limit()
        assert limit is not None and limit.learned and 0.15 < limit.per_second <= 0.25
        server.exempt = True
        await asyncio.sleep(FORGET_AFTER + 1)
        for number in range(30):
            queue.put(Outgoing("!r", {}, f"later{number:02d}", priority=Priority.reminder))
        await asyncio.wait_for(queue.join(), 3600)
        runner.cancel()
    assert queue.pacer.interval is None
    assert queue.pacer.limit() is None


def test_before_any_429_synapse_defaults_are_assumed_and_nothing_is_paced() -> None:
    pacer = Pacer(lambda: 0.0)
    assert pacer.bulk_delay() == 0
    limit = pacer.limit()
    assert limit is not None and not limit.learned and limit.per_second == pytest.approx(0.2)
