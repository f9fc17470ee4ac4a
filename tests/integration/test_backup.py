"""Backup while the bot runs, restore into a fresh data directory: the bot starts as the
same device, answers in an encrypted room, keeps every theme and sends no reminder twice."""

from __future__ import annotations

import asyncio
import stat
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import load_config
from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from bot.matrix.events import REMINDER_MARKER
from tests.integration.conftest import (
    PASSWORD,
    Databases,
    settled,
    start_bot,
    write_plain_config,
)
from tests.integration.test_faults import seed_due_theme

pytestmark = pytest.mark.integration

REMINDERS = '[reminders]\nsend_time = "00:00"\ntick_seconds = 5'


def reminder_keys(user: ScriptedUser, room_id: str, bot: str) -> list[str]:
    return [
        r.content["content"][REMINDER_MARKER]["key"]
        for r in user.messages_in(room_id, bot)
        if REMINDER_MARKER in r.content.get("content", {})
    ]


async def test_backup_while_running_and_restore_into_a_fresh_directory(
    synapse: LocalSynapse, databases: Databases, tmp_path: Path
) -> None:
    account = synapse.register("zt-sicherung", PASSWORD)
    person = synapse.register("sichernde", PASSWORD)
    user = ScriptedUser(synapse.url, person, store_path=tmp_path / "person-store")
    await user.start()
    first_config = write_plain_config(
        tmp_path / "erst", synapse, account.user_id, databases, rest=REMINDERS
    )
    running = await start_bot(load_config(first_config))
    saved = tmp_path / "sicherung"
    try:
        room_id = await user.create_room([account.user_id], name="Geheim", encrypted=True)
        await user.wait_for_member(room_id, account.user_id)
        assert "Befehle" in (await user.ask(room_id, "!zt hilfe", timeout=60)).body
        seed_due_theme(first_config, room_id, running.bot.clock.now())
        running.bot.scheduler.poke()
        await user.wait_until(lambda: bool(reminder_keys(user, room_id, account.user_id)), 60)
        await settled(running, user, room_id)  # the rest of what is due is here
        device = running.bot.adapter.client.device_id
        # While the bot runs:
        assert (
            await asyncio.to_thread(main, ["backup", "--config", str(first_config), str(saved)])
            == 0
        )
    finally:
        await running.stop()
    assert stat.S_IMODE(saved.stat().st_mode) == 0o700
    sent_before = reminder_keys(user, room_id, account.user_id)

    fresh = write_plain_config(
        tmp_path / "neu", synapse, account.user_id, databases, rest=REMINDERS
    )
    assert main(["restore", "--config", str(fresh), str(saved)]) == 0
    assert main(["restore", "--config", str(fresh), str(saved)]) == 1  # overwrites nothing
    restored = await start_bot(load_config(fresh))
    try:
        assert restored.bot.adapter.client.device_id == device  # the same device, same keys
        status = await user.ask(room_id, "!zt status Stadtgrün", timeout=60)
        assert "Zukunftstisch „Stadtgrün“" in status.body  # answered in the encrypted room
        await settled(restored, user, room_id)  # a reminder sent twice would be here now
        after = reminder_keys(user, room_id, account.user_id)
        assert after[: len(sent_before)] == sent_before
        assert len(after) == len(set(after)), "no reminder twice"
        # Nor sent again and dropped by the homeserver: only the answers (the status and
        # the probe's) and what is new.
        assert restored.bot.adapter.queue.sent == 2 + len(after) - len(sent_before)
    finally:
        await restored.stop()
        await user.close()


def test_restore_refuses_a_directory_that_is_not_a_backup(
    synapse: LocalSynapse, databases: Databases, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    account = synapse.register("zt-keine-sicherung", PASSWORD)
    config = write_plain_config(tmp_path / "bot", synapse, account.user_id, databases)
    (tmp_path / "leer").mkdir()
    assert main(["restore", "--config", str(config), str(tmp_path / "leer")]) == 1
    assert "keine Sicherung des Bots" in capsys.readouterr().err
