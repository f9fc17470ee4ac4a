"""Nothing stops silently: supervised tasks restart and give up loudly; the send queue
goes on when a confirmation fails, and loses no item."""

from __future__ import annotations

import asyncio
import logging

import pytest

from bot.matrix.send_queue import (
    Delivery,
    Outgoing,
    Priority,
    SendQueue,
    SendResult,
)
from bot.tasks import MAX_CRASHES, TaskGaveUp, Tasks


async def no_sleep(_seconds: float) -> None:
    await asyncio.sleep(0)


async def test_a_crashing_task_is_restarted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    runs: list[int] = []
    third = asyncio.Event()

    async def flaky() -> None:
        runs.append(1)
        if len(runs) < 3:
            raise ConnectionError("homeserver went away")
        third.set()
        await asyncio.Event().wait()  # then runs for good

    tasks = Tasks(sleep=no_sleep)
    task = asyncio.get_running_loop().create_task(tasks.supervise("sync", flaky))
    await asyncio.wait_for(third.wait(), 5)
    task.cancel()
    assert len(runs) == 3
    assert caplog.text.count("task sync crashed; restarting it") == 2
    assert "ConnectionError: homeserver went away" in caplog.text  # with the traceback


async def test_a_task_that_keeps_crashing_ends_the_bot() -> None:
    async def broken() -> None:
        raise RuntimeError("always")

    with pytest.raises(TaskGaveUp, match=f"send queue crashed {MAX_CRASHES} times"):
        await Tasks(sleep=no_sleep).supervise("send queue", broken)


async def test_a_short_task_that_fails_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    async def fails() -> None:
        raise ValueError("kaputt")

    tasks = Tasks()
    task = tasks.spawn(fails(), "command $abc")
    with pytest.raises(ValueError):
        await task
    await asyncio.sleep(0)
    assert "task command $abc failed" in caplog.text and "ValueError: kaputt" in caplog.text
    assert tasks.pending == 0


async def test_the_queue_goes_on_when_a_confirmation_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    delivered: list[str] = []

    async def transport(outgoing: Outgoing) -> SendResult:
        delivered.append(outgoing.txn_id)
        return SendResult(Delivery.sent, event_id=f"$e-{outgoing.txn_id}")

    async def database_down(_event_id: str) -> None:
        raise ConnectionError("database restarting")

    caplog.set_level(logging.ERROR)
    queue = SendQueue(transport, sleep=no_sleep)
    runner = asyncio.get_running_loop().create_task(queue.run())
    queue.put(Outgoing("!r", {"body": "1"}, "t1", on_sent=database_down))
    queue.put(Outgoing("!r", {"body": "2"}, "t2", priority=Priority.reminder))
    event_id = await queue.send(Outgoing("!r", {"body": "3"}, "t3", on_sent=database_down))
    await asyncio.wait_for(queue.join(), 5)
    runner.cancel()
    assert delivered == ["t1", "t3", "t2"]  # answers before reminders; nothing lost
    assert event_id == "$e-t3"  # the waiting sender hears of its event all the same
    assert caplog.text.count("confirming the send to !r failed") == 2


async def test_confirmations_run_beside_the_queue() -> None:
    """With the bot's spawner a slow confirmation (a database waited for) does not hold up
    the next send."""
    release = asyncio.Event()
    delivered: list[str] = []
    tasks = Tasks()

    async def transport(outgoing: Outgoing) -> SendResult:
        delivered.append(outgoing.txn_id)
        return SendResult(Delivery.sent, event_id="$e")

    async def slow(_event_id: str) -> None:
        await release.wait()

    queue = SendQueue(transport, confirm=tasks.spawn)
    runner = asyncio.get_running_loop().create_task(queue.run())
    queue.put(Outgoing("!r", {}, "slow", on_sent=slow))
    queue.put(Outgoing("!r", {}, "next"))
    await asyncio.wait_for(queue.join(), 5)
    assert delivered == ["slow", "next"]
    assert tasks.pending == 1
    release.set()
    await asyncio.sleep(0)
    runner.cancel()
