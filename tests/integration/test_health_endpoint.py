"""`/healthz` and `/metrics` over HTTP from a running bot: "ok" while it works, 503 with
the reason when its sends do not go through, and Prometheus numbers that count commands,
replies and 429s."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest

from bot.config import load_config
from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import PASSWORD, Accounts, Databases, start_bot, write_plain_config
from tests.integration.proxy import FaultyProxy

pytestmark = pytest.mark.integration


async def fetch(url: str) -> tuple[int, str, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, response.headers.get("Content-Type", ""), await response.text()


async def test_healthz_and_metrics(bot_factory, coordinator: ScriptedUser) -> None:
    bot = await bot_factory('[health]\nlisten = "127.0.0.1:0"\n[web]\nlisten = "127.0.0.1:0"')
    assert len(bot.bot.servers) == 1  # feeds and health on one address: one server
    base = f"http://127.0.0.1:{bot.bot.servers[0].port}"
    room_id = await coordinator.create_room([bot.user_id], name="Zustand")
    await coordinator.wait_for_member(room_id, bot.user_id)
    await coordinator.ask(room_id, "!zt hilfe")
    await coordinator.ask(room_id, "!zt gibtsnicht")

    assert await fetch(f"{base}/healthz") == (200, "text/plain; charset=utf-8", "ok\n")
    status, content_type, text = await fetch(f"{base}/metrics")
    assert status == 200 and content_type.startswith("text/plain; version=")
    assert 'zt_commands_total{outcome="ok",verb="hilfe"} 1.0' in text
    assert 'zt_commands_total{outcome="refused",verb="gibtsnicht"} 1.0' in text
    assert "zt_replies_sent_total 2.0" in text
    for name in ("zt_rate_limited_total", "zt_reminders_pending", "zt_send_queue_depth",
                 "zt_send_queue_oldest_age_seconds", "zt_sync_lag_seconds"):  # fmt: skip
        assert f"\n{name} " in text, name
    assert 'zt_engine_tick_seconds{engine="ReminderEngine"} ' in text
    assert (await fetch(f"{base}/kalender/unbekannt.ics"))[0] == 404


async def test_healthz_names_a_send_queue_that_does_not_get_through(
    synapse: LocalSynapse,
    accounts: Accounts,
    coordinator: ScriptedUser,
    databases: Databases,
    tmp_path: Path,
) -> None:
    proxy = FaultyProxy(synapse.url)
    await proxy.start()
    account = synapse.register("zt-verstopft", PASSWORD)
    rest = (
        f'coordinators = ["{accounts.coordinator.user_id}"]\n'
        '[health]\nlisten = "127.0.0.1:0"\nqueue_stuck_after = "2s"'
    )
    config = write_plain_config(
        tmp_path, SimpleNamespace(url=proxy.url), account.user_id, databases, rest=rest
    )  # type: ignore[arg-type]
    running = await start_bot(load_config(config))
    base = f"http://127.0.0.1:{running.bot.servers[0].port}"
    try:
        room_id = await coordinator.create_room([account.user_id], name="Verstopft")
        await coordinator.wait_for_member(room_id, account.user_id)
        proxy.send_faults = ["500"] * 6  # about a minute of backoff
        await coordinator.send(room_id, "!zt hilfe")
        async with asyncio.timeout(60):  # stuck after 2 s of no progress
            while (found := await fetch(f"{base}/healthz"))[0] == 200:  # noqa: ASYNC110
                await asyncio.sleep(0.2)
        status, _, text = found
        assert status == 503
        assert "die Sendewarteschlange kommt nicht voran: 1 Nachricht, sie wartet seit" in text
    finally:
        await running.stop()
        await proxy.close()
