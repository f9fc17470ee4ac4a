"""The council's own data on the real homeserver: the bot reads the Musterstadt OParl test
system (served on loopback by the test), step 6 falls on its council meeting, a linked
Beschlussvorlage's decision marks step 6 done and starts step 7, and a broken interface is
told once, also across restarts."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.clock import Clock
from bot.demo.scripted_user import ScriptedUser
from tests.council.conftest import OParlTestServer, Reply
from tests.integration.conftest import RunningBot, settled

pytestmark = pytest.mark.integration

BERLIN = ZoneInfo("Europe/Berlin")
# The test system is a snapshot as of 15 June 2027: the bot's clock runs there.
SNAPSHOT = datetime(2027, 6, 15, 9, 0, tzinfo=BERLIN)
IMPORTED = "Ratssitzungen aus dem Ratsinformationssystem übernommen: 7"
STALE = "⚠️ Die Ratsdaten sind veraltet"
BACK = "✅ Die Ratsdaten sind wieder aktuell"


def snapshot_clock() -> Clock:
    return Clock(BERLIN, SNAPSHOT - datetime.now(UTC))


def line_of(body: str, key: str) -> str:
    return next(line for line in body.splitlines() if line[2:].startswith(f"{key} "))


def said(user: ScriptedUser, room_id: str, bot: RunningBot, text: str) -> list[str]:
    return [r.body for r in user.messages_in(room_id, bot.user_id) if text in r.body]


async def wait_for(
    user: ScriptedUser, room_id: str, bot: RunningBot, text: str, count: int = 1
) -> list[str]:
    await user.wait_until(lambda: len(said(user, room_id, bot, text)) >= count, timeout=60)
    return said(user, room_id, bot, text)


async def council_bot(
    bot_factory, coordinator: ScriptedUser, directory: Path, oparl: OParlTestServer
) -> tuple[RunningBot, str]:
    """A bot with a coordination room and the council information system configured (the
    room is made for the bot's account first, then the bot starts with it configured)."""
    first = await bot_factory(directory=directory, clock=snapshot_clock())
    koordination = await coordinator.create_room([first.user_id], name="Koordination")
    await coordinator.wait_for_member(koordination, first.user_id)
    await first.stop()
    bot = await restart(bot_factory, directory, koordination, oparl)
    return bot, koordination


async def restart(
    bot_factory, directory: Path, koordination: str, oparl: OParlTestServer
) -> RunningBot:
    extra = f'[rooms]\nkoordination = "{koordination}"\n[council]\noparl = "{oparl.entry}"'
    return await bot_factory(extra=extra, directory=directory, clock=snapshot_clock())


async def test_step_6_on_the_council_s_meeting_and_done_by_its_decision(
    bot_factory, coordinator: ScriptedUser, member: ScriptedUser, accounts, tmp_path: Path,
    oparl_server: OParlTestServer,
) -> None:  # fmt: skip
    bot, koordination = await council_bot(bot_factory, coordinator, tmp_path / "rat", oparl_server)
    await wait_for(coordinator, koordination, bot, IMPORTED)
    team = await coordinator.create_room([bot.user_id, accounts.member.user_id], name="Sport")
    await coordinator.wait_for_member(team, bot.user_id)
    await member.client.join(team)
    await coordinator.wait_for_member(team, accounts.member.user_id)

    created = await coordinator.ask(team, "!zt neu Sporthalle 15.03.2027")
    assert "angelegt" in created.body
    status = await coordinator.ask(team, "!zt status Sporthalle")
    # Z2 + 4 weeks is 12.04.2027; the council meets on 15.04.2027 (from OParl).
    assert "KW 15  15.04.2027" in line_of(status.body, "6")
    assert "Ratssitzung" in line_of(status.body, "6")
    assert "KW 16  22.04.2027" in line_of(status.body, "7")
    listing = await member.ask(team, "!zt ratssitzung")
    assert "• 15.04.2027 (KW 15/2027), vorbei, Ratsinformationssystem: 3. Sitzung" in listing.body

    # The steps before the decision are done, as a running theme's would be.
    for step in ("1", "2", "3", "4", "5"):
        await member.ask(team, f"!zt erledigt Sporthalle {step}")
    await member.ask(team, "!zt überspringen Sporthalle 3a")
    refused = await member.ask(team, "!zt vorlage Sporthalle BV/2027/0012")
    assert "Das dürfen nur Koordinator*innen" in refused.body
    linked = await coordinator.ask(koordination, "!zt vorlage Sporthalle BV/2027/0012")
    assert "Stand: Unverändert beschlossen am 15.04.2027" in linked.body
    assert "• ohne Termin: Ausschuss für Stadtentwicklung und Umwelt (Vorberatung)" in linked.body

    for room in (team, koordination):
        [told] = await wait_for(coordinator, room, bot, "🏛️ Entschieden")
        assert "Beschlussvorlage BV/2027/0012" in told
        assert "zu Sporthalle: Unverändert beschlossen am 15.04.2027." in told
        assert "Schritt 6 „Ratsentscheidung“ ist damit erledigt." in told
        assert "Jetzt beginnt Schritt 7 „Evaluation & KVP“ (ab 22.04.2027, KW 16)." in told
    status = await coordinator.ask(team, "!zt status Sporthalle")
    six, seven = line_of(status.body, "6"), line_of(status.body, "7")
    assert "erledigt am 15.04.2027 von Bot" in six
    assert "Unverändert beschlossen am 15.04.2027" in six
    assert seven.startswith("▶ 7") and "22.04.2027  läuft seit 22.04.2027 (fortlaufend)" in seven
    assert f"Vorlage BV/2027/0012: {oparl_server.url('/files/BV-2027-0012.pdf')}" in line_of(
        status.body, "5"
    )
    history = await coordinator.ask(team, "!zt verlauf Sporthalle")
    assert "Schritt 6 erledigt: Unverändert beschlossen am 15.04.2027" in history.body
    assert "mit der Beschlussvorlage BV/2027/0012 verknüpft" in history.body
    # Told once: another read (the next day's, brought forward) tells nothing new.
    assert bot.bot.council is not None
    assert await bot.bot.council.read(bot.bot.clock.now())
    await settled(bot, coordinator, team, koordination)
    assert len(said(coordinator, team, bot, "🏛️ Entschieden")) == 1
    assert len(said(coordinator, koordination, bot, IMPORTED)) == 1


async def test_a_broken_interface_is_told_once_across_restarts(
    bot_factory, coordinator: ScriptedUser, tmp_path: Path, oparl_server: OParlTestServer
) -> None:
    directory = tmp_path / "kaputt"
    bot, koordination = await council_bot(bot_factory, coordinator, directory, oparl_server)
    await wait_for(coordinator, koordination, bot, IMPORTED)
    page = "/oparl/v1/body/1/meetings?page=2"
    oparl_server.override(page, Reply(body="<html>Wartung</html>"))

    await bot.stop()
    bot = await restart(bot_factory, directory, koordination, oparl_server)
    [stale] = await wait_for(coordinator, koordination, bot, STALE)
    assert "ist kein JSON" in stale and "Bis es wieder geht, gilt der Stand vom" in stale
    answered = await coordinator.ask(koordination, "!zt ratssitzung")
    assert "Daten veraltet seit" in answered.body and "• 08.07.2027" in answered.body

    # Restarted while still broken: it reads again, and says nothing new.
    await bot.stop()
    seen = len(oparl_server.seen_at("/oparl/v1/body/1/meetings"))
    bot = await restart(bot_factory, directory, koordination, oparl_server)
    async with asyncio.timeout(60):  # until its read is over (it plans the next one then)
        while bot.bot.council is None or bot.bot.council.next_wakeup(SNAPSHOT) is None:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
    assert len(oparl_server.seen_at("/oparl/v1/body/1/meetings")) > seen
    await settled(bot, coordinator, koordination)
    assert len(said(coordinator, koordination, bot, STALE)) == 1

    oparl_server.restore(page)
    await bot.stop()
    bot = await restart(bot_factory, directory, koordination, oparl_server)
    [back] = await wait_for(coordinator, koordination, bot, BACK)
    assert "nicht lesbar seit 15.06.2027" in back
    await settled(bot, coordinator, koordination)
    assert len(said(coordinator, koordination, bot, BACK)) == 1
    assert len(said(coordinator, koordination, bot, STALE)) == 1
