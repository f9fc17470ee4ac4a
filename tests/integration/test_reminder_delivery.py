"""Reminders under stress: a SIGKILL in the middle of a burst, and Synapse's default rate
limits. Every reminder arrives, and arrives exactly once (counted in the room)."""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.config import load_config
from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from bot.domain.process import load_template
from bot.domain.themes import StepState
from bot.domain.timeline import plan
from bot.matrix.events import REMINDER_MARKER
from bot.store.themes import Store
from tests.integration.conftest import (
    PASSWORD,
    Databases,
    new_synapse,
    settled,
    start_bot,
    write_plain_config,
)

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ZONE = ZoneInfo("Europe/Berlin")


def write_bot_config(
    directory: Path, synapse: LocalSynapse, user_id: str, databases: Databases
) -> Path:
    return write_plain_config(
        directory,
        synapse,
        user_id,
        databases,
        matrix=f'password = "{PASSWORD}"\ndevice_id = "ZTBURST"',
        rest='[reminders]\nsend_time = "00:00"',
    )


def seed_themes(config_path: Path, room_id: str, count: int, *, only_step: str | None) -> None:
    """`count` themes in `room_id`, each with reminders due today.

    With `only_step`, every other step is done, so each theme has exactly one reminder.
    """
    config = load_config(config_path)
    store = Store(config.database_url)
    store.upgrade()
    template = load_template()
    today = datetime.now(ZONE).date()
    now = datetime.now(ZONE)
    z2 = today + timedelta(weeks=3)  # step 3 (−3 weeks) is due today
    for number in range(count):
        view = store.create_theme(
            name=f"Thema {number:03d}",
            z2=z2,
            planned_quarter=None,
            team_room=room_id,
            template=template,
            planned=plan(template, z2),
            created_by="@seed:localhost",
            now=now,
        )
        if only_step is None:
            continue
        for step in view.steps:
            if step.key != only_step:
                store.set_step_state(
                    view.id, step.key, state=StepState.done, actor="@seed", now=now, action="done"
                )
    store.close()


def keys_in(user: ScriptedUser, room_id: str, sender: str) -> list[str]:
    return [
        r.content["content"][REMINDER_MARKER]["key"]
        for r in user.messages_in(room_id, sender)
        if REMINDER_MARKER in r.content.get("content", {})
    ]


def sent_log(config_path: Path) -> dict[str, int]:
    store = Store(load_config(config_path).database_url)
    counts = collections.Counter(row.status for row in store.sent_reminders())
    store.close()
    return dict(counts)


def start_process(config_path: Path, log: Path) -> subprocess.Popen:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config_path)],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )


def statuses(config_path: Path) -> dict[str, int]:
    """The sent-log's rows by status ("pending" until the homeserver took it, "sent")."""
    engine = sa.create_engine(load_config(config_path).database_url)
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT status, count(*) FROM reminder_log GROUP BY 1"))
        found = {status: int(count) for status, count in rows}
    engine.dispose()
    return found


async def settle(
    user: ScriptedUser, room_id: str, sender: str, config_path: Path, timeout: float = 120
) -> int:
    """The number of reminders in the room once the bot (a process of its own) has sent
    every reminder of its sent-log: none pending, each sent one in the room, and then a
    command answered, before which any second copy would have come."""
    async with asyncio.timeout(timeout):
        while True:
            found = await asyncio.to_thread(statuses, config_path)
            arrived = len(set(keys_in(user, room_id, sender)))
            if found.get("sent") and not found.get("pending") and arrived >= found["sent"]:
                break
            await asyncio.sleep(0.2)
    await user.ask(room_id, "!zt hilfe", timeout=60)
    return len(keys_in(user, room_id, sender))


async def test_sigkill_in_the_middle_of_a_burst_loses_and_doubles_nothing(
    synapse: LocalSynapse, coordinator: ScriptedUser, tmp_path: Path, databases: Databases
) -> None:
    account = synapse.register("zt-burst", PASSWORD)
    room_id = await coordinator.create_room([account.user_id], name="Burst")
    config_path = write_bot_config(tmp_path, synapse, account.user_id, databases)
    seed_themes(config_path, room_id, 30, only_step=None)  # several reminders per theme
    log = tmp_path / "bot.log"

    first = start_process(config_path, log)
    try:
        await coordinator.wait_for_member(room_id, account.user_id, timeout=60)
        await coordinator.wait_until(
            lambda: len(keys_in(coordinator, room_id, account.user_id)) >= 15, timeout=60
        )
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    killed_at = len(keys_in(coordinator, room_id, account.user_id))

    second = start_process(config_path, log)
    try:
        total = await settle(coordinator, room_id, account.user_id, config_path)
    finally:
        second.terminate()
        assert second.wait(timeout=15) == 0
    keys = keys_in(coordinator, room_id, account.user_id)
    doubled = [key for key, n in collections.Counter(keys).items() if n > 1]
    print(f"burst: {total} reminders, {killed_at} before SIGKILL, doubled: {len(doubled)}")
    assert total >= 50
    assert killed_at < total, "the kill happened in the middle of the burst"
    assert doubled == []
    assert sent_log(config_path) == {"sent": total}


@pytest.fixture(scope="module")
def strict_synapse(tmp_path_factory: pytest.TempPathFactory):
    """A second homeserver with Synapse's default rate limits (rc_message 0.2/s, burst 10)."""
    server = new_synapse(tmp_path_factory.mktemp("strict"), raised_rate_limits=False)
    server.start()
    yield server
    server.stop()


async def test_a_burst_against_default_rate_limits_arrives_complete(
    strict_synapse: LocalSynapse, tmp_path: Path, databases: Databases
) -> None:
    bot_account = strict_synapse.register("zt-bot", PASSWORD)
    person = strict_synapse.register("koordination", PASSWORD)
    user = ScriptedUser(strict_synapse.url, person)
    await user.start()
    try:
        room_id = await user.create_room([bot_account.user_id], name="Ratenlimit")
        config_path = write_bot_config(tmp_path, strict_synapse, bot_account.user_id, databases)
        reminders = 16
        seed_themes(config_path, room_id, reminders, only_step="3")
        running = await start_bot(load_config(config_path))
        try:
            await user.wait_until(
                lambda: len(keys_in(user, room_id, bot_account.user_id)) >= reminders,
                timeout=180,
            )
            rate_limited = running.bot.adapter.queue.rate_limited  # the burst's, not the probe's
            await settled(running, user, room_id)  # and no more
            keys = keys_in(user, room_id, bot_account.user_id)
        finally:
            await running.stop()
    finally:
        await user.close()
    print(f"rate limits: {len(keys)} of {reminders} arrived, 429 honoured {rate_limited} times")
    assert sorted(keys) == sorted(set(keys)) and len(keys) == reminders
    assert rate_limited > 0, "the burst really ran into the homeserver's rate limit"


def test_seed_dates_are_today() -> None:
    template = load_template()
    today = date(2027, 3, 1)
    steps = {p.key: p.due for p in plan(template, today + timedelta(weeks=3))}
    assert steps["3"] == today
