"""Running a theme's process from chat: mark, skip, pin, move, rooms, people, council,
history and housekeeping, each with its refusals, against the real homeserver."""

from __future__ import annotations

import re

import pytest

from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import Accounts, unique

pytestmark = pytest.mark.integration


def line_of(body: str, key: str) -> str:
    return next(line for line in body.splitlines() if re.match(rf"^[▶ ] {re.escape(key)}\s", line))


@pytest.fixture
async def theme(room: str, coordinator: ScriptedUser) -> str:
    name = unique("Digitale Ethik")
    reply = await coordinator.ask(room, f"!zt neu {name} KW 15/2027")
    assert "angelegt" in reply.body
    return name


async def test_done_reopen_and_who_may_mark(
    room: str, theme: str, coordinator: ScriptedUser, member: ScriptedUser, synapse, accounts
) -> None:
    done = await member.ask(room, f"!zt erledigt {theme} 1 Fahrplan steht")
    assert f"Schritt 1 „Vorbereitung“ von {theme} ist erledigt. Notiz: Fahrplan steht" in done.body
    assert "Als Nächstes: 2 Z1 Expertisen-Tisch" in done.body
    again = await member.ask(room, f"!zt erledigt {theme} 1")
    assert "ist schon erledigt" in again.body
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert re.search(
        r"erledigt am \d\d\.\d\d\.\d{4} von @fachbereich:localhost", line_of(status.body, "1")
    )

    # Someone who is in none of the theme's rooms may not mark it, even when told the name.
    outsider = ScriptedUser(synapse.url, accounts.outsider)
    await outsider.start()
    try:
        other = await outsider.create_room([accounts.bot.user_id], name="Fremder Raum")
        await outsider.wait_for_member(other, accounts.bot.user_id)
        refused = await outsider.ask(other, f"!zt offen {theme} 1")
        assert "Das dürfen nur Koordinator*innen und Mitglieder der Räume" in refused.body
    finally:
        await outsider.close()

    reopened = await member.ask(room, f"!zt offen {theme} 1")
    assert "ist wieder offen" in reopened.body
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert "erledigt" not in line_of(status.body, "1")


async def test_skip_rules(
    room: str, theme: str, member: ScriptedUser, coordinator: ScriptedUser
) -> None:
    optional = await member.ask(room, f"!zt überspringen {theme} 3a")
    assert "übersprungen" in optional.body
    refused = await member.ask(room, f"!zt überspringen {theme} 3 kein Bedarf")
    assert "Das dürfen nur Koordinator*innen" in refused.body
    no_reason = await coordinator.ask(room, f"!zt überspringen {theme} 3")
    assert "bitte einen Grund angeben" in no_reason.body
    skipped = await coordinator.ask(room, f"!zt skip {theme} 3 Material liegt schon vor")
    assert "(Grund: Material liegt schon vor)" in skipped.body
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert "übersprungen" in line_of(status.body, "3") and "übersprungen" in line_of(
        status.body, "3a"
    )


async def test_unknown_step_and_missing_step(
    room: str, theme: str, coordinator: ScriptedUser
) -> None:
    unknown = await coordinator.ask(room, f"!zt erledigt {theme} 9")
    assert "Einen Schritt „9“ gibt es nicht. Schritte: 1, 2, 3, 3a, 4, 5, 6, 7." in unknown.body
    missing = await coordinator.ask(room, f"!zt erledigt {theme}")
    assert "Welcher Schritt?" in missing.body
    by_name = await coordinator.ask(room, f"!zt erledigt {theme} Beschlussvorlage")
    assert "Schritt 5 „Beschlussvorlage“" in by_name.body


async def test_move_keeps_done_and_pinned_steps(
    room: str, theme: str, coordinator: ScriptedUser
) -> None:
    await coordinator.ask(room, f"!zt erledigt {theme} 1")
    pinned = await coordinator.ask(room, f"!zt termin {theme} 6 20.05.2027")
    assert "liegt jetzt fest auf 20.05.2027 (KW 20/2027), bisher 10.05.2027" in pinned.body
    assert "Folgt mit: Schritt 7 am 27.05.2027 (KW 21)" in pinned.body
    bad = await coordinator.ask(room, f"!zt termin {theme} 6 30.02.2027")
    assert "Das Datum 30.02.2027 gibt es nicht" in bad.body

    moved = await coordinator.ask(room, f"!zt verschieben {theme} KW 17/2027")
    # Step 7 follows too: five weeks after Z2 is later than a week after the pinned step 6.
    assert "12.04.2027 (KW 15/2027) → 26.04.2027 (KW 17/2027). 6 Schritte folgen" in moved.body
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert "01.02.2027" in line_of(status.body, "1")  # done: keeps its date
    assert "KW 17  26.04.2027" in line_of(status.body, "4")
    assert "20.05.2027" in line_of(status.body, "6") and "fest" in line_of(status.body, "6")
    assert "31.05.2027" in line_of(status.body, "7")


async def test_move_is_for_coordinators(room: str, theme: str, member: ScriptedUser) -> None:
    refused = await member.ask(room, f"!zt verschieben {theme} KW 20/2027")
    assert "Das dürfen nur Koordinator*innen" in refused.body


async def test_idea_gets_its_z2_later(room: str, coordinator: ScriptedUser) -> None:
    name = unique("Regenwasserbewirtschaftung")
    idea = await coordinator.ask(room, f"!zt neu {name} Q4/2027")
    assert "Idee, geplant Q4/2027" in idea.body
    no_steps = await coordinator.ask(room, f"!zt erledigt {name} 1")
    assert "noch eine Idee ohne Z2-Termin" in no_steps.body
    requartered = await coordinator.ask(room, f"!zt verschieben {name} Q1/2028")
    assert "jetzt für Q1/2028 geplant" in requartered.body
    scheduled = await coordinator.ask(room, f"!zt verschieben {name} 13.03.2028")
    assert "hat jetzt einen Z2-Termin: 13.03.2028 (KW 11/2028). 8 Schritte" in scheduled.body
    status = await coordinator.ask(room, f"!zt status {name}")
    assert "KW 11  13.03.2028" in line_of(status.body, "4")


async def test_rooms_and_reminder_targets(
    room: str, theme: str, coordinator: ScriptedUser, member: ScriptedUser, accounts: Accounts
) -> None:
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert "→ Teamraum" in line_of(status.body, "1")
    dialogue = await coordinator.create_room([accounts.bot.user_id], name="Bürgerdialog")
    await coordinator.wait_for_member(dialogue, accounts.bot.user_id)
    bound = await coordinator.ask(dialogue, f"!zt raum {theme} buergerdialog")
    assert f"Dieser Raum ist jetzt Bürgerdialog-Raum von „{theme}“" in bound.body
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert "→ Teamraum, Bürgerdialog" in line_of(status.body, "2")
    refused = await member.ask(room, f"!zt raum {theme} z2")
    assert "Das dürfen nur Koordinator*innen" in refused.body
    removed = await coordinator.ask(dialogue, f"!zt raum {theme} entfernen")
    assert "nicht mehr an" in removed.body
    not_bound = await coordinator.ask(dialogue, f"!zt raum {theme} entfernen")
    assert "nicht an" in not_bound.body


async def test_responsible_people(
    room: str, theme: str, member: ScriptedUser, coordinator: ScriptedUser
) -> None:
    set_people = await member.ask(
        room, f"!zt zuständig {theme} 3 @anna:example.org @ben:example.org"
    )
    assert "@anna:example.org, @ben:example.org" in set_people.body
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert "zuständig: @anna:example.org, @ben:example.org" in line_of(status.body, "3")
    missing = await member.ask(room, f"!zt zuständig {theme} 3")
    assert "Wer ist zuständig?" in missing.body
    cleared = await member.ask(room, f"!zt zuständig {theme} 3 niemand")
    assert "ist niemand mehr eingetragen" in cleared.body


async def test_council_meetings_move_step_6(
    bot_factory, coordinator: ScriptedUser, member: ScriptedUser, accounts
) -> None:
    bot = await bot_factory(extra="[council]\nmeetings = [2027-07-01]")
    room_id = await coordinator.create_room([bot.user_id, accounts.member.user_id])
    await coordinator.wait_for_member(room_id, bot.user_id)
    await coordinator.ask(room_id, "!zt neu Digitale Ethik KW 15/2027")
    added = await coordinator.ask(room_id, "!zt ratssitzung 20.05.2027")
    assert "Ratssitzung am 20.05.2027 (KW 20/2027) eingetragen." in added.body
    assert (
        "Digitale Ethik: Schritt 6 jetzt am 20.05.2027 (KW 20), "
        "Schritt 7 jetzt am 27.05.2027 (KW 21)" in added.body
    )
    status = await coordinator.ask(room_id, "!zt status digitale ethik")
    assert "Ratssitzung" in line_of(status.body, "6") and "KW 21  27.05.2027" in line_of(
        status.body, "7"
    )
    listing = await coordinator.ask(room_id, "!zt ratssitzung")
    assert "• 20.05.2027 (KW 20/2027)" in listing.body
    assert "• 01.07.2027 (KW 26/2027), aus der Konfiguration" in listing.body
    duplicate = await coordinator.ask(room_id, "!zt ratssitzung 20.05.2027")
    assert "schon eingetragen" in duplicate.body
    from_config = await coordinator.ask(room_id, "!zt ratssitzung entfernen 01.07.2027")
    assert "steht in der Konfiguration" in from_config.body
    await member.client.join(room_id)
    await coordinator.wait_for_member(room_id, accounts.member.user_id)
    refused = await member.ask(room_id, "!zt ratssitzung 03.06.2027")
    assert "Das dürfen nur Koordinator*innen" in refused.body
    removed = await coordinator.ask(room_id, "!zt ratssitzung entfernen 20.05.2027")
    # Without the May meeting the next one is the configured 1 July.
    assert "Schritt 6 jetzt am 01.07.2027" in removed.body


async def test_history_rename_pause_archive_delete(
    room: str, theme: str, coordinator: ScriptedUser, member: ScriptedUser
) -> None:
    await coordinator.ask(room, f"!zt erledigt {theme} 1 Kick-off war gut")
    renamed_to = unique("Digitale Verantwortung")
    renamed = await coordinator.ask(room, f'!zt umbenennen "{theme}" {renamed_to}')
    assert f"„{theme}“ heißt jetzt „{renamed_to}“." in renamed.body
    assert "kenne ich nicht" in (await coordinator.ask(room, f"!zt status {theme}")).body
    refused = await member.ask(room, f"!zt pausieren {renamed_to}")
    assert "Das dürfen nur Koordinator*innen" in refused.body
    paused = await coordinator.ask(room, f"!zt pausieren {renamed_to}")
    assert "ist pausiert" in paused.body
    assert "läuft nicht" in (await coordinator.ask(room, f"!zt pausieren {renamed_to}")).body
    assert "läuft wieder" in (await coordinator.ask(room, f"!zt fortsetzen {renamed_to}")).body
    archived = await coordinator.ask(room, f"!zt archivieren {renamed_to}")
    assert "ist archiviert" in archived.body
    overview = await coordinator.ask(room, "!zt status")
    assert renamed_to not in overview.body
    history = await coordinator.ask(room, f"!zt verlauf {renamed_to}")
    lines = [line for line in history.body.splitlines() if line.startswith("•")]
    assert [line.split(": ", 1)[1] for line in lines] == [
        "archiviert",
        "fortgesetzt",
        "pausiert",
        f"umbenannt in „{renamed_to}“",
        "Schritt 1 erledigt: Kick-off war gut",
        "angelegt mit Z2 12.04.2027",
    ]
    assert all("@koordination:localhost" in line for line in lines)
    ask = await coordinator.ask(room, f"!zt löschen {renamed_to}")
    assert "Wirklich" in ask.body and "bestätigen" in ask.body
    assert "Verlauf von" in (await coordinator.ask(room, f"!zt verlauf {renamed_to}")).body
    deleted = await coordinator.ask(room, f"!zt löschen {renamed_to} bestätigen")
    assert "ist gelöscht" in deleted.body
    assert "kenne ich nicht" in (await coordinator.ask(room, f"!zt verlauf {renamed_to}")).body


async def test_calendar_file_is_uploaded_and_parses(
    room: str, theme: str, coordinator: ScriptedUser, accounts: Accounts
) -> None:
    from icalendar import Calendar

    reply = await coordinator.ask(room, f"!zt kalender {theme}")
    assert "8 Schritte als ganztägige Termine" in reply.body
    await coordinator.wait_until(
        lambda: any(
            r.content["content"].get("msgtype") == "m.file"
            for r in coordinator.messages_in(room, accounts.bot.user_id)
        )
    )
    file_event = next(
        r
        for r in coordinator.messages_in(room, accounts.bot.user_id)
        if r.content["content"].get("msgtype") == "m.file"
    )
    content = file_event.content["content"]
    assert content["info"]["mimetype"] == "text/calendar"
    assert content["filename"].endswith(".ics")
    calendar = Calendar.from_ical(await coordinator.download(content["url"]))
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 9  # 8 steps and the digital participation window
    [window] = [e for e in events if "Digitale Beteiligung" in str(e["SUMMARY"])]
    assert (window.decoded("DTEND") - window.decoded("DTSTART")).days == 29  # 4 weeks
    steps = [e for e in events if e is not window]
    assert {str(e["SUMMARY"]).split(": ", 1)[1].split()[0] for e in steps} == {
        "1", "2", "3", "3a", "4", "5", "6", "7"
    }  # fmt: skip
    missing = await coordinator.ask(room, "!zt kalender")
    assert "Da fehlt noch etwas" in missing.body
