"""Health that means "works": the bot writes what it is doing, `zt-bot health` (and the
optional `/healthz`) judges it.

The bot writes a small file every few seconds, whatever else it does: when it last
synced, how long the oldest message has been waiting in the send queue and when the queue
last got anything out, and when the reminder engine last ran. A file rather than a port,
so that a health check works without the bot answering anything (a container
HEALTHCHECK, a cron job, a monitoring agent on the same host). Times are wall-clock UTC:
health is about real elapsed time, never the shifted testing clock (ZT_CLOCK_OFFSET).

What health finds is said as `Reason`s, codes and values: the words are the blocks of
templates/<lang>/health.j2, rendered by `zt-bot health` and `/healthz` (`say`).
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.domain.sentences import CodedError, Sentences

HEALTH_FILE = "health.json"
DEFAULT_MAX_AGE = timedelta(minutes=5)
# The file is rewritten this often; older than STALE_FILE and the bot is gone or stuck.
WRITE_EVERY = timedelta(seconds=10)
STALE_FILE = timedelta(minutes=2)
DEFAULT_QUEUE_STUCK_AFTER = timedelta(minutes=10)
# The reminder engine ticks every `tick_every`; it is late after twice that and this.
TICK_GRACE = timedelta(minutes=5)


ACTIVE = "active"
STANDBY = "standby"


@dataclass(frozen=True)
class Reason:
    """One thing health says: a block of templates/<lang>/health.j2 and its values
    (ages in whole seconds, moments as local datetimes)."""

    code: str
    values: dict[str, Any] = field(default_factory=dict)

    def text(self, words: Sentences) -> str:
        return words.sentence("health", self.code, **self.values).body


def say(reasons: Iterable[Reason], words: Sentences, separator: str = "; ") -> str:
    """The reasons in words, in one line (`zt-bot health`) or one per line (`/healthz`)."""
    return separator.join(reason.text(words) for reason in reasons)


class SnapshotUnreadable(CodedError, ValueError):
    """health.json cannot be read as a snapshot; `code` says why (health.j2)."""

    template = "health"


class _NaiveTime(ValueError):
    """A time in health.json without a zone."""


@dataclass(frozen=True)
class RoomNote:
    """A room the bot is still trying to join (since when, how often, the last failure),
    or a configured room it cannot join (why)."""

    room_id: str
    key: str | None = None  # rooms.koordination, … for a configured room
    since: datetime | None = None
    attempts: int = 0
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["since"] = self.since.astimezone(UTC).isoformat() if self.since else None
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RoomNote:
        return cls(
            room_id=str(data["room_id"]),
            key=data.get("key"),
            since=_moment(data.get("since")),
            attempts=int(data.get("attempts", 0)),
            reason=str(data.get("reason", "")),
        )


@dataclass(frozen=True)
class Snapshot:
    """What the bot is doing, as written to health.json (all times aware, UTC)."""

    last_sync: datetime | None
    written_at: datetime | None = None
    queue_depth: int = 0
    queue_oldest_since: datetime | None = None  # the oldest item waiting, queued at
    queue_last_progress: datetime | None = None  # the last item sent or refused, at
    last_tick: datetime | None = None  # the reminder engine's last run
    tick_every: timedelta | None = None
    # "active", or "standby": another instance holds the lease, this one waits (since).
    role: str = ACTIVE
    standby_since: datetime | None = None
    # Rooms the bot is still trying to join (429s waited out), configured rooms it cannot.
    joining: tuple[RoomNote, ...] = ()
    not_joined: tuple[RoomNote, ...] = ()

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.astimezone(UTC).isoformat()
            elif isinstance(value, timedelta):
                data[key] = value.total_seconds()
        data["joining"] = [note.to_dict() for note in self.joining]
        data["not_joined"] = [note.to_dict() for note in self.not_joined]
        data["pid"] = os.getpid()
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> Snapshot:
        data = json.loads(text)
        names = ("last_sync", "written_at", "last_tick", "standby_since")
        times = {k: _moment(data.get(k)) for k in names}
        queue = {k: _moment(data.get(k)) for k in ("queue_oldest_since", "queue_last_progress")}
        every = data.get("tick_every")
        return cls(
            **times,
            **queue,
            queue_depth=int(data.get("queue_depth", 0)),
            role=STANDBY if data.get("role") == STANDBY else ACTIVE,
            tick_every=timedelta(seconds=float(every)) if every is not None else None,
            joining=tuple(RoomNote.from_dict(d) for d in data.get("joining") or ()),
            not_joined=tuple(RoomNote.from_dict(d) for d in data.get("not_joined") or ()),
        )


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise _NaiveTime(value)
    return moment


def health_path(data_dir: Path) -> Path:
    return data_dir / HEALTH_FILE


def write_snapshot(data_dir: Path, snapshot: Snapshot) -> None:
    """Replace health.json atomically: a reader sees the old file or the new one, never
    half of one. Owner-only, like everything in the data directory."""
    for moment in (snapshot.last_sync, snapshot.written_at):
        if moment is not None and moment.tzinfo is None:
            raise ValueError("health times must be timezone-aware")
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    # mkstemp creates the file with mode 0o600; no fsync: after a power loss a stale or
    # unreadable file only makes the check fail until the bot writes the next one.
    handle, temp = tempfile.mkstemp(dir=data_dir, prefix=".health-", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as file:
            file.write(snapshot.to_json())
        os.chmod(temp, 0o600)  # in case the platform's mkstemp was more generous
        os.replace(temp, health_path(data_dir))
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def write_heartbeat(data_dir: Path, *, last_sync: datetime) -> None:
    """A snapshot that says only when the bot last synced (what older versions wrote)."""
    write_snapshot(data_dir, Snapshot(last_sync=last_sync))


def read_snapshot(data_dir: Path) -> Snapshot | None:
    """The last snapshot, None when the bot never wrote one; ValueError when unreadable."""
    try:
        text = health_path(data_dir).read_text("utf-8")
    except FileNotFoundError:
        return None
    path = health_path(data_dir)
    try:
        snapshot = Snapshot.from_json(text)
    except _NaiveTime as err:
        raise SnapshotUnreadable("naive_time", path=path) from err
    except (ValueError, KeyError, TypeError) as err:
        raise SnapshotUnreadable("unreadable", path=path, error=str(err)) from err
    if snapshot.last_sync is None and snapshot.written_at is None:
        raise SnapshotUnreadable("no_time", path=path)
    return snapshot


def read_heartbeat(data_dir: Path) -> datetime | None:
    """When the bot last synced, None when it never wrote a snapshot."""
    snapshot = read_snapshot(data_dir)
    return None if snapshot is None else snapshot.last_sync


def _seconds(age: timedelta) -> int:
    """An age in whole seconds, never negative: the templates' `age` macro (_health.j2)
    rounds it down to the unit that matters (12 s, 7 min, 5 h, 3 Tagen)."""
    return max(int(age.total_seconds()), 0)


@dataclass(frozen=True)
class Limits:
    sync_max_age: timedelta = DEFAULT_MAX_AGE
    queue_stuck_after: timedelta = DEFAULT_QUEUE_STUCK_AFTER


def problems(snapshot: Snapshot, now: datetime, limits: Limits = Limits()) -> list[Reason]:
    """Why the bot does not work, one reason each; empty when it works. Pure."""
    found = []
    if snapshot.written_at is not None and now - snapshot.written_at > STALE_FILE:
        found.append(
            Reason(
                "stale_file",
                {
                    "seconds": _seconds(now - snapshot.written_at),
                    "at": snapshot.written_at.astimezone(now.tzinfo),
                },
            )
        )
    if snapshot.role == STANDBY:
        return found  # it neither syncs nor sends: another instance does
    found += _sync_problems(snapshot, now, limits)
    found += _queue_problems(snapshot, now, limits)
    found += _tick_problems(snapshot, now)
    return found


def _sync_problems(snapshot: Snapshot, now: datetime, limits: Limits) -> list[Reason]:
    if snapshot.last_sync is None:
        return [Reason("never_synced")]
    age = now - snapshot.last_sync
    at = snapshot.last_sync.astimezone(now.tzinfo)
    if age < -limits.sync_max_age:
        # From the future: two clocks disagree, so the age means nothing.
        return [Reason("sync_in_future", {"at": at})]
    if age > limits.sync_max_age:
        return [Reason("sync_stale", {"seconds": _seconds(age), "at": at})]
    return []


def _queue_problems(snapshot: Snapshot, now: datetime, limits: Limits) -> list[Reason]:
    oldest = snapshot.queue_oldest_since
    if not snapshot.queue_depth or oldest is None:
        return []
    progress = snapshot.queue_last_progress
    waited = now - oldest
    stalled = progress is None or now - progress > limits.queue_stuck_after
    if waited <= limits.queue_stuck_after or not stalled:
        return []
    return [Reason("queue_stuck", {"depth": snapshot.queue_depth, "seconds": _seconds(waited)})]


def _tick_problems(snapshot: Snapshot, now: datetime) -> list[Reason]:
    if snapshot.last_tick is None or snapshot.tick_every is None:
        return []
    late = now - snapshot.last_tick
    if late <= 2 * snapshot.tick_every + TICK_GRACE:
        return []
    return [
        Reason("ticks_late", {"seconds": _seconds(late), "every": _seconds(snapshot.tick_every)})
    ]


def room_notes(snapshot: Snapshot, now: datetime) -> list[Reason]:
    """What the operator should know of the bot's rooms, one reason each: rooms it is
    still joining (all in one), configured rooms it cannot join. Not a failure of health
    (a restart would not help); the bot keeps trying, or waits for a new invite."""
    if snapshot.role == STANDBY:
        return []
    notes = []
    if snapshot.joining:
        rooms = [_joining(note, now) for note in snapshot.joining]
        notes.append(Reason("joining", {"rooms": rooms}))
    for note in snapshot.not_joined:
        values = {"key": note.key, "room_id": note.room_id, "reason": note.reason}
        notes.append(Reason("not_joined", values))
    return notes


def _joining(note: RoomNote, now: datetime) -> dict[str, Any]:
    since = None if note.since is None else _seconds(now - note.since)
    return {**asdict(note), "since": since}


def check_health(
    data_dir: Path,
    *,
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_AGE,
    limits: Limits | None = None,
) -> tuple[bool, list[Reason]]:
    """(healthy, what to tell the operator: `say` it)."""
    limits = limits or Limits(sync_max_age=max_age)
    try:
        snapshot = read_snapshot(data_dir)
    except SnapshotUnreadable as err:
        return False, [Reason("file_unreadable", {"cause": err.code, **err.values})]
    except (OSError, ValueError) as err:  # e.g. not UTF-8
        return False, [Reason("file_unreadable", {"cause": "error", "error": str(err)})]
    if snapshot is None:
        return False, [Reason("never_ran", {"path": health_path(data_dir)})]
    found = problems(snapshot, now, limits)
    notes = room_notes(snapshot, now)
    if found:
        return False, [*found, *notes]
    if snapshot.role == STANDBY:
        return True, [standby_reason(snapshot, now)]
    assert snapshot.last_sync is not None
    return True, [Reason("synced", {"seconds": _seconds(now - snapshot.last_sync)}), *notes]


def standby_reason(snapshot: Snapshot, now: datetime) -> Reason:
    since = snapshot.standby_since or snapshot.written_at or now
    return Reason("standby", {"seconds": _seconds(now - since)})


def active_elsewhere(data_dir: Path, now: datetime) -> bool:
    """health.json holds a fresh snapshot of an active instance (a data directory shared
    with it): a standby then leaves the file to it."""
    try:
        snapshot = read_snapshot(data_dir)
    except (OSError, ValueError):
        return False
    if snapshot is None or snapshot.role != ACTIVE or snapshot.written_at is None:
        return False
    return now - snapshot.written_at <= STALE_FILE


@dataclass
class HealthReporter:
    """Writes the snapshot every WRITE_EVERY, whether the sync runs or not (a supervised
    task of the bot)."""

    data_dir: Path
    snapshot: Callable[[], Snapshot]
    every: timedelta = WRITE_EVERY
    sleep: Callable[[float], Any] = field(default=asyncio.sleep, repr=False)

    async def run(self) -> None:
        while True:
            snapshot = self.snapshot()
            written = snapshot.written_at
            # A standby never overwrites the snapshot of the instance that works.
            if not (
                snapshot.role == STANDBY
                and written is not None
                and active_elsewhere(self.data_dir, written)
            ):
                write_snapshot(self.data_dir, snapshot)
            await self.sleep(self.every.total_seconds())
