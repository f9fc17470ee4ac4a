"""The public page as a coordinator fills it in chat (issue 24): over a real Synapse a
coordinator says `!zt öffentlich <Thema> an` and `!zt beteiligung <Thema> link …`, and
the bot's own HTTP side (`[web] public = true`) then shows the theme and the link on `/`,
on the theme's page and in `/themen.json`; a department member's same commands are
refused in German and change nothing a citizen sees."""

from __future__ import annotations

import socket

import httpx
import pytest

from bot.demo.scripted_user import ScriptedUser
from bot.domain.public_page import slug
from tests.integration.conftest import Accounts, team_room

pytestmark = pytest.mark.integration

THEME = "Stadtgrün"
LINK = "https://beteiligung.stadt.example/stadtgruen"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def test_a_coordinator_puts_a_theme_and_its_link_on_the_public_page(
    bot_factory, coordinator: ScriptedUser, member: ScriptedUser, accounts: Accounts
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    bot = await bot_factory(
        extra=f'[web]\nlisten = "127.0.0.1:{port}"\npublic = true\npublic_url = "{base}"'
    )
    room = await team_room(bot, coordinator, "Grün", member)
    assert "angelegt" in (await coordinator.ask(room, f"!zt neu {THEME} 12.04.2027")).body
    page = f"{base}/thema/{slug(THEME)}"
    async with httpx.AsyncClient() as client:
        start = await client.get(f"{base}/")
        assert start.status_code == 200 and THEME not in start.text  # not public yet
        assert (await client.get(page)).status_code == 404

        # A department member of the theme's room may not: refused, nothing changes.
        refused = await member.ask(room, f"!zt öffentlich {THEME} an")
        assert "Das dürfen nur Koordinator*innen" in refused.body
        refused = await member.ask(room, f"!zt beteiligung {THEME} link {LINK}")
        assert "Das dürfen nur Koordinator*innen" in refused.body
        assert THEME not in (await client.get(f"{base}/")).text
        assert (await client.get(page)).status_code == 404

        public = await coordinator.ask(room, f"!zt öffentlich {THEME} an")
        assert "ist jetzt öffentlich" in public.body and f"{base}/" in public.body
        linked = await coordinator.ask(room, f"!zt beteiligung {THEME} link {LINK}")
        assert LINK in linked.body

        start = await client.get(f"{base}/")
        assert start.status_code == 200 and THEME in start.text
        theme_page = await client.get(page)
        assert theme_page.status_code == 200
        assert f'href="{LINK}"' in theme_page.text and "Digitale Beteiligung" in theme_page.text
        data = (await client.get(f"{base}/themen.json")).json()
        (shown,) = data["themes"]
        assert shown["name"] == THEME and shown["url"] == f"/thema/{slug(THEME)}"
        participation = next(p for p in shown["phases"] if p["kind"] == "participation")
        assert participation["link"] == LINK

        # Nor may the member take it off again: the page still shows theme and link.
        refused = await member.ask(room, f"!zt beteiligung {THEME} link entfernen")
        assert "Das dürfen nur Koordinator*innen" in refused.body
        refused = await member.ask(room, f"!zt öffentlich {THEME} aus")
        assert "Das dürfen nur Koordinator*innen" in refused.body
        again = await client.get(page)
        assert again.status_code == 200 and f'href="{LINK}"' in again.text
        for account in (accounts.member.user_id, accounts.coordinator.user_id, room):
            assert account not in again.text  # nobody's Matrix id, no room on the page
