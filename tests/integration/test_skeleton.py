"""The walking skeleton end to end: invite, hilfe, neu, status, themen, refusals."""

from __future__ import annotations

import asyncio
import logging
import re

import pytest

from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import Accounts, unique

pytestmark = pytest.mark.integration

WORKED_EXAMPLE = [  # the concept's "Zeitplan am Beispiel Smart City", Z2 in KW 15/2027
    ("1", "KW 5", "01.02.2027"),
    ("2", "KW 11", "15.03.2027"),
    ("3", "KW 12", "22.03.2027"),
    ("3a", "KW 13", "29.03.2027"),
    ("4", "KW 15", "12.04.2027"),
    ("5", "KW 17", "26.04.2027"),
    ("6", "KW 19", "10.05.2027"),
    ("7", "KW 20", "17.05.2027"),
]


def assert_is_reply(reply, command_event_id: str | None = None) -> None:
    content = reply.content["content"]
    assert content["msgtype"] == "m.notice"
    assert content["format"] == "org.matrix.custom.html"
    assert content["formatted_body"]
    assert not content["body"].startswith("> <@"), "no quoted reply fallback"
    if command_event_id is not None:
        assert content["m.relates_to"]["m.in_reply_to"]["event_id"] == command_event_id


async def test_bot_joins_on_invite_and_answers_hilfe(
    room: str, coordinator: ScriptedUser, accounts: Accounts
) -> None:
    reply = await coordinator.ask(room, "!zt hilfe")
    assert reply.sender == accounts.bot.user_id
    assert_is_reply(reply)
    for verb in ("hilfe", "status", "themen", "neu"):
        assert f"!zt {verb}" in reply.body
    assert (
        "<code>!zt neu &lt;Thema&gt; &lt;Z2&gt;</code>"
        in reply.content["content"]["formatted_body"]
    )


async def test_help_for_a_step_shows_its_goals(room: str, coordinator: ScriptedUser) -> None:
    reply = await coordinator.ask(room, "!zt hilfe 3")
    assert "Schritt 3: Aufbereitung Information und Ergebnis" in reply.body
    assert "☐ Arbeits- und Beratungsgrundlage für den Zukunftstisch" in reply.body


async def test_neu_then_status_reproduces_the_worked_example(
    bot_factory, coordinator: ScriptedUser, member: ScriptedUser, accounts: Accounts
) -> None:
    bot = await bot_factory()
    room_id = await coordinator.create_room([bot.user_id])
    await coordinator.wait_for_member(room_id, bot.user_id)

    created = await coordinator.ask(room_id, "!zt neu Digitale Ethik KW 15/2027")
    assert "Thema „Digitale Ethik“ angelegt: Z2 KW 15/2027 (12.04.2027)" in created.body

    status = await coordinator.ask(room_id, "!zt status digitale ethik")
    assert_is_reply(status)
    lines = status.body.splitlines()
    for key, week, day in WORKED_EXAMPLE:
        line = next(line for line in lines if re.match(rf"^[▶ ] {re.escape(key)}\s", line))
        assert re.search(rf"\b{week}\s+{day}\b", line), line
    html = status.content["content"]["formatted_body"]
    # Header, one row per step, and the digital participation window under step 2.
    assert html.count("<tr>") == len(WORKED_EXAMPLE) + 2
    assert "<tr><td>↳</td><td>Digitale Beteiligung</td>" in html
    window = next(line for line in lines if "Digitale Beteiligung" in line)
    assert "KW 9–KW 13 01.03.2027–29.03.2027" in window  # 6 to 2 weeks before Z2
    assert "<td>KW 15</td><td>12.04.2027</td>" in html

    # The same theme by prefix, umlaut-folded and quoted; and the overview and list.
    for query in ("!zt status digi", '!zt status "Digitale Ethik"', "!zt status „DIGITALE ETHIK“"):
        again = await coordinator.ask(room_id, query)
        assert "Zukunftstisch „Digitale Ethik“" in again.body, query
    overview = await coordinator.ask(room_id, "!zt status")
    assert (
        "Digitale Ethik: Z2 KW 15/2027 (12.04.2027); als Nächstes 1 Vorbereitung" in overview.body
    )
    listing = await coordinator.ask(room_id, "!zt themen")
    assert "• Digitale Ethik: Z2 KW 15/2027 (12.04.2027)" in listing.body


async def test_neu_is_refused_for_a_non_coordinator(
    room: str, member: ScriptedUser, coordinator: ScriptedUser
) -> None:
    name = unique("Mobilität")
    refused = await member.ask(room, f"!zt neu {name} 15.04.2027")
    assert "Das dürfen nur Koordinator*innen" in refused.body
    unknown = await coordinator.ask(room, f"!zt status {name}")
    assert "kenne ich nicht" in unknown.body  # nothing was created


async def test_unknown_theme_lists_the_closest(room: str, coordinator: ScriptedUser) -> None:
    name = unique("Regenwasserbewirtschaftung")
    await coordinator.ask(room, f"!zt neu {name} KW 20/2027")
    reply = await coordinator.ask(room, f"!zt status {name.replace('wasser', 'waser')}")
    assert "kenne ich nicht" in reply.body
    assert f"Meinten Sie: „{name}“" in reply.body


@pytest.mark.parametrize(
    ("date_text", "expected"),
    [
        ("31.02.2027", "Das Datum 31.02.2027 gibt es nicht"),
        ("KW 54/2027", "Die KW 54/2027 gibt es nicht: 2027 hat 52 Kalenderwochen"),
        ("KW 53/2027", "Die KW 53/2027 gibt es nicht: 2027 hat 52 Kalenderwochen"),
        ("irgendwann", "Am Ende fehlt ein Datum, das ich lesen kann"),
    ],
)
async def test_impossible_dates_are_explained(
    room: str, coordinator: ScriptedUser, date_text: str, expected: str
) -> None:
    name = unique("Klimaanpassung")
    reply = await coordinator.ask(room, f"!zt neu {name} {date_text}")
    assert expected in reply.body
    assert "kenne ich nicht" in (await coordinator.ask(room, f"!zt status {name}")).body


async def test_kw_53_of_2026_exists(room: str, coordinator: ScriptedUser) -> None:
    name = unique("Wärmeplanung")
    reply = await coordinator.ask(room, f"!zt neu {name} KW 53/2026")
    assert "Z2 KW 53/2026 (28.12.2026)" in reply.body


async def test_missing_arguments_unknown_verb_and_duplicates(
    room: str, coordinator: ScriptedUser
) -> None:
    assert "So geht es: !zt neu <Thema> <Z2>" in (await coordinator.ask(room, "!zt neu")).body
    assert "Den Befehl „tanzen“ kenne ich nicht" in (await coordinator.ask(room, "!zt tanzen")).body
    name = unique("Grünflächen")
    await coordinator.ask(room, f"!zt neu {name} 2027-06-01")
    duplicate = await coordinator.ask(room, f"!zt neu {name.upper()} 2027-07-01")
    assert f"Das Thema „{name}“ gibt es schon" in duplicate.body


async def test_html_in_names_is_escaped(room: str, coordinator: ScriptedUser) -> None:
    reply = await coordinator.ask(room, "!zt neu <script>alert(1)</script> Fx Q4/2027")
    content = reply.content["content"]
    assert "Idee, geplant Q4/2027" in content["body"]
    assert "<script>" not in content["formatted_body"]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in content["formatted_body"]


async def test_notices_and_own_messages_are_not_answered(
    room: str, coordinator: ScriptedUser, accounts: Accounts
) -> None:
    notice_id = await coordinator.send(room, "!zt hilfe", msgtype="m.notice")
    reply = await coordinator.ask(room, "!zt themen")
    answered = {
        r.content["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
        for r in coordinator.messages_in(room, accounts.bot.user_id)
    }
    assert reply.event_id
    assert notice_id not in answered


async def test_invite_while_the_bot_is_down_is_accepted_at_start(
    bot_factory, tmp_path, coordinator: ScriptedUser, accounts: Accounts
) -> None:
    directory = tmp_path / "restarting"
    first = await bot_factory(directory=directory)
    await first.stop()
    room_id = await coordinator.create_room([first.user_id], name="Eingeladen im Schlaf")
    await bot_factory(directory=directory)
    await coordinator.wait_for_member(room_id, first.user_id)
    reply = await coordinator.ask(room_id, "!zt themen")
    assert reply.sender == first.user_id


async def test_invites_from_other_servers_are_ignored(
    bot_factory,
    coordinator: ScriptedUser,
    member: ScriptedUser,
    accounts: Accounts,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.matrix")
    # Only example.org users (and the coordinators) may invite this bot.
    bot = await bot_factory(extra='allowed_servers = ["example.org"]')
    refused_room = await member.create_room([bot.user_id], name="Nicht erlaubt")
    allowed_room = await coordinator.create_room([bot.user_id], name="Erlaubt")
    await coordinator.wait_for_member(allowed_room, bot.user_id)
    # The refused invite came first: the bot has decided on it once it says so.
    async with asyncio.timeout(30):
        while f"ignoring invite to {refused_room}" not in caplog.text:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
    members = await member.client.joined_members(refused_room)
    assert bot.user_id not in {m.user_id for m in members.members}


async def test_answered_commands_are_not_answered_again_after_restart(
    bot_factory, tmp_path, coordinator: ScriptedUser, accounts: Accounts
) -> None:
    directory = tmp_path / "restart"
    first = await bot_factory(directory=directory)
    room_id = await coordinator.create_room([first.user_id], name="Neustart")
    await coordinator.wait_for_member(room_id, first.user_id)
    asked = await coordinator.ask(room_id, "!zt themen")
    await first.stop()
    await bot_factory(directory=directory)
    probe = await coordinator.ask(room_id, "!zt hilfe")
    replies_to_first = [
        r
        for r in coordinator.messages_in(room_id, first.user_id)
        if r.content["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
        == asked.content["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
    ]
    assert probe.body
    assert len(replies_to_first) == 1
