"""Restarts: a command that came while the bot was down is answered once if it is young
enough, an older one never; nothing is answered twice."""

from __future__ import annotations

import asyncio
import time

import pytest

from bot.demo.scripted_user import ScriptedUser

pytestmark = pytest.mark.integration


def replies_to(user: ScriptedUser, room_id: str, bot: str, event_id: str) -> list:
    return [
        r
        for r in user.messages_in(room_id, bot)
        if r.content["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
        == event_id
    ]


async def test_a_command_sent_while_down_is_answered_once_after_start(
    bot_factory, tmp_path, coordinator: ScriptedUser
) -> None:
    directory = tmp_path / "down"
    bot = await bot_factory(directory=directory)
    room_id = await coordinator.create_room([bot.user_id], name="Während der Wartung")
    await coordinator.wait_for_member(room_id, bot.user_id)
    await coordinator.ask(room_id, "!zt neu Mobilität KW 15/2027")
    await bot.stop()
    waiting = await coordinator.send(room_id, "!zt status Mobilität")
    restarted = await bot_factory(directory=directory)
    await coordinator.wait_until(lambda: replies_to(coordinator, room_id, bot.user_id, waiting))
    assert (
        "Zukunftstisch „Mobilität“"
        in replies_to(coordinator, room_id, bot.user_id, waiting)[0].body
    )
    # A second restart does not answer it again.
    await restarted.stop()
    await bot_factory(directory=directory)
    probe = await coordinator.ask(room_id, "!zt themen")  # answered after it would be
    assert probe.body
    assert len(replies_to(coordinator, room_id, bot.user_id, waiting)) == 1


async def test_a_command_older_than_max_command_age_is_not_answered(
    bot_factory, tmp_path, coordinator: ScriptedUser
) -> None:
    directory = tmp_path / "old"
    bot = await bot_factory(extra='max_command_age = "2s"', directory=directory)
    room_id = await coordinator.create_room([bot.user_id], name="Lange Pause")
    await coordinator.wait_for_member(room_id, bot.user_id)
    await bot.stop()
    sent_at = time.monotonic()
    old = await coordinator.send(room_id, "!zt hilfe")
    # Not a wait for something to (not) happen: the command must grow older than the
    # limit while the bot is down, and only time does that.
    await asyncio.sleep(max(0.0, sent_at + 2.5 - time.monotonic()))
    await bot_factory(extra='max_command_age = "2s"', directory=directory)
    probe = await coordinator.ask(room_id, "!zt themen")  # a young one is answered
    assert probe.sender == bot.user_id  # and after the old one, had it been answered
    assert replies_to(coordinator, room_id, bot.user_id, old) == []
