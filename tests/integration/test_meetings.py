"""Meetings with a time and a place (issue 21), on the real homeserver: Z2 gets a time and
a place in chat; the .ics the bot uploads, read back with icalendar, has Z2 as a DATE-TIME
in Europe/Berlin (with its VTIMEZONE) and a LOCATION, deadlines stay all-day; the feed a
calendar subscribes to over HTTP follows a changed time under the same UID with a higher
SEQUENCE; the theme's other room hears of the new time; the invitation four weeks before
Z2 says what to do, with time and place; the whole year report comes as an HTML file."""

from __future__ import annotations

import socket
from datetime import date, datetime, timedelta

import httpx
import pytest
from icalendar import Calendar

from bot.demo.scripted_user import Received, ScriptedUser
from tests.integration.conftest import BERLIN, Accounts, clock_on, team_room
from tests.integration.test_reminders import reminders_in

pytestmark = pytest.mark.integration

# Thursday 18.03.2027: four weeks before Z2 on 15.04.2027.
TODAY = date(2027, 3, 18)
Z2 = date(2027, 4, 15)
SETTINGS = '[reminders]\nsend_time = "00:00"\ndigest = false'


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def z2_event(body: bytes):
    calendar = Calendar.from_ical(body)
    (event,) = [e for e in calendar.walk("VEVENT") if "Z2 Strategie-Tisch" in str(e["SUMMARY"])]
    return calendar, event


async def file_reply(user: ScriptedUser, room: str, command: str, bot: str) -> Received:
    """Send `command`, wait for the bot's text answer and then for its m.file reply."""
    answer = await user.ask(room, command, timeout=60)
    command_id = answer.content["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]

    def found() -> Received | None:
        for received in user.messages_in(room, bot):
            content = received.content["content"]
            replied = content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
            if content.get("msgtype") == "m.file" and replied == command_id:
                return received
        return None

    await user.wait_until(lambda: found() is not None, timeout=60)
    event = found()
    assert event is not None
    return event


async def test_a_timed_z2_with_its_place_in_chat_in_the_ics_and_in_the_feed(
    bot_factory, coordinator: ScriptedUser, accounts: Accounts
) -> None:
    port = free_port()
    web = f'[web]\nlisten = "127.0.0.1:{port}"\npublic_url = "http://127.0.0.1:{port}"'
    bot = await bot_factory(extra=f"{web}\n{SETTINGS}", clock=clock_on(TODAY))
    team = await team_room(bot, coordinator, "Fachbereich Sitzungen")
    z2_room = await team_room(bot, coordinator, "Z2 Sitzungen")
    # Z2 in summer first: nothing is due today, so no reminder goes out before the time is set.
    assert "angelegt" in (await coordinator.ask(team, "!zt neu Sitzungsthema 15.07.2027")).body
    assert "Z2-Raum" in (await coordinator.ask(z2_room, "!zt raum Sitzungsthema z2")).body

    timed = await coordinator.ask(team, "!zt termin Sitzungsthema Z2 15.07.2027 14:00–16:00")
    assert timed.body.startswith(
        "🕑 Schritt 4 „Z2 Strategie-Tisch“ von Sitzungsthema: Donnerstag, 15.07.2027,"
        " 14:00–16:00 Uhr."
    )
    placed = await coordinator.ask(team, "!zt ort Sitzungsthema Z2 Ratssaal, Rathaus <Markt 1>")
    assert "14:00–16:00 Uhr, Ratssaal, Rathaus <Markt 1>." in placed.body
    assert "Ratssaal, Rathaus &lt;Markt 1&gt;" in placed.content["content"]["formatted_body"]
    # The Z2 room hears of the new time and place (the team room has its answer).
    await coordinator.wait_until(
        lambda: any(
            "Ort Ratssaal, Rathaus <Markt 1>" in r.body
            for r in coordinator.messages_in(z2_room, bot.user_id)
        )
    )
    notice = next(
        r.body
        for r in coordinator.messages_in(z2_room, bot.user_id)
        if "14:00–16:00 Uhr" in r.body and "ganztägig" in r.body
    )
    assert "• Schritt 4 „Z2 Strategie-Tisch“ am 15.07.2027: ganztägig → 14:00–16:00 Uhr" in notice

    # The calendar file: Z2 a DATE-TIME in Europe/Berlin with its place, deadlines all-day.
    upload = await file_reply(coordinator, team, "!zt kalender Sitzungsthema", bot.user_id)
    content = upload.content["content"]
    assert content["info"]["mimetype"] == "text/calendar"
    data = await coordinator.download(content["url"])
    calendar, z2 = z2_event(data)
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert z2["DTSTART"].params["TZID"] == "Europe/Berlin"
    start, end = z2.decoded("DTSTART"), z2.decoded("DTEND")
    assert isinstance(start, datetime)
    assert start == datetime(2027, 7, 15, 14, 0, tzinfo=BERLIN) and end - start == timedelta(
        hours=2
    )
    assert str(z2["LOCATION"]) == "Ratssaal, Rathaus <Markt 1>"
    deadline = next(
        e for e in calendar.walk("VEVENT") if "Aufbereitung für Z2" in str(e["SUMMARY"])
    )
    assert type(deadline.decoded("DTSTART")) is date and "LOCATION" not in deadline

    # The feed, subscribed over HTTP, follows a changed time: same UID, higher SEQUENCE.
    answer = await coordinator.ask(team, "!zt kalender Sitzungsthema abo")
    url = next(word for word in answer.body.split() if word.startswith("http://"))
    async with httpx.AsyncClient() as client:
        before = await client.get(url)
        assert before.status_code == 200
        _, old = z2_event(before.content)
        assert old.decoded("DTSTART").hour == 14
        await coordinator.ask(team, "!zt termin Sitzungsthema Z2 15.07.2027 15:30")
        after = await client.get(url, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        _, new = z2_event(after.content)
    assert str(new["UID"]) == str(old["UID"])
    assert int(new["SEQUENCE"]) > int(old["SEQUENCE"])
    assert new.decoded("DTSTART") == datetime(2027, 7, 15, 15, 30, tzinfo=BERLIN)
    assert new.decoded("DTEND") == datetime(2027, 7, 15, 17, 30, tzinfo=BERLIN)
    assert str(new["LOCATION"]) == "Ratssaal, Rathaus <Markt 1>"

    # Z2 moves to four weeks from today: the invitation notice goes out, time and place in it.
    moved = await coordinator.ask(team, f"!zt verschieben Sitzungsthema {Z2:%d.%m.%Y}")
    assert "15.04.2027" in moved.body

    def invitations() -> list[Received]:
        found = reminders_in(coordinator, team, bot.user_id)
        return [r for r in found if "📅 Bald: Schritt 4" in r.body]

    await coordinator.wait_until(lambda: bool(invitations()), timeout=60)
    (invitation,) = invitations()
    assert invitation.body.startswith(
        "📅 Bald: Schritt 4 „Z2 Strategie-Tisch“ von Sitzungsthema am Donnerstag, 15.04.2027"
        " (KW 15), 15:30 Uhr, Ratssaal, Rathaus <Markt 1>."
    )
    assert "Jetzt: Einladung verschicken." in invitation.body


async def test_the_whole_year_report_comes_as_an_html_file(
    bot_factory, coordinator: ScriptedUser
) -> None:
    bot = await bot_factory(extra=SETTINGS, clock=clock_on(TODAY))
    room = await team_room(bot, coordinator, "Koordination Bericht")
    assert "angelegt" in (await coordinator.ask(room, "!zt neu Berichtsthema 15. April 2027")).body
    upload = await file_reply(coordinator, room, "!zt jahresbericht 2027 datei", bot.user_id)
    content = upload.content["content"]
    assert content["filename"] == "jahresbericht-2027.html"
    assert content["info"]["mimetype"] == "text/html"
    page = (await coordinator.download(content["url"])).decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "Berichtsthema – Z2 am 15.04.2027 (KW 15)" in page
