"""Real teams and consistent dates on the real homeserver (issue 12, points 4 and 5):
several team rooms hear the Fachbereich, the Kernteam is mentioned, `termin … 4` moves
Z2, a pin out of order is refused until confirmed, two-digit years are asked again."""

from __future__ import annotations

import re

import pytest

from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import settled, unique
from tests.integration.test_reminders import AT_MIDNIGHT, reminders_in, wait_for_reminders

pytestmark = pytest.mark.integration


def line_of(body: str, key: str) -> str:
    return next(line for line in body.splitlines() if re.match(rf"^[▶ ] {re.escape(key)}\s", line))


async def test_second_team_room_hears_the_fachbereich_and_the_kernteam_is_mentioned(
    bot_factory, coordinator: ScriptedUser, member: ScriptedUser, accounts
) -> None:
    bot = await bot_factory(extra=AT_MIDNIGHT)
    first = await coordinator.create_room([bot.user_id], name="Amt für Verkehr")
    second = await coordinator.create_room([bot.user_id], name="Umweltamt")
    for room_id in (first, second):
        await coordinator.wait_for_member(room_id, bot.user_id)
    today = bot.bot.clock.now().date()
    await coordinator.ask(first, "!zt neu Mobilität KW 20/2030")
    added = await coordinator.ask(second, "!zt raum Mobilität team")
    assert "Dieser Raum ist jetzt Teamraum von „Mobilität“ (neben 1 weiterem)" in added.body
    assert "statt des bisherigen" not in added.body

    department = await coordinator.ask(first, "!zt fachbereich Mobilität Amt <b>für</b> Verkehr")
    assert "vom Fachbereich „Amt <b>für</b> Verkehr“ geleitet" in department.body
    assert "<b>für</b>" not in department.content["content"]["formatted_body"]
    bad = await coordinator.ask(first, "!zt kernteam Mobilität @anna")
    assert "„@anna“ ist keine Matrix-ID" in bad.body
    kernteam = await coordinator.ask(
        first, f"!zt kernteam Mobilität {accounts.member.user_id} @ben:localhost"
    )
    assert f"Kernteam von „Mobilität“: {accounts.member.user_id}, @ben:localhost" in kernteam.body
    removed = await coordinator.ask(first, "!zt kernteam Mobilität entfernen @ben:localhost")
    assert "Aus dem Kernteam von „Mobilität“ entfernt: @ben:localhost" in removed.body
    await coordinator.ask(first, "!zt kontakt Mobilität Anna Beispiel, Tel. 0123 456-78")
    status = await coordinator.ask(first, "!zt status Mobilität")
    assert (
        f"Fachbereich: Amt <b>für</b> Verkehr · Kernteam: {accounts.member.user_id}"
        " · Kontakt: Anna Beispiel, Tel. 0123 456-78 · 2 Teamräume" in status.body
    )
    assert "Amt &lt;b&gt;für&lt;/b&gt; Verkehr" in status.content["content"]["formatted_body"]
    themes = await coordinator.ask(first, "!zt themen")
    assert "• Mobilität (Amt <b>für</b> Verkehr): Z2 KW 20/2030" in themes.body

    # Step 3 (Fachbereich & Koordination) due today: the reminder reaches both team rooms
    # and mentions the Kernteam there, as a mention clients notify.
    await coordinator.ask(first, f"!zt termin Mobilität 3 {today:%d.%m.%Y} trotzdem")
    for room_id in (first, second):
        [reminder] = await wait_for_reminders(coordinator, room_id, bot.user_id, 1)
        assert "Schritt 3 „Aufbereitung für Z2“" in reminder.body
        assert f"Kernteam: {accounts.member.user_id}" in reminder.body
        content = reminder.content["content"]
        assert content["m.mentions"] == {"user_ids": [accounts.member.user_id]}
        assert f"https://matrix.to/#/{accounts.member.user_id}" in content["formatted_body"]

    # Removing the first room keeps the second: the next reminder goes there only.
    unbound = await coordinator.ask(first, "!zt raum Mobilität entfernen")
    assert "nicht mehr an „Mobilität“ gebunden. Der andere Teamraum bleibt." in unbound.body
    await coordinator.ask(second, f"!zt termin Mobilität 5 {today:%d.%m.%Y} trotzdem")
    found = await wait_for_reminders(coordinator, second, bot.user_id, 2)
    assert "Schritt 5 „Beschlussvorlage“" in found[1].body
    await settled(bot, coordinator, first)  # none in the first room
    assert len(reminders_in(coordinator, first, bot.user_id)) == 1
    status = await coordinator.ask(second, "!zt status Mobilität")
    assert "Teamräume" not in status.body  # one left
    assert "Teamraum" in line_of(status.body, "5")


@pytest.fixture
async def theme(room: str, coordinator: ScriptedUser) -> str:
    name = unique("Digitale Ethik")
    reply = await coordinator.ask(room, f"!zt neu {name} KW 15/2027")  # Z2 12.04.2027
    assert "angelegt" in reply.body
    return name


async def test_termin_on_step_4_moves_z2_like_verschieben(
    room: str, theme: str, coordinator: ScriptedUser, member: ScriptedUser
) -> None:
    refused = await member.ask(room, f"!zt termin {theme} 4 19.04.2027")
    assert "Das dürfen nur Koordinator*innen" in refused.body
    moved = await coordinator.ask(room, f"!zt termin {theme} 4 19.04.2027")
    assert f"Z2 von „{theme}“ verschoben: 12.04.2027 (KW 15/2027) → 19.04.2027" in moved.body
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert "Z2 KW 16/2027 (19.04.2027)" in status.body
    assert "19.04.2027" in line_of(status.body, "4")
    assert "03.05.2027" in line_of(status.body, "5")  # followed: two weeks after Z2
    assert "fest" not in line_of(status.body, "4")  # Z2 moved, not a pin beside it


async def test_a_pin_out_of_order_is_refused_with_the_reason_then_accepted_with_trotzdem(
    room: str, theme: str, coordinator: ScriptedUser, member: ScriptedUser
) -> None:
    # Z1 is on 15.03.2027; step 3 before it breaks the order.
    refused = await member.ask(room, f"!zt termin {theme} 3 08.03.2027")
    assert "Dieser Termin passt nicht zum Ablauf" in refused.body
    assert "Schritt 3 „Aufbereitung für Z2“ am 08.03.2027 läge vor Schritt 2" in refused.body
    assert f"Soll es trotzdem so sein: !zt termin {theme} 3 08.03.2027 trotzdem" in refused.body
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert "22.03.2027" in line_of(status.body, "3")  # unchanged
    # Z1 two weeks before Z2, where the concept asks for four.
    close = await member.ask(room, f"!zt termin {theme} 2 29.03.2027")
    assert "läge nur 14 Tage vor Z2 (12.04.2027); vorgesehen sind mindestens 4 Wochen" in (
        close.body
    )
    accepted = await member.ask(room, f"!zt termin {theme} 3 08.03.2027 trotzdem")
    assert "liegt jetzt fest auf 08.03.2027" in accepted.body
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert "08.03.2027" in line_of(status.body, "3")


async def test_a_two_digit_year_is_asked_for_with_four(
    room: str, theme: str, member: ScriptedUser, coordinator: ScriptedUser
) -> None:
    asked = await member.ask(room, f"!zt termin {theme} 6 15.05.27")
    assert "„15.05.27“: die Jahreszahl bitte vierstellig: 15.05.2027." in asked.body
    status = await coordinator.ask(room, f"!zt status {theme}")
    assert "15.05.2027" not in status.body  # nothing changed


async def test_ratssitzung_on_a_holiday_says_so(bot_factory, coordinator: ScriptedUser) -> None:
    bot = await bot_factory()
    room_id = await coordinator.create_room([bot.user_id], name="Koordination")
    await coordinator.wait_for_member(room_id, bot.user_id)
    await coordinator.ask(room_id, "!zt neu Feiertag 20.11.2028")  # step 6 planned 18.12.2028
    added = await coordinator.ask(room_id, "!zt ratssitzung 25.12.2028")
    assert "Ratssitzung am 25.12.2028 (KW 52/2028) eingetragen." in added.body
    assert "⚠ Der 25.12.2028 ist ein Feiertag (" in added.body
    assert re.search(
        r"Feiertag: Schritt 6 jetzt am 25\.12\.2028 \(KW 52\) ⚠ Feiertag \(", added.body
    )


async def test_what_a_coordinator_reads(
    room: str, theme: str, coordinator: ScriptedUser, member: ScriptedUser
) -> None:
    z2_room = await coordinator.ask(room, f"!zt raum {theme} z2")
    assert "Nach Z2 fragt die Evaluation die Mitglieder dieses Raums" in z2_room.body
    assert "Erinnerungen für die Teilnehmenden" not in z2_room.body
    step_7 = await member.ask(room, "!zt hilfe 7")
    assert "1 Woche nach Schritt 6" in step_7.body
    step_2 = await member.ask(room, "!zt hilfe 2")
    assert "4 Wochen vor Z2" in step_2.body and "Wochen zu Z2" not in step_2.body
    refused = await member.ask(room, f"!zt verschieben {theme} KW 17/2027")
    assert refused.body == (
        "Das dürfen nur Koordinator*innen („!zt verschieben“)."
        " Bitte wenden Sie sich an die Koordinationsstelle."
    )
    paused = await coordinator.ask(room, f"!zt pausieren {theme}")
    assert f"„!zt fortsetzen {theme}“" in paused.body
