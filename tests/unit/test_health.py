"""health: the heartbeat file and `zt-bot health`."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.health import (
    HEALTH_FILE,
    HealthReporter,
    Limits,
    Reason,
    Snapshot,
    check_health,
    problems,
    read_heartbeat,
    read_snapshot,
    say,
    write_heartbeat,
    write_snapshot,
)
from bot.rendering import Renderer

BERLIN = ZoneInfo("Europe/Berlin")
SYNC = datetime(2027, 3, 17, 10, 0, 0, tzinfo=UTC)
GERMAN = Renderer("de")


def health(data_dir: Path, **kwargs) -> tuple[bool, str]:
    """check_health, its reasons in the operator's German words."""
    healthy, reasons = check_health(data_dir, **kwargs)
    return healthy, say(reasons, GERMAN)


def said(reasons: list[Reason]) -> list[str]:
    return [reason.text(GERMAN) for reason in reasons]


def test_write_and_read(tmp_path: Path) -> None:
    write_heartbeat(tmp_path, last_sync=SYNC.astimezone(BERLIN))
    assert read_heartbeat(tmp_path) == SYNC
    data = json.loads((tmp_path / HEALTH_FILE).read_text("utf-8"))
    assert data["last_sync"] == "2027-03-17T10:00:00+00:00"


def test_owner_only_and_no_temp_files_left(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    write_heartbeat(data_dir, last_sync=SYNC)
    write_heartbeat(data_dir, last_sync=SYNC + timedelta(seconds=30))
    assert stat.S_IMODE((data_dir / HEALTH_FILE).stat().st_mode) == 0o600
    assert stat.S_IMODE(data_dir.stat().st_mode) == 0o700
    assert [p.name for p in data_dir.iterdir()] == [HEALTH_FILE]
    assert read_heartbeat(data_dir) == SYNC + timedelta(seconds=30)


def test_naive_time_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_heartbeat(tmp_path, last_sync=datetime(2027, 3, 17, 10, 0))


def test_fresh(tmp_path: Path) -> None:
    write_heartbeat(tmp_path, last_sync=SYNC)
    now = (SYNC + timedelta(seconds=12)).astimezone(BERLIN)
    assert health(tmp_path, now=now) == (True, "Letzte Synchronisation vor 12 s")


def test_stale(tmp_path: Path) -> None:
    write_heartbeat(tmp_path, last_sync=SYNC)
    now = (SYNC + timedelta(minutes=7, seconds=5)).astimezone(BERLIN)
    healthy, message = health(tmp_path, now=now)
    assert not healthy
    # Shown in the local time of `now`: 10:00 UTC is 11:00 in Berlin in March.
    assert message == "keine Synchronisation seit 7 min (zuletzt 17.03.2027 11:00:00)"
    assert health(tmp_path, now=now, max_age=timedelta(minutes=10))[0]


def test_missing_file(tmp_path: Path) -> None:
    healthy, message = health(tmp_path / "nie", now=SYNC)
    assert not healthy and message.startswith("Bot lief noch nie")


def test_garbage_file(tmp_path: Path) -> None:
    (tmp_path / HEALTH_FILE).write_text("{nicht json", "utf-8")
    healthy, message = health(tmp_path, now=SYNC)
    assert not healthy and "nicht lesbar" in message


def test_heartbeat_from_the_future_is_not_healthy(tmp_path: Path) -> None:
    write_heartbeat(tmp_path, last_sync=SYNC + timedelta(hours=1))
    healthy, message = health(tmp_path, now=SYNC)
    assert not healthy and "Zukunft" in message
    # A few seconds of disagreement between clocks are no alarm.
    write_heartbeat(tmp_path, last_sync=SYNC + timedelta(seconds=2))
    assert health(tmp_path, now=SYNC) == (True, "Letzte Synchronisation vor 0 s")


def snapshot(**changes) -> Snapshot:
    """A bot that works: synced now, the queue empty, reminders ticked a minute ago."""
    base = Snapshot(
        last_sync=SYNC,
        written_at=SYNC,
        last_tick=SYNC - timedelta(minutes=1),
        tick_every=timedelta(minutes=5),
    )
    return dataclasses.replace(base, **changes)


def test_a_working_bot_has_no_problems() -> None:
    assert problems(snapshot(), SYNC + timedelta(seconds=20)) == []


def test_a_stuck_send_queue_is_named() -> None:
    stuck = snapshot(
        queue_depth=4,
        queue_oldest_since=SYNC - timedelta(minutes=25),
        queue_last_progress=SYNC - timedelta(minutes=25),
    )
    assert said(problems(stuck, SYNC)) == [
        "die Sendewarteschlange kommt nicht voran: 4 Nachrichten, die älteste wartet seit 25 min"
    ]
    # Waiting long is fine while things go out (a burst of reminders under a rate limit).
    busy = dataclasses.replace(stuck, queue_last_progress=SYNC - timedelta(seconds=5))
    assert problems(busy, SYNC) == []
    limits = Limits(queue_stuck_after=timedelta(hours=1))
    assert problems(stuck, SYNC, limits) == []


def test_reminders_that_stopped_ticking_are_named() -> None:
    late = snapshot(last_tick=SYNC - timedelta(minutes=16))
    assert said(problems(late, SYNC)) == [
        "die Erinnerungen liefen zuletzt vor 16 min (sonst alle 5 min)"
    ]
    assert problems(snapshot(last_tick=SYNC - timedelta(minutes=14)), SYNC) == []


def test_a_bot_that_stopped_writing_is_named() -> None:
    gone = snapshot(written_at=SYNC - timedelta(minutes=3), last_sync=SYNC - timedelta(minutes=3))
    found = said(problems(gone, SYNC.astimezone(BERLIN)))
    assert found[0].startswith("der Bot schreibt seinen Zustand seit 3 min nicht mehr")


def test_several_problems_are_all_named(tmp_path: Path) -> None:
    write_snapshot(
        tmp_path,
        snapshot(
            last_sync=SYNC - timedelta(minutes=30),
            queue_depth=1,
            queue_oldest_since=SYNC - timedelta(minutes=30),
        ),
    )
    healthy, message = health(tmp_path, now=SYNC)
    assert not healthy
    assert "keine Synchronisation seit 30 min" in message and "Sendewarteschlange" in message


async def test_the_reporter_writes_whether_or_not_anything_else_runs(tmp_path: Path) -> None:
    written: list[Snapshot | None] = []

    async def sleep(_seconds: float) -> None:
        written.append(read_snapshot(tmp_path))
        if len(written) == 2:
            raise asyncio.CancelledError

    reporter = HealthReporter(tmp_path, lambda: snapshot(queue_depth=len(written)), sleep=sleep)
    with pytest.raises(asyncio.CancelledError):
        await reporter.run()
    assert [s.queue_depth for s in written if s] == [0, 1]


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(seconds=0), "0 s"),
        (timedelta(seconds=119), "119 s"),
        (timedelta(minutes=2), "2 min"),
        (timedelta(hours=1, minutes=59), "119 min"),
        (timedelta(hours=5), "5 h"),
        (timedelta(days=3, hours=4), "3 Tagen"),
    ],
)
def test_an_age_is_rounded_down_to_the_unit_that_matters(age: timedelta, text: str) -> None:
    seconds = int(age.total_seconds())
    assert GERMAN.sentence("health", "age", seconds=seconds).body == text


def test_health_speaks_english_too(tmp_path: Path) -> None:
    write_heartbeat(tmp_path, last_sync=SYNC)
    healthy, reasons = check_health(tmp_path, now=SYNC + timedelta(minutes=7, seconds=5))
    assert not healthy
    assert say(reasons, Renderer("en")) == "no sync for 7 min (last 2027-03-17 10:00:00)"
    stuck = snapshot(queue_depth=1, queue_oldest_since=SYNC - timedelta(days=3))
    assert [reason.text(Renderer("en")) for reason in problems(stuck, SYNC)] == [
        "the send queue makes no progress: 1 message, it has been waiting for 3 days"
    ]


# The command line ------------------------------------------------------------------------


def config_file(tmp_path: Path) -> Path:
    path = tmp_path / "zt.toml"
    path.write_text(
        """
[matrix]
homeserver = "https://matrix.x"
user_id = "@zt-bot:x"
password = "geheim"
[bot]
data_dir = "data"
""",
        "utf-8",
    )
    return path


def test_cli_health_exit_codes(tmp_path: Path, capsys) -> None:
    config = str(config_file(tmp_path))
    data_dir = tmp_path / "data"

    assert main(["health", "--config", config]) == 1
    assert "Bot lief noch nie" in capsys.readouterr().err

    write_heartbeat(data_dir, last_sync=datetime.now(UTC))
    assert main(["health", "--config", config]) == 0
    assert capsys.readouterr().out.startswith("Letzte Synchronisation vor ")

    write_heartbeat(data_dir, last_sync=datetime.now(UTC) - timedelta(minutes=6))
    assert main(["health", "--config", config]) == 1
    assert "keine Synchronisation seit 6 min" in capsys.readouterr().err
    assert main(["health", "--config", config, "--max-age", "10m"]) == 0


def test_cli_health_refuses_a_bad_max_age(tmp_path: Path) -> None:
    with pytest.raises(SystemExit) as info:
        main(["health", "--config", str(config_file(tmp_path)), "--max-age", "bald"])
    assert info.value.code == 2
