"""Issue 12, points 1–3 on the real homeserver: a theme registered while it runs is not
flooded with catch-up reminders, step 7 starts after the council and is told to the
Koordination and the team, and the digital participation window is a line of its own in
`status`, movable with `termin … beteiligung`, with its own reminders."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import clock_on, settled, team_room, unique, with_coordination_room
from tests.integration.test_reminders import reminders_in, wait_for_reminders

pytestmark = pytest.mark.integration

# Wednesday 17.03.2027, 10:00 in Berlin: after the send time (09:00), a working day.
TODAY = date(2027, 3, 17)
NO_DIGEST = "[reminders]\ndigest = false"


def window_line(body: str) -> str:
    return next(line for line in body.splitlines() if "Digitale Beteiligung" in line)


async def test_a_running_theme_gets_no_catch_up_flood_and_is_told_what_lies_past(
    bot_factory, coordinator: ScriptedUser
) -> None:
    bot = await bot_factory(extra=NO_DIGEST, clock=clock_on(TODAY))
    room_id = await team_room(bot, coordinator, "Fachbereich Flut")
    # Z2 in two weeks: steps 1, 2 and 3 lie in the past, step 3a (Fraktionssitzungen)
    # and the end of the digital participation fall on today.
    created = await coordinator.ask(room_id, "!zt neu Flut 31.03.2027")
    assert "Thema „Flut“ angelegt" in created.body
    assert "3 Schritte liegen schon in der Vergangenheit" in created.body
    assert "  • 1 Vorbereitung (20.01.2027, KW 3)" in created.body
    assert "  • 2 Z1 Expertisen-Tisch (03.03.2027, KW 9)" in created.body
    assert "  • 3 Aufbereitung für Z2 (10.03.2027, KW 10)" in created.body
    assert "3a Fraktionssitzungen" not in created.body  # today: not past
    assert "!zt erledigt Flut 1 2 3" in created.body

    # What is due today is told, once each, and nothing from before the theme existed
    # (not Z2's invitation four weeks ahead, which fell before it): two weeks before Z2,
    # the material goes to the participants today (issue 21).
    await wait_for_reminders(coordinator, room_id, bot.user_id, 3)
    await settled(bot, coordinator, room_id)  # and nothing more
    found = reminders_in(coordinator, room_id, bot.user_id)
    bodies = [r.body for r in found]
    assert len(bodies) == 3, bodies
    assert any("Heute: Schritt 3a „Fraktionssitzungen (optional)“ von Flut" in b for b in bodies)
    assert any("Die digitale Beteiligung zu Flut endet heute" in b for b in bodies)
    assert any(
        b.startswith("📨 Schritt 3 „Aufbereitung für Z2“ von Flut: Unterlagen an die Teilnehmenden")
        for b in bodies
    )
    assert not any("nachgeholt" in b or "Überfällig" in b for b in bodies)
    assert not any(re.search(r"Schritt [12] ", b) for b in bodies)
    assert not any("Bald" in b for b in bodies)

    # Several steps marked at once, as the answer said.
    done = await coordinator.ask(room_id, "!zt erledigt Flut 1 2 3 Unterlagen liegen vor")
    assert "✅ Erledigt in Flut: Schritt 1 „Vorbereitung“, Schritt 2" in done.body
    assert "Schritt 3 „Aufbereitung für Z2“. Notiz: Unterlagen liegen vor" in done.body
    again = await coordinator.ask(room_id, "!zt erledigt Flut 3 3a")
    assert "Schritt 3a „Fraktionssitzungen (optional)“ von Flut ist erledigt" in again.body
    assert "Schon vorher erledigt: 3." in again.body
    refused = await coordinator.ask(room_id, "!zt erledigt Flut 1 2")
    assert "Schritt 1 von „Flut“ ist schon erledigt." in refused.body


async def test_an_idea_that_gets_its_z2_late_is_not_flooded_either(
    bot_factory, coordinator: ScriptedUser
) -> None:
    bot = await bot_factory(extra=NO_DIGEST, clock=clock_on(TODAY))
    room_id = await team_room(bot, coordinator, "Fachbereich Dürre")
    idea = await coordinator.ask(room_id, "!zt neu Dürre Q1/2027")
    assert "Idee" in idea.body
    scheduled = await coordinator.ask(room_id, "!zt verschieben Dürre 31.03.2027")
    assert "hat jetzt einen Z2-Termin: 31.03.2027" in scheduled.body
    assert "3 Schritte liegen schon in der Vergangenheit" in scheduled.body
    assert "!zt erledigt Dürre 1 2 3" in scheduled.body
    await wait_for_reminders(coordinator, room_id, bot.user_id, 3)
    await settled(bot, coordinator, room_id)  # and nothing more
    bodies = [r.body for r in reminders_in(coordinator, room_id, bot.user_id)]
    assert len(bodies) == 3, bodies  # 3a and the participation today, the material
    assert not any("nachgeholt" in b or "Überfällig" in b or "Bald" in b for b in bodies)


async def test_step_7_starts_after_the_council_in_the_team_room(
    bot_factory, coordinator: ScriptedUser, tmp_path: Path
) -> None:
    bot, koordination = await with_coordination_room(
        bot_factory, coordinator, tmp_path / "step7", TODAY, NO_DIGEST
    )
    room_id = await team_room(bot, coordinator, "Fachbereich Hitze")
    # Z2 five weeks ago: step 6 was a week ago, step 7 starts today.
    created = await coordinator.ask(room_id, "!zt neu Hitze 10.02.2027")
    assert "7 Schritte liegen schon in der Vergangenheit" in created.body
    assert "!zt erledigt Hitze 1 2 3 3a 4 5 6" in created.body

    # Led by the Koordination with the Fachbereich: the team room hears it; the
    # coordination room would see it in its digest (switched off here), not as a copy.
    [start] = await wait_for_reminders(coordinator, room_id, bot.user_id, 1)
    assert "🔄 Ab heute fortlaufend: Schritt 7 „Evaluation & KVP“ von Hitze" in start.body
    assert "Federführung: Koordination, Fachbereich" in start.body
    assert "☐ Umsetzung initiieren" in start.body
    await settled(bot, coordinator, koordination, room_id)  # and nothing more
    assert len(reminders_in(coordinator, koordination, bot.user_id)) == 0
    assert len(reminders_in(coordinator, room_id, bot.user_id)) == 1

    status = await coordinator.ask(room_id, "!zt status Hitze")
    seven = next(line for line in status.body.splitlines() if line[2:].startswith("7 "))
    assert "KW 11  17.03.2027" in seven

    early = await coordinator.ask(room_id, "!zt erledigt Hitze 7")
    assert "erst wenn Schritt 6 „Ratsentscheidung“ erledigt ist" in early.body
    assert "!zt erledigt Hitze 6 7" in early.body
    both = await coordinator.ask(room_id, "!zt erledigt Hitze 6 7")
    assert "Schritt 6 „Ratsentscheidung“, Schritt 7 „Evaluation & KVP“" in both.body


async def test_the_participation_window_in_status_and_moved_by_hand(
    room: str, coordinator: ScriptedUser, shared_bot
) -> None:
    today = shared_bot.bot.clock.now().date()
    name = unique("Beteiligung")
    z2 = today + timedelta(weeks=10)
    await coordinator.ask(room, f"!zt neu {name} {z2:%d.%m.%Y}")
    opens, closes = z2 - timedelta(weeks=6), z2 - timedelta(weeks=2)
    status = await coordinator.ask(room, f"!zt status {name}")
    line = window_line(status.body)
    lines = status.body.splitlines()
    assert (
        lines.index(line) == lines.index(next(x for x in lines if x[2:].startswith("2 "))) + 1
    )  # right under step 2
    assert f"{opens:%d.%m.%Y}–{closes:%d.%m.%Y}  geplant" in line
    assert f"KW {opens.isocalendar().week}–KW {closes.isocalendar().week}" in line
    assert "Bürgerdialog → Teamraum" in line

    # Moved: from a start only (the process's four weeks), then with an end.
    start = opens + timedelta(days=7)
    moved = await coordinator.ask(room, f"!zt termin {name} beteiligung {start:%d.%m.%Y}")
    end = start + timedelta(weeks=4)
    fixed = f"Digitale Beteiligung zu {name} liegt jetzt fest: {start:%d.%m.%Y} bis {end:%d.%m.%Y}"
    assert fixed in moved.body
    assert f"bisher {opens:%d.%m.%Y} bis {closes:%d.%m.%Y}" in moved.body
    given_end = start + timedelta(days=10)
    moved = await coordinator.ask(
        room, f"!zt termin {name} Beteiligung {start:%d.%m.%Y} bis {given_end:%d.%m.%Y}"
    )
    assert f"{start:%d.%m.%Y} bis {given_end:%d.%m.%Y}" in moved.body
    status = await coordinator.ask(room, f"!zt status {name}")
    assert f"{start:%d.%m.%Y}–{given_end:%d.%m.%Y}  geplant · fest" in window_line(status.body)

    # Moving Z2 leaves a window moved by hand where it is.
    await coordinator.ask(room, f"!zt verschieben {name} {z2 + timedelta(weeks=3):%d.%m.%Y}")
    status = await coordinator.ask(room, f"!zt status {name}")
    assert f"{start:%d.%m.%Y}–{given_end:%d.%m.%Y}" in window_line(status.body)

    # Every bad input gets a German answer.
    backwards = await coordinator.ask(
        room, f"!zt termin {name} beteiligung {given_end:%d.%m.%Y} {start:%d.%m.%Y}"
    )
    assert "Die Beteiligung muss nach ihrem Start enden" in backwards.body
    missing = await coordinator.ask(room, f"!zt termin {name} beteiligung")
    assert "Da fehlt noch etwas" in missing.body
    impossible = await coordinator.ask(room, f"!zt termin {name} beteiligung 30.02.2027")
    assert "Das Datum 30.02.2027 gibt es nicht" in impossible.body
    idea = unique("Idee")
    await coordinator.ask(room, f"!zt neu {idea} Q4/2030")
    no_z2 = await coordinator.ask(room, f"!zt termin {idea} beteiligung 01.03.2030")
    assert "kennt keine digitale Beteiligung" in no_z2.body


async def test_the_window_follows_z2_and_shows_whether_it_runs(
    room: str, coordinator: ScriptedUser, shared_bot
) -> None:
    today = shared_bot.bot.clock.now().date()
    running = unique("Läuft")
    z2 = today + timedelta(weeks=3)  # window from three weeks ago to next week
    await coordinator.ask(room, f"!zt neu {running} {z2:%d.%m.%Y}")
    status = await coordinator.ask(room, f"!zt status {running}")
    assert "  läuft" in window_line(status.body)
    later = z2 + timedelta(weeks=10)
    await coordinator.ask(room, f"!zt verschieben {running} {later:%d.%m.%Y}")
    status = await coordinator.ask(room, f"!zt status {running}")
    opens, closes = later - timedelta(weeks=6), later - timedelta(weeks=2)
    assert f"{opens:%d.%m.%Y}–{closes:%d.%m.%Y}  geplant" in window_line(status.body)
    assert "fest" not in window_line(status.body)

    # Once its step is done, the window stays where it ran when Z2 moves.
    held = unique("Gehalten")
    await coordinator.ask(room, f"!zt neu {held} {z2:%d.%m.%Y}")
    await coordinator.ask(room, f"!zt erledigt {held} 2")
    await coordinator.ask(room, f"!zt verschieben {held} {later:%d.%m.%Y}")
    status = await coordinator.ask(room, f"!zt status {held}")
    first, last = z2 - timedelta(weeks=6), z2 - timedelta(weeks=2)
    assert f"{first:%d.%m.%Y}–{last:%d.%m.%Y}  läuft · fest" in window_line(status.body)

    ended = unique("Vorbei")
    await coordinator.ask(room, f"!zt neu {ended} {today + timedelta(weeks=1):%d.%m.%Y}")
    status = await coordinator.ask(room, f"!zt status {ended}")
    assert "  beendet" in window_line(status.body)


async def test_a_moved_window_is_reminded_at_its_start_with_its_end(
    bot_factory, coordinator: ScriptedUser
) -> None:
    bot = await bot_factory(extra=f'{NO_DIGEST}\nsend_time = "00:00"')
    room_id = await team_room(bot, coordinator, "Fachbereich Wald")
    today = bot.bot.clock.now().date()
    await coordinator.ask(room_id, "!zt neu Wald KW 20/2030")
    end = today + timedelta(days=14)
    await coordinator.ask(room_id, f"!zt termin Wald beteiligung {today:%d.%m.%Y} {end:%d.%m.%Y}")
    [opened] = await wait_for_reminders(coordinator, room_id, bot.user_id, 1)
    assert "Die digitale Beteiligung zu Wald startet heute" in opened.body
    assert f"läuft bis {end:%d.%m.%Y}" in opened.body
    listing = await coordinator.ask(room_id, "!zt erinnerungen Wald")
    assert "Beteiligung endet, Wald Schritt 2" in listing.body
