"""Operating the bot as a process: SIGTERM, secrets in logs, permissions, health."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.cli import main
from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import PASSWORD, Databases, write_plain_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Sehr-Geheim-4711!"


def start_bot_process(config: Path, log: Path) -> subprocess.Popen:
    """The bot as its own process, debug logging on, the password from the environment."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZT_MATRIX_PASSWORD": SECRET}
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "-v", "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def test_sigterm_secrets_permissions_and_health(
    synapse: LocalSynapse,
    coordinator: ScriptedUser,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    databases: Databases,
) -> None:
    monkeypatch.setenv("ZT_MATRIX_PASSWORD", SECRET)  # for `zt-bot health` in this process
    account = synapse.register("zt-betrieb", SECRET)
    config = write_plain_config(tmp_path, synapse, account.user_id, databases, matrix="")
    log = tmp_path / "bot.log"
    process = start_bot_process(config, log)
    try:
        room_id = await coordinator.create_room([account.user_id], name="Betrieb")
        await coordinator.wait_for_member(room_id, account.user_id, timeout=60)
        reply = await coordinator.ask(room_id, "!zt hilfe")
        assert reply.sender == account.user_id
        assert main(["health", "--config", str(config)]) == 0
    finally:
        process.send_signal(signal.SIGTERM)
        started = time.monotonic()
        # Ended, and cleanly, within the grace period deploy/ gives it (30 s) before a
        # SIGKILL; how long it took is printed, not asserted (a busy machine is slower).
        code = process.wait(timeout=30)
        stopped_after = time.monotonic() - started
    print(f"SIGTERM: exit {code} after {stopped_after:.1f} s")
    assert code == 0

    text = log.read_text("utf-8", errors="replace")
    assert "handled room=" in text and "verb=hilfe outcome=ok" in text  # one line per command
    assert SECRET not in text
    assert "syt_" not in text  # no Synapse access token, even at debug level
    data = tmp_path / "data"
    for directory in (data, data / "store"):
        assert stat.S_IMODE(directory.stat().st_mode) & 0o077 == 0, directory

    # The bot is gone: its heartbeat gets old (asked until it is, as an operator's probe
    # would; with the bot still beating this never turns).
    async with asyncio.timeout(30):
        while True:
            if main(["health", "--config", str(config), "--max-age", "1s"]) == 1:
                break
            await asyncio.sleep(0.2)  # (the heartbeat is a file: nothing to wait on)


def test_an_unknown_password_is_a_clear_error(
    synapse: LocalSynapse, tmp_path: Path, databases: Databases
) -> None:
    account = synapse.register("zt-falsch", PASSWORD)
    config = write_plain_config(tmp_path, synapse, account.user_id, databases, matrix="")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZT_MATRIX_PASSWORD": "Kein-Passwort-0815"}
    result = subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "fehlgeschlagen" in result.stderr and "Kein-Passwort-0815" not in result.stderr
