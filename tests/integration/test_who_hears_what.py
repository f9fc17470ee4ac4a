"""Who hears what, on the real homeserver, in a city's room layout: a coordination room, a
department's team room, a Z2 room and the citizen dialogue office. The evaluation asks the
Z2 participants only; a reminder reaches the room that acts on it, once, and the
coordination room its digest; moved dates reach every other room of the theme; the
Bürgerdialog hears its part in its own room or, until it has one, in the coordination
room; a meeting is not marked done before it took place without a second word."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import sqlalchemy as sa

from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import CITY_DAY, City, RunningBot
from tests.integration.test_evaluation import POLLS, people
from tests.integration.test_reminders import reminders_in, wait_for_reminders

pytestmark = pytest.mark.integration

# The city's day (Wednesday 10.03.2027): a working day, after the send time.
TODAY = CITY_DAY
DAY = f"{TODAY:%d.%m.%Y}"


def _rows(bot: RunningBot, query: str) -> list[tuple]:
    engine = sa.create_engine(bot.config.database_url)
    with engine.connect() as connection:
        found = [tuple(row) for row in connection.execute(sa.text(query))]
    engine.dispose()
    return found


def sent_rooms(bot: RunningBot, step: str, kind: str | None = None) -> set[str]:
    """The rooms the sent-log holds for a step, sent or on the way (every delivery of a
    tick is recorded before any is sent, so this is the whole answer once one arrived)."""
    rows = _rows(bot, "SELECT room_id, step_key, kind FROM reminder_log")
    return {room for room, key, found in rows if key == step and kind in (None, found)}


def notice_rooms(bot: RunningBot) -> list[str]:
    """The rooms commands sent notices to (recorded in the outbox with their replies)."""
    query = "SELECT room_id FROM handled_event WHERE event_id LIKE '%/notice/%' ORDER BY id"
    return [room for (room,) in _rows(bot, query)]


def first_lines(user: ScriptedUser, room: str, sender: str) -> list[str]:
    return [r.body.splitlines()[0] for r in user.messages_in(room, sender) if r.body]


async def test_a_reminder_reaches_the_room_that_acts_and_the_coordination_its_digest(
    city: City, coordinator: ScriptedUser
) -> None:
    bot, koordination = city.bot, city.koordination
    team = await city.room("Amt für Digitales")
    name = await city.theme("Digitale Ethik", "KW 15/2030", team)
    # Step 3 (Fachbereich with Koordination) due today.
    await coordinator.ask(team, f"!zt termin {name} 3 {DAY} trotzdem")
    [reminder] = await wait_for_reminders(coordinator, team, bot.user_id, 1)
    assert reminder.body.startswith(f"📌 Heute fällig: Schritt 3 „Aufbereitung für Z2“ von {name}")
    # The coordination room gets this week's digest, with the command to mark it …
    await coordinator.wait_until(
        lambda: any(r.body.startswith("Wochenübersicht") for r in reminders_in(
            coordinator, koordination, bot.user_id))
    )  # fmt: skip
    digest = next(
        r.body for r in reminders_in(coordinator, koordination, bot.user_id)
        if r.body.startswith("Wochenübersicht")
    )  # fmt: skip
    assert digest.startswith("Wochenübersicht KW 10/2027 (08.03.2027–14.03.2027):")
    assert "📌 diese Woche: Schritt 3 „Aufbereitung für Z2“ am Mittwoch, 10.03.2027 → " in digest
    assert f"!zt erledigt {name} 3" in digest
    # … and no copy of the team room's reminder.
    assert sent_rooms(bot, "3") == {team}
    # What the Koordination alone leads (the council's decision) comes to it directly.
    await coordinator.ask(team, f"!zt termin {name} 6 {DAY} trotzdem")
    await coordinator.wait_until(
        lambda: any("Schritt 6 „Ratsentscheidung“" in line
                    for line in first_lines(coordinator, koordination, bot.user_id))
    )  # fmt: skip
    assert sent_rooms(bot, "6") == {koordination}
    assert not [r for r in reminders_in(coordinator, team, bot.user_id) if "Schritt 6" in r.body]
    # Status says where the Koordination hears the Fachbereich's steps.
    status = await coordinator.ask(koordination, f"!zt status {name}")
    assert "Koordinationsraum: die Wochenübersicht am Montag zeigt alle Schritte" in status.body


async def test_moved_dates_reach_every_other_room_and_meetings_ahead_are_asked_first(
    city: City, coordinator: ScriptedUser, member: ScriptedUser
) -> None:
    bot, koordination = city.bot, city.koordination
    team = await city.room("Amt", member)
    z2_room = await city.room("Z2 Digitale Ethik")
    name = await city.theme("Digitale Ethik", "KW 15/2027", team)  # Z2 12.04.2027
    await coordinator.ask(z2_room, f"!zt raum {name} z2")

    moved = await coordinator.ask(koordination, f"!zt verschieben {name} 19.04.2027")
    assert f"Z2 von „{name}“ verschoben: 12.04.2027" in moved.body  # the answer, as before
    for room in (team, z2_room):
        await coordinator.wait_until(
            lambda room=room: any(line.startswith("📆 Neue Termine")
                                  for line in first_lines(coordinator, room, bot.user_id))
        )  # fmt: skip
    [told] = [r for r in coordinator.messages_in(team, bot.user_id) if "📆" in r.body]
    assert told.body.startswith(
        f"📆 Neue Termine für „{name}“: Z2 wurde verschoben (von {coordinator.user_id})."
    )
    assert "• Z2: 12.04.2027 → 19.04.2027 (KW 16/2027)" in told.body
    assert "• Schritt 3 „Aufbereitung für Z2“: 22.03.2027 → 29.03.2027 (KW 13)" in told.body
    assert f"Alle Termine: !zt status {name}" in told.body
    assert sorted(notice_rooms(bot)) == sorted([team, z2_room])  # not where it was typed

    # A department member pins a step in the team room: the coordination room hears it.
    await member.ask(team, f"!zt termin {name} 5 07.05.2027")
    await coordinator.wait_until(
        lambda: any(line.startswith("📆 Neue Termine")
                    for line in first_lines(coordinator, koordination, bot.user_id))
    )  # fmt: skip
    assert sorted(notice_rooms(bot)) == sorted([team, z2_room, koordination, z2_room])

    # Z2 is a meeting: marked before it took place, the bot asks first. Z1/Z2 name steps.
    early = await member.ask(team, f"!zt erledigt {name} Z2")
    assert early.body == (
        f"Schritt 4 „Z2 Strategie-Tisch“ von „{name}“ ist ein Termin am 19.04.2027 und hat "
        f"noch nicht stattgefunden. Nichts wurde geändert. Ist er wirklich schon erledigt: "
        f"!zt erledigt {name} Z2 trotzdem"
    )
    status = await member.ask(team, f"!zt status {name}")
    assert "erledigt" not in next(line for line in status.body.splitlines() if " 4 " in line[:5])
    done = await member.ask(team, f"!zt erledigt {name} Z2 trotzdem")
    assert "erledigt" in done.body and "trotzdem" not in done.body
    # A deadline may be done early, no questions asked.
    early_paper = await member.ask(team, f"!zt erledigt {name} 5 Entwurf liegt vor")
    assert "Schritt 5" in early_paper.body and "noch nicht stattgefunden" not in early_paper.body


async def test_the_citizen_dialogue_hears_its_part_where_it_is_never_in_the_team_room(
    city: City, coordinator: ScriptedUser
) -> None:
    bot, koordination = city.bot, city.koordination
    team = await city.room("Amt für Umwelt")
    name = await city.theme("Regenwasser", "KW 20/2027", team)
    # The participation opens in a week: the Bürgerdialog is told ahead, today.
    start = TODAY + timedelta(days=7)
    await coordinator.ask(team, f"!zt termin {name} beteiligung {start:%d.%m.%Y}")
    await coordinator.wait_until(
        lambda: any(line.startswith("🗳️ Bald")
                    for line in first_lines(coordinator, koordination, bot.user_id))
    )  # fmt: skip
    ahead = next(
        r.body for r in reminders_in(coordinator, koordination, bot.user_id)
        if r.body.startswith("🗳️ Bald")
    )  # fmt: skip
    assert f"startet am Mittwoch, {start:%d.%m.%Y}" in ahead
    assert "Diese Nachricht gilt dem Bürgerdialog, der noch keinen eigenen Raum hat." in ahead
    assert f"!zt raum {name} buergerdialog" in ahead
    assert sent_rooms(bot, "2", "participation_advance") == {koordination}
    status = await coordinator.ask(team, f"!zt status {name}")
    assert "Bürgerdialog: noch kein eigener Raum" in status.body

    # Its own room: from now on its notices go there, the date changes of its part too.
    citizens = await city.room("Bürgerdialog")
    bound = await coordinator.ask(citizens, f"!zt raum {name} buergerdialog")
    assert "Bürgerdialog" in bound.body
    await coordinator.ask(team, f"!zt termin {name} beteiligung {DAY}")
    await coordinator.wait_until(
        lambda: any("startet heute" in line
                    for line in first_lines(coordinator, citizens, bot.user_id))
    )  # fmt: skip
    assert sent_rooms(bot, "2", "participation_open") == {citizens}
    assert not [r for r in reminders_in(coordinator, team, bot.user_id) if "🗳️" in r.body]
    await coordinator.wait_until(
        lambda: any(line.startswith("📆 Neue Termine")
                    for line in first_lines(coordinator, citizens, bot.user_id))
    )  # fmt: skip
    status = await coordinator.ask(team, f"!zt status {name}")
    assert "Bürgerdialog: die Hinweise zur digitalen Beteiligung" in status.body


async def test_the_evaluation_asks_the_z2_participants_and_only_them(
    city: City, synapse: LocalSynapse, coordinator: ScriptedUser, member: ScriptedUser
) -> None:
    bot, koordination = city.bot, city.koordination
    olga, paul, rita = await people(synapse, "olga-z2", "paul-z2", "rita-rat")
    team = await city.room("Amt", member)
    z2_room = await coordinator.create_room(
        [bot.user_id, olga.user_id, paul.user_id], name="Z2 Strategie-Tisch"
    )
    for user in (bot.user_id, olga.user_id, paul.user_id):
        await coordinator.wait_for_member(z2_room, user)

    # Z2 still ahead: nobody to ask yet, then refused with its date, unless insisted on.
    later = await city.theme("Mobilität", "KW 15/2027", team)
    nobody = await coordinator.ask(koordination, f"!zt umfrage {later}")
    assert nobody.body.startswith(f"Für „{later}“ ist niemand da, den die Evaluation fragen kann")
    assert "nicht den Fachbereich" in nobody.body
    await coordinator.ask(z2_room, f"!zt raum {later} z2")
    early = await coordinator.ask(koordination, f"!zt umfrage {later}")
    assert early.body.startswith(
        f"Z2 von „{later}“ ist am 12.04.2027 und hat noch nicht stattgefunden"
    )
    assert early.body.endswith(f"!zt umfrage {later} trotzdem")

    # Z2 today, in the Z2 room: its members are asked in direct chats, the team is not.
    name = await city.theme("Digitale Ethik", DAY, team)
    await coordinator.ask(z2_room, f"!zt raum {name} z2")
    named = await coordinator.ask(koordination, f"!zt teilnehmende {name} {rita.user_id}")
    assert f"Als Z2-Teilnehmende von „{name}“ benannt: {rita.user_id}." in named.body
    started = await coordinator.ask(koordination, f"!zt umfrage {name}")
    assert started.body.startswith(
        # The room's members (olga, paul and the coordinator who made it) and rita.
        f"Die Evaluation von „{name}“ startet jetzt: 4 Personen werden im Direktchat gefragt "
        f"(die Mitglieder des Z2-Raums „Z2 Strategie-Tisch“ (https://matrix.to/#/{z2_room}) "
        "und die benannten Teilnehmenden)"
    )
    for person in (olga, paul, rita):
        await person.wait_until(
            lambda person=person: (
                sum(len(person.polls_in(r)) for r in person.client.rooms) >= POLLS
            ),
            timeout=90,
        )
    evaluations = bot.bot.router.services.evaluations
    theme_id = bot.bot.store.theme(name).id

    # The count is stored once every chat has its questions (no event tells of it).
    async with asyncio.timeout(60):
        while [e.status for e in evaluations.for_theme(theme_id)] != ["open"]:  # noqa: ASYNC110
            await asyncio.sleep(0.2)
    (evaluation,) = evaluations.for_theme(theme_id)
    assert evaluation.participants == 4 and evaluation.room_id == z2_room
    # The department's member shares no direct chat with the bot and got no poll.
    assert not any(member.polls_in(room) for room in member.client.rooms)
    for person in (olga, paul, rita):
        await person.close()
