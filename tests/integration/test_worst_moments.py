"""Faults at the worst moment, on both backends (the suite runs once more on PostgreSQL):
the database unreachable exactly when a reply is confirmed, when a reminder's sent-log row
is written, when a poll is closed; the homeserver answering 500 or dropping the connection
mid-send. Each time: nothing lost, nothing doubled, the queue goes on, and the log says
what happened once, not once per retry."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from bot.config import load_config
from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from bot.failpoints import ENV_FAILPOINTS
from bot.matrix.events import REMINDER_MARKER
from tests.integration.conftest import (
    PASSWORD,
    Accounts,
    Databases,
    settled,
    start_bot,
    write_plain_config,
)
from tests.integration.proxy import FaultyProxy
from tests.integration.test_evaluation import join_all, people, poll_for, z2_theme
from tests.integration.test_faults import seed_due_theme

pytestmark = pytest.mark.integration

Q1 = "Wie zufrieden sind Sie insgesamt mit dem Zukunftstisch?"


def replies(user: ScriptedUser, event_id: str) -> list[str]:
    return [
        r.body
        for r in user.received
        if r.content.get("content", {}).get("m.relates_to", {}).get("m.in_reply_to", {})
        .get("event_id") == event_id
    ]  # fmt: skip


def reply_to(received) -> str:  # type: ignore[no-untyped-def]
    return received.content["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]


async def wait_for(condition, timeout: float = 30) -> None:  # type: ignore[no-untyped-def]
    """Poll a condition on the database (no event tells us when it changes)."""
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.1)


def unconfirmed_replies(database_url: str) -> int:
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        count = connection.execute(
            sa.text("SELECT count(*) FROM handled_event WHERE reply_json IS NOT NULL")
        ).scalar()
    engine.dispose()
    return int(count or 0)


async def test_database_gone_when_a_reply_is_confirmed(
    bot_factory,
    coordinator: ScriptedUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv(ENV_FAILPOINTS, "outbox_sent=unavailable:3")
    bot = await bot_factory()
    room_id = await coordinator.create_room([bot.user_id], name="Bestätigung")
    await coordinator.wait_for_member(room_id, bot.user_id)
    first = await coordinator.ask(room_id, "!zt hilfe")
    assert "Befehle" in first.body
    url = bot.config.database_url
    await wait_for(lambda: unconfirmed_replies(url) == 0)  # confirmed once it is back
    # The queue went on; a second copy of the first answer would be here before this one.
    second = await coordinator.ask(room_id, "!zt themen")
    assert second.body
    assert len(replies(coordinator, reply_to(first))) == 1
    # Three failed attempts, one line when it went and one when it came back.
    assert caplog.text.count("database unavailable while confirming a reply") == 1
    assert caplog.text.count("confirming a reply goes on") == 1


async def test_database_gone_when_a_reminder_is_logged(
    bot_factory,
    coordinator: ScriptedUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv(ENV_FAILPOINTS, "reminder_pending=unavailable:2")
    bot = await bot_factory('[reminders]\nsend_time = "00:00"\ntick_seconds = 5')
    room_id = await coordinator.create_room([bot.user_id], name="Erinnerung")
    await coordinator.wait_for_member(room_id, bot.user_id)
    config_file = bot.config.bot.data_dir.parent / "config.toml"
    seed_due_theme(config_file, room_id, bot.bot.clock.now())
    bot.bot.scheduler.poke()

    def keys() -> list[str]:
        return [
            r.content["content"][REMINDER_MARKER]["key"]
            for r in coordinator.messages_in(room_id, bot.user_id)
            if REMINDER_MARKER in r.content.get("content", {})
        ]

    await coordinator.wait_until(lambda: bool(keys()), timeout=60)
    await settled(bot, coordinator, room_id)  # more ticks: a reminder sent twice is here
    assert len(keys()) == len(set(keys()))
    assert caplog.text.count("database unavailable while planning the reminders") == 1
    assert "ReminderEngine tick failed" not in caplog.text


async def test_database_gone_when_a_poll_is_closed(
    bot_factory,
    synapse: LocalSynapse,
    coordinator: ScriptedUser,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setenv(ENV_FAILPOINTS, "evaluation_close=unavailable:2")
    bot = await bot_factory("[evaluation]\nmin_answers = 2")
    karl, lena = await people(synapse, "karl", "lena")
    room_id = await coordinator.create_room([bot.user_id], name="Z2 Abschluss")
    await coordinator.wait_for_member(room_id, bot.user_id)
    await join_all(coordinator, room_id, [karl, lena])
    await z2_theme(coordinator, room_id, "Abschluss")
    await coordinator.ask(room_id, "!zt umfrage Abschluss raum trotzdem")
    await karl.wait_until(lambda: len(karl.polls_in(room_id)) >= 9)
    question = poll_for(karl, room_id, Q1)
    await karl.vote(room_id, question, ["a1"])
    await lena.vote(room_id, question, ["a2"])
    await coordinator.ask(room_id, "!zt umfrage beenden Abschluss")

    def summaries() -> list[str]:
        return [r.body for r in coordinator.received if "Auswertung „Abschluss“" in r.body]

    await coordinator.wait_until(lambda: bool(summaries()), timeout=60)
    await settled(bot, coordinator, room_id)  # a second summary would be here now
    assert len([s for s in summaries() if s.startswith("📊") or "Antworten" in s]) == 1
    assert f"1. {Q1} – 2 Antworten" in summaries()[0]
    assert caplog.text.count("database unavailable while closing an evaluation") == 1
    for person in (karl, lena):
        await person.close()


async def test_homeserver_fails_mid_send(
    synapse: LocalSynapse,
    accounts: Accounts,
    coordinator: ScriptedUser,
    databases: Databases,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    proxy = FaultyProxy(synapse.url)
    await proxy.start()
    account = synapse.register("zt-wackelig", PASSWORD)
    rest = f'coordinators = ["{accounts.coordinator.user_id}"]'
    config = write_plain_config(
        tmp_path, SimpleNamespace(url=proxy.url), account.user_id, databases, rest=rest
    )  # type: ignore[arg-type]
    running = await start_bot(load_config(config))
    try:
        room_id = await coordinator.create_room([account.user_id], name="Wackelig")
        await coordinator.wait_for_member(room_id, account.user_id)
        # The first send reaches Synapse but its answer is lost; then two 500s.
        proxy.send_faults = ["drop", "500", "500"]
        event_id = await coordinator.send(room_id, "!zt hilfe")
        second = await coordinator.ask(room_id, "!zt themen", timeout=60)
        await coordinator.wait_until(lambda: bool(replies(coordinator, event_id)), timeout=60)
        await coordinator.ask(room_id, "!zt hilfe", timeout=60)  # after any second copy
        assert len(replies(coordinator, event_id)) == 1  # retried, never doubled
        assert len(replies(coordinator, reply_to(second))) == 1
        assert proxy.sends_seen >= 4
        assert caplog.text.count("retrying with backoff until it goes through") == 1
        assert "went through after 2 failed attempts" in caplog.text
    finally:
        await running.stop()
        await proxy.close()
