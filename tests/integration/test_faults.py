"""Faults on purpose: the homeserver goes away for a minute, PostgreSQL restarts."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.app import LeaseLost
from bot.config import load_config
from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from bot.domain.process import load_template
from bot.domain.timeline import plan
from bot.matrix.events import REMINDER_MARKER
from bot.store.themes import Store
from tests.databases import BACKEND, SERVER
from tests.integration.conftest import (
    PASSWORD,
    Databases,
    RunningBot,
    new_synapse,
    start_bot,
    write_plain_config,
)

pytestmark = pytest.mark.integration

OUTAGE = 60  # seconds


@pytest.fixture
def own_synapse(tmp_path_factory: pytest.TempPathFactory):
    """A homeserver of its own: this test stops it."""
    server = new_synapse(tmp_path_factory.mktemp("outage"))
    server.start()
    yield server
    server.stop()


def seed_due_theme(config_path: Path, room_id: str, now: datetime) -> None:
    """A theme whose step 3 is due today, written while the bot cannot reach anyone."""
    config = load_config(config_path)
    store = Store(config.database_url)
    template = load_template()
    z2 = now.date() + timedelta(weeks=3)
    store.create_theme(
        name="Stadtgrün",
        z2=z2,
        planned_quarter=None,
        team_room=room_id,
        template=template,
        planned=plan(template, z2),
        created_by="@koordination:localhost",
        now=now,
    )
    store.close()


async def test_the_homeserver_is_gone_for_a_minute(
    own_synapse: LocalSynapse, tmp_path: Path, databases: Databases
) -> None:
    bot_account = own_synapse.register("zt-bot", PASSWORD)
    person = own_synapse.register("koordination", PASSWORD)
    config_path = write_plain_config(
        tmp_path,
        own_synapse,
        bot_account.user_id,
        databases,
        rest='[reminders]\nsend_time = "00:00"\ntick_seconds = 5',
    )
    running = await start_bot(load_config(config_path))
    user = ScriptedUser(own_synapse.url, person)
    await user.start()
    try:
        room_id = await user.create_room([bot_account.user_id], name="Ausfall")
        await user.wait_for_member(room_id, bot_account.user_id)
        assert "Befehle" in (await user.ask(room_id, "!zt hilfe")).body

        own_synapse.stop()
        seed_due_theme(config_path, room_id, running.bot.clock.now())
        await asyncio.sleep(OUTAGE)  # the bot ticks, fails to send, backs off
        assert not running.task.done(), "the bot survived the outage"
        own_synapse.start()

        await user.wait_until(
            lambda: any(
                REMINDER_MARKER in r.content["content"]
                for r in user.messages_in(room_id, bot_account.user_id)
            ),
            timeout=120,
        )
        after = await user.ask(room_id, "!zt status Stadtgrün", timeout=60)
        assert "Zukunftstisch „Stadtgrün“" in after.body
        keys = [
            r.content["content"][REMINDER_MARKER]["key"]
            for r in user.messages_in(room_id, bot_account.user_id)
            if REMINDER_MARKER in r.content["content"]
        ]
        assert len(keys) == len(set(keys)), "nothing arrived twice"
    finally:
        await user.close()
        await running.stop()


def postgres_control() -> list[str] | None:
    """How to stop and start this machine's PostgreSQL, if we may. `ZT_TEST_PG_CONTROL`
    names another command (a private cluster's `pg_ctl -D … -w`; the verb is appended)."""
    if BACKEND != "postgresql":
        return None
    if custom := os.environ.get("ZT_TEST_PG_CONTROL"):
        return shlex.split(custom)
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        return None
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    return (
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main"] if versions else None
    )


async def test_postgresql_restarts_and_no_command_is_lost(
    bot_factory, coordinator: ScriptedUser, tmp_path: Path, shared_bot: RunningBot
) -> None:
    control = postgres_control()
    if control is None:
        pytest.skip(
            "needs the PostgreSQL backend (ZT_TEST_DATABASE=postgresql), root and pg_ctlcluster"
        )
    directory = tmp_path / "pg-restart"
    bot = await bot_factory(directory=directory)
    room_id = await coordinator.create_room([bot.user_id], name="Datenbank weg")
    await coordinator.wait_for_member(room_id, bot.user_id)
    await coordinator.ask(room_id, "!zt neu Mobilität KW 15/2027")
    await asyncio.to_thread(SERVER.alone)  # once other test runs have left the server
    try:
        await asyncio.to_thread(subprocess.run, [*control, "stop"], check=True)
        try:
            waiting = await coordinator.send(room_id, "!zt erledigt Mobilität 1 trotz Neustart")
            # The fault's length, not a wait for an outcome: the command meets a
            # database that stays away for a while.
            await asyncio.sleep(5)
        finally:
            await asyncio.to_thread(subprocess.run, [*control, "start"], check=True)
    finally:
        SERVER.not_alone()
    # The restart ended the lease's session: the bot stops being active (LeaseLost, exit 6
    # from `zt-bot run`) and its supervisor starts it again; here the test is the supervisor.
    with pytest.raises(LeaseLost):
        await asyncio.wait_for(bot.task, 30)
    await bot_factory(directory=directory)
    await coordinator.wait_until(
        lambda: any(
            r.content["content"].get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
            == waiting
            for r in coordinator.messages_in(room_id, bot.user_id)
        ),
        timeout=90,
    )
    status = await coordinator.ask(room_id, "!zt status Mobilität")
    assert "erledigt" in next(line for line in status.body.splitlines() if " 1 " in line[:5])
    # The restart ended the lease of the bot the other tests share: supervise it too.
    await shared_bot.revive()
