"""Reminders on the real homeserver: unasked, exactly once, caught up after downtime."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.clock import Clock
from bot.demo.scripted_user import Received, ScriptedUser
from bot.matrix.events import REMINDER_MARKER
from tests.integration.conftest import settled

pytestmark = pytest.mark.integration

# Every reminder due today is due at once, whatever time the tests run.
AT_MIDNIGHT = '[reminders]\nsend_time = "00:00"'


def reminders_in(user: ScriptedUser, room_id: str, sender: str) -> list[Received]:
    return [
        r
        for r in user.messages_in(room_id, sender)
        if REMINDER_MARKER in r.content.get("content", {})
    ]


async def wait_for_reminders(
    user: ScriptedUser, room_id: str, sender: str, count: int, timeout: float = 30
) -> list[Received]:
    await user.wait_until(lambda: len(reminders_in(user, room_id, sender)) >= count, timeout)
    return reminders_in(user, room_id, sender)


async def test_a_step_due_today_is_reminded_unasked_and_once(
    bot_factory, coordinator: ScriptedUser, accounts
) -> None:
    bot = await bot_factory(extra=AT_MIDNIGHT)
    room_id = await coordinator.create_room([bot.user_id], name="Fachbereich Mobilität")
    await coordinator.wait_for_member(room_id, bot.user_id)
    today = bot.bot.clock.now().date()
    await coordinator.ask(room_id, "!zt neu Mobilität KW 20/2030")
    await coordinator.ask(room_id, f"!zt termin Mobilität 3 {today:%d.%m.%Y} trotzdem")
    [reminder] = await wait_for_reminders(coordinator, room_id, bot.user_id, 1)
    body = reminder.body
    assert "Schritt 3 „Aufbereitung für Z2“ von Mobilität" in body
    assert "Federführung: Fachbereich, Koordination" in body
    assert "☐ Arbeits- und Beratungsgrundlage für den Zukunftstisch" in body
    assert "Erledigt? !zt erledigt Mobilität 3" in body
    assert reminder.content["content"]["msgtype"] == "m.notice"
    # More ticks (every answered change pokes the scheduler) send nothing new.
    for person in ("@anna:localhost", "@ben:localhost", "@cem:localhost"):
        await coordinator.ask(room_id, f"!zt zuständig Mobilität 4 {person}")
    await settled(bot, coordinator, room_id)
    assert len(reminders_in(coordinator, room_id, bot.user_id)) == 1


async def test_a_reminder_that_fell_due_while_down_is_sent_once_after_start(
    bot_factory, tmp_path, coordinator: ScriptedUser
) -> None:
    directory = tmp_path / "downtime"
    bot = await bot_factory(extra=AT_MIDNIGHT, directory=directory)
    room_id = await coordinator.create_room([bot.user_id], name="Fachbereich Klima")
    await coordinator.wait_for_member(room_id, bot.user_id)
    today = bot.bot.clock.now().date()
    # Step 5 (a deadline) is due in ten days; nothing is due yet.
    await coordinator.ask(room_id, "!zt neu Klima KW 20/2030")
    await coordinator.ask(
        room_id, f"!zt termin Klima 5 {today + timedelta(days=10):%d.%m.%Y} trotzdem"
    )
    await settled(bot, coordinator, room_id)
    before = reminders_in(coordinator, room_id, bot.user_id)
    await bot.stop()
    # Twelve days pass while the bot is down (the shifted clock stands in for waiting).
    later = Clock(bot.bot.clock.zone, timedelta(days=12))
    restarted = await bot_factory(extra=AT_MIDNIGHT, directory=directory, clock=later)
    found = await wait_for_reminders(coordinator, room_id, restarted.user_id, len(before) + 1)
    caught_up = found[len(before) :]
    # One reminder, not one per missed stage (advance, due day, overdue …), marked late.
    assert len(caught_up) == 1
    assert "Schritt 5 „Beschlussvorlage“ von Klima" in caught_up[0].body
    assert "(nachgeholt)" in caught_up[0].body
    await settled(restarted, coordinator, room_id)
    assert len(reminders_in(coordinator, room_id, restarted.user_id)) == len(before) + 1


async def test_erinnerungen_lists_the_next_reminders_with_date_and_room(
    bot_factory, coordinator: ScriptedUser
) -> None:
    bot = await bot_factory(extra=AT_MIDNIGHT)
    room_id = await coordinator.create_room([bot.user_id], name="Fachbereich Wasser")
    await coordinator.wait_for_member(room_id, bot.user_id)
    today = bot.bot.clock.now().date()
    await coordinator.ask(room_id, "!zt neu Wasser KW 20/2030")
    await coordinator.ask(
        room_id, f"!zt termin Wasser 5 {today + timedelta(days=14):%d.%m.%Y} trotzdem"
    )
    listing = await coordinator.ask(room_id, "!zt erinnerungen Wasser")
    # One theme's list runs to the end of its process (issue 21), not four weeks.
    assert (
        "Erinnerungen für „Wasser“ bis zum Ende des Prozesses (17.06.2030), jeweils 00:00 Uhr"
        in (listing.body)
    )
    assert "Beginn, Wasser Schritt 7 → Teamraum" in listing.body
    lines = [line for line in listing.body.splitlines() if line.startswith("•")]
    assert any("Vorankündigung, Wasser Schritt 5 → Teamraum" in line for line in lines)
    assert any("am Tag, Wasser Schritt 5 → Teamraum" in line for line in lines)
    nothing = await coordinator.ask(room_id, "!zt erinnerungen Wass")
    assert "Wasser" in nothing.body
    unknown = await coordinator.ask(room_id, "!zt erinnerungen Feuer")
    assert "kenne ich nicht" in unknown.body
