"""Joins that never give up (issue 25): every 429 is waited out for as long as it names, an
unreachable homeserver is waited for, only a refusal for good ends a join; a configured
room that refuses the bot is told once, with the reason; health and metrics show the rooms
still being joined."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.health import RoomNote, Snapshot, check_health, room_notes, say, write_snapshot
from bot.matrix.joins import JoinAnswer, Joiner, Refused
from bot.metrics import BotMetrics, Readings
from bot.rendering import Renderer
from bot.tasks import Tasks

NOW = datetime(2027, 4, 13, 9, 0, tzinfo=UTC)
LIMITED = JoinAnswer(429, "M_LIMIT_EXCEEDED", "Too Many Requests", 1200)
FORBIDDEN = JoinAnswer(403, "M_FORBIDDEN", "You are not invited to this room.")


def scripted(answers: Iterable[JoinAnswer]):  # type: ignore[no-untyped-def]
    found = list(answers)
    asked: list[str] = []

    async def request(room_id: str) -> JoinAnswer:
        asked.append(room_id)
        return found.pop(0)

    return request, asked


def joiner_for(answers: Iterable[JoinAnswer], waits: list[float], **options) -> Joiner:  # type: ignore[no-untyped-def]
    request, _ = scripted(answers)

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    return Joiner(request, clock=lambda: NOW, spawn=Tasks().spawn, sleep=sleep, **options)


async def test_a_join_waits_out_every_429_however_many() -> None:
    waits: list[float] = []
    joiner = joiner_for([LIMITED] * 12 + [JoinAnswer(200)], waits)
    seen: list[int] = []

    async def sleep(seconds: float) -> None:  # while it waits, health sees it
        seen.append(joiner.pending["!z2"].attempts)
        waits.append(seconds)

    joiner._sleep = sleep  # type: ignore[assignment]
    assert await joiner.join("!z2") is True
    assert waits == [1.2] * 12  # retry_after_ms, never a guess (and more than five times)
    assert seen == list(range(1, 13))
    assert joiner.rate_limited == 12
    assert joiner.pending == {} and joiner.refused == {}


async def test_an_unreachable_homeserver_is_waited_for_with_growing_pauses() -> None:
    waits: list[float] = []
    down = JoinAnswer(0, error="ClientConnectorError: refused")
    joiner = joiner_for([down] * 8 + [JoinAnswer(502), JoinAnswer(200)], waits)
    assert await joiner.join("!team") is True
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]


async def test_a_configured_room_that_refuses_is_told_once_with_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    waits: list[float] = []
    told: list[Refused] = []
    configured = {"!buergerdialog": "rooms.buergerdialog"}
    joiner = joiner_for([LIMITED, FORBIDDEN, FORBIDDEN], waits, configured=lambda: configured)
    joiner.on_refused = lambda refused, _answer: told.append(refused)
    caplog.set_level(logging.INFO)
    assert await joiner.join("!buergerdialog") is False
    assert await joiner.join("!buergerdialog") is False  # asked again (a new invite): same
    assert told == [
        Refused(
            "!buergerdialog", "rooms.buergerdialog", "M_FORBIDDEN You are not invited to this room."
        )
    ]
    assert caplog.text.count("cannot join room !buergerdialog") == 1
    assert (
        "rooms.buergerdialog: the bot cannot join room !buergerdialog (M_FORBIDDEN" in caplog.text
    )
    assert list(joiner.refused) == ["!buergerdialog"]


async def test_a_withdrawn_invite_ends_the_join() -> None:
    release = asyncio.Event()

    async def request(_room_id: str) -> JoinAnswer:
        return LIMITED

    async def sleep(_seconds: float) -> None:
        await release.wait()

    told: list[Refused] = []
    joiner = Joiner(
        request,
        clock=lambda: NOW,
        spawn=Tasks().spawn,
        sleep=sleep,
        configured=lambda: {"!k": "rooms.koordination"},
    )
    joiner.on_refused = lambda refused, _answer: told.append(refused)
    joiner.start("!k")
    joiner.start("!k")  # a second invite event for the same room: one join
    await asyncio.sleep(0.01)
    assert list(joiner.pending) == ["!k"]
    joiner.withdrawn("!k")
    await asyncio.sleep(0.01)
    assert joiner.pending == {}
    assert told == [Refused("!k", "rooms.koordination", "M_FORBIDDEN the invite was withdrawn")]


def test_health_shows_the_rooms_still_being_joined(tmp_path: Path) -> None:
    snapshot = Snapshot(
        last_sync=NOW,
        written_at=NOW,
        joining=(
            RoomNote(
                "!z2", None, NOW - timedelta(minutes=3), 9, "M_LIMIT_EXCEEDED Too Many Requests"
            ),
        ),
        not_joined=(RoomNote("!bd", "rooms.buergerdialog", reason="not invited"),),
    )
    write_snapshot(tmp_path, snapshot)
    healthy, reasons = check_health(tmp_path, now=NOW)
    message = say(reasons, Renderer())
    assert healthy  # the bot works; it keeps trying (a restart would not help)
    assert message == (
        "Letzte Synchronisation vor 0 s; tritt 1 Raum noch bei: !z2 (seit 3 min, 9 Versuche, "
        "zuletzt: M_LIMIT_EXCEEDED Too Many Requests); rooms.buergerdialog: kann Raum !bd "
        "nicht beitreten (nicht eingeladen)"
    )
    assert room_notes(Snapshot.from_json(snapshot.to_json()), NOW) == room_notes(snapshot, NOW)


def test_metrics_show_the_rooms_still_being_joined() -> None:
    metrics = BotMetrics()
    metrics.watch(
        lambda: Readings(
            replies_sent=0,
            reminders_sent=0,
            rate_limited=0,
            reminders_pending=0,
            queue_depth=0,
            queue_oldest_age=0,
            sync_lag=1,
            joining={"!z2:localhost": 180.0},
            join_rate_limited=9,
            rooms_not_joined=1,
            send_spacing=5.1,
        )
    )
    text = metrics.exposition()[0].decode()
    assert "zt_rooms_joining 1.0" in text
    assert 'zt_room_join_pending_seconds{room="!z2:localhost"} 180.0' in text
    assert "zt_join_rate_limited_total 9.0" in text
    assert "zt_configured_rooms_not_joined 1.0" in text
    assert "zt_send_spacing_seconds 5.1" in text
