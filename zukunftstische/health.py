"""The heartbeat: the bot writes when it last synced, `zt-bot health` reads it.

A file rather than a port, so that a health check works without the bot answering
anything (a container HEALTHCHECK, a cron job, a monitoring agent on the same host).
Times are wall-clock UTC: health is about real elapsed time, never the shifted testing
clock (ZT_CLOCK_OFFSET).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

HEALTH_FILE = "health.json"
DEFAULT_MAX_AGE = timedelta(minutes=5)


def health_path(data_dir: Path) -> Path:
    return data_dir / HEALTH_FILE


def write_heartbeat(data_dir: Path, *, last_sync: datetime) -> None:
    """Replace health.json atomically: a reader sees the old file or the new one, never
    half of one. Owner-only, like everything in the data directory."""
    if last_sync.tzinfo is None:
        raise ValueError("last_sync must be timezone-aware")
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    content = json.dumps({"last_sync": last_sync.astimezone(UTC).isoformat(), "pid": os.getpid()})
    # mkstemp creates the file with mode 0o600; no fsync: after a power loss a stale or
    # unreadable heartbeat only makes the check fail until the next sync rewrites it.
    handle, temp = tempfile.mkstemp(dir=data_dir, prefix=".health-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(content)
        os.chmod(temp, 0o600)  # in case the platform's mkstemp was more generous
        os.replace(temp, health_path(data_dir))
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


@dataclass
class Heartbeat:
    """Writes the heartbeat at most once per `every`: a busy sync loop returns many times a
    second, and the check only needs minutes."""

    data_dir: Path
    every: timedelta = timedelta(seconds=10)
    _last_written: datetime | None = field(default=None, init=False, repr=False)

    def beat(self, last_sync: datetime) -> bool:
        """True when the file was written."""
        if self._last_written is not None and last_sync - self._last_written < self.every:
            return False
        write_heartbeat(self.data_dir, last_sync=last_sync)
        self._last_written = last_sync
        return True


def read_heartbeat(data_dir: Path) -> datetime | None:
    """The last sync, None when the bot never wrote one; ValueError when unreadable."""
    try:
        text = health_path(data_dir).read_text("utf-8")
    except FileNotFoundError:
        return None
    try:
        moment = datetime.fromisoformat(json.loads(text)["last_sync"])
    except (ValueError, KeyError, TypeError) as err:
        raise ValueError(f"{health_path(data_dir)} ist unlesbar") from err
    if moment.tzinfo is None:
        raise ValueError(f"{health_path(data_dir)}: Zeit ohne Zeitzone")
    return moment


def describe_age(age: timedelta) -> str:
    """German, rounded down to the unit that matters: 12 s, 7 min, 5 h, 3 Tagen."""
    seconds = max(int(age.total_seconds()), 0)
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 2 * 3600:
        return f"{seconds // 60} min"
    if seconds < 2 * 86400:
        return f"{seconds // 3600} h"
    return f"{seconds // 86400} Tagen"


def check_health(
    data_dir: Path, *, now: datetime, max_age: timedelta = DEFAULT_MAX_AGE
) -> tuple[bool, str]:
    """(healthy, German message for the operator)."""
    try:
        last_sync = read_heartbeat(data_dir)
    except (OSError, ValueError) as err:
        return False, f"Statusdatei nicht lesbar: {err}"
    if last_sync is None:
        return False, f"Bot lief noch nie (keine {health_path(data_dir)})"
    age = now - last_sync
    local = last_sync.astimezone(now.tzinfo).strftime("%d.%m.%Y %H:%M:%S")
    if age < -max_age:
        # A heartbeat from the future: two clocks disagree, so the age means nothing.
        return False, f"Letzte Synchronisation liegt in der Zukunft ({local}): Uhr prüfen"
    if age > max_age:
        return False, f"keine Synchronisation seit {describe_age(age)} (zuletzt {local})"
    return True, f"Letzte Synchronisation vor {describe_age(age)}"
