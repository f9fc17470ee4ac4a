"""Calendar feeds as a subscriber sees them: `!zt kalender <Thema> abo` answers with a
URL, the feed is fetched over HTTP and parsed with icalendar; after `!zt verschieben` the
same events come back moved, under the same UIDs with a higher SEQUENCE (the subscribed
calendar updates them instead of adding a second set); `abo neu` revokes the old URL."""

from __future__ import annotations

import socket

import httpx
import pytest
from icalendar import Calendar

from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import Accounts

pytestmark = pytest.mark.integration


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def events(body: bytes) -> dict[str, tuple]:
    calendar = Calendar.from_ical(body)
    return {
        str(e["UID"]): (e.decoded("DTSTART"), int(e["SEQUENCE"])) for e in calendar.walk("VEVENT")
    }


async def test_a_subscribed_feed_follows_a_move(
    bot_factory, coordinator: ScriptedUser, accounts: Accounts
) -> None:
    port = free_port()
    bot = await bot_factory(
        extra=f'[web]\nlisten = "127.0.0.1:{port}"\npublic_url = "http://127.0.0.1:{port}"'
    )
    room = await coordinator.create_room([bot.user_id], name="Kalender")
    await coordinator.wait_for_member(room, bot.user_id)
    assert "angelegt" in (await coordinator.ask(room, "!zt neu Abothema 12.04.2027")).body
    answer = await coordinator.ask(room, "!zt kalender Abothema abo")
    url = next(word for word in answer.body.split() if word.startswith("http://"))
    assert url.startswith(f"http://127.0.0.1:{port}/kalender/") and url.endswith(".ics")
    async with httpx.AsyncClient() as client:
        before = await client.get(url)
        assert before.status_code == 200
        assert before.headers["content-type"] == "text/calendar; charset=utf-8"
        old = events(before.content)
        assert len(old) == 9  # 8 steps and the digital participation window

        moved = await coordinator.ask(room, "!zt verschieben Abothema 19.04.2027")
        assert "19.04.2027" in moved.body
        after = await client.get(url, headers={"If-None-Match": before.headers["etag"]})
        assert after.status_code == 200
        new = events(after.content)
        assert set(new) == set(old)
        for uid, (start, sequence) in new.items():
            assert (start - old[uid][0]).days == 7, uid
            assert sequence > old[uid][1]
        unchanged = await client.get(url, headers={"If-None-Match": after.headers["etag"]})
        assert unchanged.status_code == 304

        renewed = await coordinator.ask(room, "!zt kalender Abothema abo neu")
        new_url = next(word for word in renewed.body.split() if word.startswith("http://"))
        assert new_url != url
        assert (await client.get(url)).status_code == 404
        assert (await client.get(new_url)).status_code == 200
        assert (await client.get(f"http://127.0.0.1:{port}/")).status_code == 404
