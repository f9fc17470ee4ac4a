"""health: the heartbeat file and `zt-bot health`."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from zukunftstische.cli import main
from zukunftstische.health import (
    HEALTH_FILE,
    Heartbeat,
    check_health,
    describe_age,
    read_heartbeat,
    write_heartbeat,
)

BERLIN = ZoneInfo("Europe/Berlin")
SYNC = datetime(2027, 3, 17, 10, 0, 0, tzinfo=UTC)


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
    assert check_health(tmp_path, now=now) == (True, "Letzte Synchronisation vor 12 s")


def test_stale(tmp_path: Path) -> None:
    write_heartbeat(tmp_path, last_sync=SYNC)
    now = (SYNC + timedelta(minutes=7, seconds=5)).astimezone(BERLIN)
    healthy, message = check_health(tmp_path, now=now)
    assert not healthy
    # Shown in the local time of `now`: 10:00 UTC is 11:00 in Berlin in March.
    assert message == "keine Synchronisation seit 7 min (zuletzt 17.03.2027 11:00:00)"
    assert check_health(tmp_path, now=now, max_age=timedelta(minutes=10))[0]


def test_missing_file(tmp_path: Path) -> None:
    healthy, message = check_health(tmp_path / "nie", now=SYNC)
    assert not healthy and message.startswith("Bot lief noch nie")


def test_garbage_file(tmp_path: Path) -> None:
    (tmp_path / HEALTH_FILE).write_text("{nicht json", "utf-8")
    healthy, message = check_health(tmp_path, now=SYNC)
    assert not healthy and "nicht lesbar" in message


def test_heartbeat_from_the_future_is_not_healthy(tmp_path: Path) -> None:
    write_heartbeat(tmp_path, last_sync=SYNC + timedelta(hours=1))
    healthy, message = check_health(tmp_path, now=SYNC)
    assert not healthy and "Zukunft" in message
    # A few seconds of disagreement between clocks are no alarm.
    write_heartbeat(tmp_path, last_sync=SYNC + timedelta(seconds=2))
    assert check_health(tmp_path, now=SYNC) == (True, "Letzte Synchronisation vor 0 s")


def test_heartbeat_writes_at_most_every_interval(tmp_path: Path) -> None:
    beat = Heartbeat(tmp_path, every=timedelta(seconds=10))
    assert beat.beat(SYNC)
    assert not beat.beat(SYNC + timedelta(seconds=5))
    assert read_heartbeat(tmp_path) == SYNC
    assert beat.beat(SYNC + timedelta(seconds=10))
    assert read_heartbeat(tmp_path) == SYNC + timedelta(seconds=10)


@pytest.mark.parametrize(
    ("age", "text"),
    [
        (timedelta(seconds=-3), "0 s"),
        (timedelta(seconds=119), "119 s"),
        (timedelta(minutes=2), "2 min"),
        (timedelta(hours=1, minutes=59), "119 min"),
        (timedelta(hours=5), "5 h"),
        (timedelta(days=3, hours=4), "3 Tagen"),
    ],
)
def test_describe_age(age: timedelta, text: str) -> None:
    assert describe_age(age) == text


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
