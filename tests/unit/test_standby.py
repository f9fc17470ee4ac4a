"""The standby: what health says of it, that it leaves an active instance's health file
alone, and how the bot waits for the lease and ends when it loses it (with a fake lease;
the real ones: tests/store/test_lease.py, two processes: tests/integration/test_lease.py)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import app
from bot.app import AlreadyRunning, Bot, LeaseLost, build_bot
from bot.cli import EXIT_ALREADY_RUNNING, EXIT_LEASE_LOST, main
from bot.clock import Clock
from bot.config import load_config
from bot.health import (
    ACTIVE,
    STALE_FILE,
    STANDBY,
    HealthReporter,
    Snapshot,
    check_health,
    problems,
    read_snapshot,
    say,
    write_snapshot,
)
from bot.rendering import Renderer
from bot.store.database import StoreUnavailable

NOW = datetime(2027, 3, 17, 10, 0, tzinfo=UTC)


def standby(at: datetime = NOW, since: datetime = NOW - timedelta(minutes=3)) -> Snapshot:
    return Snapshot(last_sync=None, written_at=at, role=STANDBY, standby_since=since)


def test_a_standby_is_healthy_and_says_so(tmp_path: Path) -> None:
    assert problems(standby(), NOW) == []
    write_snapshot(tmp_path, standby())
    assert read_snapshot(tmp_path) == standby()
    healthy, reasons = check_health(tmp_path, now=NOW + timedelta(seconds=5))
    message = say(reasons, Renderer())
    assert healthy
    assert message.startswith("Bereitschaft (standby): eine andere Instanz ist aktiv")
    assert "wartet seit 3 min" in message


def test_a_standby_that_stopped_writing_is_not(tmp_path: Path) -> None:
    write_snapshot(tmp_path, standby())
    healthy, reasons = check_health(tmp_path, now=NOW + STALE_FILE + timedelta(seconds=1))
    message = say(reasons, Renderer())
    assert not healthy and "schreibt seinen Zustand" in message


def test_an_old_snapshot_without_a_role_is_active(tmp_path: Path) -> None:
    (tmp_path / "health.json").write_text(f'{{"last_sync": "{NOW.isoformat()}"}}', "utf-8")
    snapshot = read_snapshot(tmp_path)
    assert snapshot is not None and snapshot.role == ACTIVE


async def test_a_standby_leaves_the_active_instances_file_alone(tmp_path: Path) -> None:
    """Both instances may share the data directory (a rolling update on one volume)."""
    active = Snapshot(last_sync=NOW, written_at=NOW)
    write_snapshot(tmp_path, active)

    async def once(_seconds: float) -> None:
        raise asyncio.CancelledError

    later = NOW + timedelta(seconds=30)
    with pytest.raises(asyncio.CancelledError):
        await HealthReporter(tmp_path, lambda: standby(later), sleep=once).run()
    assert read_snapshot(tmp_path) == active
    # Once the active one has stopped writing, the file tells of the standby.
    gone = NOW + STALE_FILE + timedelta(seconds=1)
    with pytest.raises(asyncio.CancelledError):
        await HealthReporter(tmp_path, lambda: standby(gone), sleep=once).run()
    snapshot = read_snapshot(tmp_path)
    assert snapshot is not None and snapshot.role == STANDBY


@dataclass
class FakeLease:
    """Free after `busy` tries; `unreachable` tries raise first; `held` while checked."""

    busy: int = 0
    unreachable: int = 0
    waits: bool = True
    held: bool = True
    calls: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return "fake lease"

    def try_acquire(self) -> bool:
        self.calls.append("try")
        if self.unreachable:
            self.unreachable -= 1
            raise StoreUnavailable("database restarting")
        if self.busy:
            self.busy -= 1
            return False
        return True

    def check(self) -> bool:
        self.calls.append("check")
        return self.held

    def release(self) -> None:
        self.calls.append("release")


@pytest.fixture
def bot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Bot]:
    monkeypatch.setattr(app, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(app, "CHECK_SECONDS", 0.01)
    path = tmp_path / "zt.toml"
    path.write_text(
        f'[matrix]\nhomeserver = "https://matrix.x"\nuser_id = "@zt-bot:x"\n'
        f'password = "geheim"\nstore_path = "{tmp_path / "store"}"\n'
        f'[bot]\ndata_dir = "{tmp_path / "data"}"\n',
        "utf-8",
    )
    config = load_config(path, environ={})
    built = build_bot(config, Clock(config.bot.zone), prepare=False)
    yield built
    built.store.close()


async def test_a_busy_lease_is_waited_for_as_standby_and_logged_once(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    lease = FakeLease(busy=3, unreachable=2)
    bot.lease = lease
    with caplog.at_level(logging.INFO, logger="bot.app"):
        await bot._take_lease()
    assert lease.calls == ["try"] * 6
    assert bot.role == ACTIVE and bot.standby_since is not None
    standby_lines = [r for r in caplog.records if r.getMessage().startswith("standby:")]
    assert len(standby_lines) == 1
    assert [r for r in caplog.records if "database unreachable" in r.getMessage()]
    assert [r for r in caplog.records if "lease taken after" in r.getMessage()]
    assert not bot.prepared and not bot.active, "nothing before the lease, then prepare"


async def test_a_second_instance_on_sqlite_does_not_wait(bot: Bot) -> None:
    bot.lease = FakeLease(busy=1, waits=False)
    with pytest.raises(AlreadyRunning, match="fake lease"):
        await bot._take_lease()


async def test_a_lost_lease_ends_the_active_instance(bot: Bot) -> None:
    lease = FakeLease()
    bot.lease = lease
    bot.active = True
    keeper = asyncio.create_task(bot._keep_lease())
    async with asyncio.timeout(30):  # a few checks of a held lease
        while lease.calls.count("check") < 3:  # noqa: ASYNC110
            await asyncio.sleep(0.01)
    assert not keeper.done() and bot.active
    lease.held = False
    with pytest.raises(LeaseLost):
        await asyncio.wait_for(keeper, 30)
    assert not bot.active


async def test_run_takes_the_lease_before_anything_and_releases_it_last(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    order: list[str] = []
    lease = FakeLease(busy=2)
    bot.lease = lease

    def prepare() -> None:
        order.append(f"prepare after {lease.calls.count('try')} tries")
        bot.prepared = True

    async def adapter_run(_answer: object) -> None:
        order.append("adapter")
        raise RuntimeError("the homeserver is gone")

    async def close() -> None:
        order.append(f"adapter closed, released: {'release' in lease.calls}")

    monkeypatch.setattr(bot, "prepare", prepare)
    monkeypatch.setattr(bot.adapter, "run", adapter_run)
    monkeypatch.setattr(bot.adapter, "close", close)
    with pytest.raises(RuntimeError, match="homeserver"):
        await bot.run()
    assert order == ["prepare after 3 tries", "adapter", "adapter closed, released: False"]
    assert lease.calls[-1] == "release"


def test_the_exit_codes_are_distinct() -> None:
    assert len({2, 3, 4, EXIT_ALREADY_RUNNING, EXIT_LEASE_LOST}) == 5


def test_cli_health_of_a_standby(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = tmp_path / "zt.toml"
    config.write_text(
        '[matrix]\nhomeserver = "https://matrix.x"\nuser_id = "@zt-bot:x"\n'
        'password = "geheim"\n[bot]\ndata_dir = "data"\n',
        "utf-8",
    )
    now = datetime.now(UTC)
    write_snapshot(tmp_path / "data", standby(now, now - timedelta(seconds=30)))
    assert main(["health", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith("Bereitschaft (standby)")
