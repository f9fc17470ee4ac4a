"""Many writers at once on a busy machine (issue 23): commands from several users, every
engine's tick (reminders, evaluation, council), calendar feeds, sync tokens and a backup,
all on one database while two processes keep the CPU busy. Nothing may fail on a lock
(`database is locked` never reaches the log), every command is answered once and every
effect happens once.

Time is a parameter: the engines tick through ten days of domain time as fast as the
machine lets them; nothing here waits for a moment to pass or measures how long anything
took. The threads start together at a barrier; the others do at least a minimum of work
and go on for as long as the engines tick, so that they meet.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import sqlite3
import subprocess
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.app import Bot, build_bot
from bot.clock import Clock
from bot.config import parse_config
from bot.council.client import OParlClient
from bot.domain.ics import CalendarLabels
from bot.engines.evaluation import EvaluationEngine
from bot.engines.reminders import ReminderEngine
from bot.engines.scheduler import ReminderScheduler
from bot.matrix.send_queue import Outgoing, txn_id_for
from bot.rendering import Renderer
from bot.store.backup import Layout, backup
from bot.store.database import retry_while_unavailable
from bot.store.outbox import Outbox
from bot.store.sync_state import SyncState
from bot.tasks import Tasks
from bot.web.feeds import CalendarFeeds
from tests.council.conftest import CONTACT, FAST, OParlTestServer
from tests.matrix_port import RecordingMatrix

LABELS = CalendarLabels.from_words(Renderer().words("calendar_words"))

BERLIN = ZoneInfo("Europe/Berlin")
# The council test system is a snapshot as of 15 June 2027.
NOW = datetime(2027, 6, 15, 9, 0, tzinfo=BERLIN)
COORDINATORS = [f"@koordination{n}:stadt.example" for n in range(4)]
KOORDINATION = "!koordination:stadt.example"
BOT_USER = "@zt-bot:stadt.example"
THEMES = [f"Thema{n}" for n in range(6)]
# Z2 of each theme: some weeks back, so that steps are due, overdue or just passed
# (reminders), Z2 lies behind (the evaluation starts by itself) and step 6 is near.
Z2_WEEKS_BACK = [0, 1, 2, 3, 5, 8]
TICKS = 40  # every six hours of domain time: ten days
# At least this much of each, and more while the engines tick (at most the second number).
COMMANDS_PER_USER = (12, 200)
FEED_READS = (30, 1000)
SYNC_SAVES = (40, 2000)
BACKUPS = (3, 50)
LOCKED = "database is locked"
GUARD = 600.0  # seconds: a guard against a hanging test, not a measurement


def team(n: int) -> str:
    return f"!team{n}:stadt.example"


def z2_room(n: int) -> str:
    """The room of the theme's Z2 participants: the evaluation after Z2 asks them."""
    return f"!z2-{n}:stadt.example"


def config_text(tmp_path: Path, database_url: str, oparl: str) -> str:
    return f"""
[matrix]
homeserver = "https://matrix.stadt.example"
user_id = "{BOT_USER}"
password = "not-used"
[database]
url = "{database_url}"
[bot]
coordinators = {COORDINATORS!r}
data_dir = "{tmp_path / "data"}"
[rooms]
koordination = "{KOORDINATION}"
[evaluation]
open_days = 2
[council]
oparl = "{oparl}"
""".replace("'", '"')


@pytest.fixture
def busy_cpu() -> Iterator[None]:
    """Two processes that keep the CPU busy for as long as the test runs."""
    spinners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for spinner in spinners:
        spinner.kill()
        spinner.wait()


@pytest.fixture
def oparl() -> Iterator[OParlTestServer]:
    server = OParlTestServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def bot(tmp_path: Path, database_url: str, oparl: OParlTestServer) -> Iterator[Bot]:
    config = parse_config(config_text(tmp_path, database_url, oparl.entry), tmp_path, environ={})
    bot = build_bot(config, Clock(config.bot.zone))
    yield bot
    bot.store.close()


class CrowdedRooms(RecordingMatrix):
    """Every room has three people and the bot; every send's transaction id is kept (a
    repeated id would be an effect twice); reminders and the council's notices go to
    `to`, confirmed by the test."""

    def __init__(self, to: Sent) -> None:
        super().__init__(user_id=BOT_USER)
        self.to = to

    def send_later(self, outgoing: Outgoing) -> None:
        self.to.reminders.append(outgoing)

    def queue_recorded(self, key: str, room_id: str, content: dict) -> None:
        self.to.notice(key)

    async def members(self, room_id: str) -> list[str]:
        people = [f"@{room_id[1:].split(':')[0]}-{n}:stadt.example" for n in range(3)]
        return [*people, BOT_USER]


@dataclass
class FixedClock:
    """The scheduler's clock, set by the test: domain time, not the machine's."""

    moment: datetime
    offset: timedelta = timedelta(0)

    def now(self) -> datetime:
        return self.moment

    def wall(self) -> datetime:
        return self.moment


@dataclass
class Sent:
    """What the engines handed to the send queue (reminders) and to the outbox (council)."""

    reminders: list[Outgoing] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)

    def notice(self, key: str) -> None:
        self.notices.append(key)
        self.unconfirmed.append(key)


def answer(bot: Bot, outbox: Outbox, text: str, sender: str, room: str, event_id: str) -> str:
    """A command as the adapter runs it: effect and reply record in one unit of work, run
    again while the database is unavailable, then confirmed as sent."""

    def once() -> str:
        with outbox.unit_of_work():
            outcome = bot.router.handle(f"!zt {text}", sender=sender, room_id=room, now=NOW)
            assert outcome is not None
            assert outbox.record(event_id, room, {"body": outcome.reply.body}, NOW)
            return outcome.result

    result = retry_while_unavailable(once, "answering a command")
    retry_while_unavailable(lambda: outbox.sent(event_id), "confirming a reply")
    return result


def command(user: int, n: int) -> tuple[str, str]:
    """The user's n-th command and its room: ideas (one stored per command), reads, and
    once step 6 of the user's own theme marked done (the council decided: its internal
    evaluation is offered)."""
    theme = THEMES[(user + n) % len(THEMES)]
    if n == 2:
        return f"erledigt {THEMES[user]} 6 trotzdem", team(user)
    said = (
        f"kvp {theme} Idee {user}-{n}",
        f"status {theme}",
        "ratssitzung",
        f"kvp {theme} Noch eine Idee {user}-{n}",
    )
    return said[n % len(said)], KOORDINATION


def rounds(least_and_most: tuple[int, int], done: threading.Event) -> Iterator[int]:
    """0, 1, 2 …: at least the first number, then until `done` is set or the second."""
    least, most = least_and_most
    for n in range(most):
        if n >= least and done.is_set():
            return
        yield n


def set_up(bot: Bot) -> list[str]:
    """The themes with their team and Z2 rooms; the feed tokens."""
    coordinator = COORDINATORS[0]
    for n, name in enumerate(THEMES):
        z2 = (NOW - timedelta(weeks=Z2_WEEKS_BACK[n])).date()
        for text, room in ((f"neu {name} {z2:%d.%m.%Y}", team(n)), (f"raum {name} z2", z2_room(n))):
            outcome = bot.router.handle(f"!zt {text}", sender=coordinator, room_id=room, now=NOW)
            assert outcome is not None and outcome.result == "ok", outcome
    feeds = bot.router.services.feeds
    tokens = [feeds.token(None, actor=coordinator, now=NOW)]
    tokens += [feeds.token(n + 1, actor=coordinator, now=NOW) for n in range(3)]
    return tokens


class Workload:
    """The threads, what they said and sent, and what went wrong."""

    def __init__(self, bot: Bot, tmp_path: Path, tokens: list[str]) -> None:
        self.bot = bot
        self.tmp_path = tmp_path
        self.tokens = tokens
        self.outbox = Outbox(bot.store)
        self.sent = Sent()
        self.transport = CrowdedRooms(self.sent)
        self.ticked = threading.Event()  # the engines are through the days
        self.said: dict[str, str] = {}  # command event id: text
        self.answers: dict[str, list[str]] = collections.defaultdict(list)
        self.last_sync_token = ""
        self.errors: list[str] = []
        self.backups: list[Path] = []

    def run(self, jobs: list[Callable[[], None]]) -> None:
        start = threading.Barrier(len(jobs))

        def guarded(job: Callable[[], None]) -> None:
            start.wait(timeout=GUARD)
            try:
                job()
            except Exception:  # shown by the test's assertion
                self.errors.append(traceback.format_exc())

        threads = [threading.Thread(target=guarded, args=(job,)) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=GUARD)
        assert not any(thread.is_alive() for thread in threads), "a worker hangs"

    def jobs(self) -> list[Callable[[], None]]:
        users = [lambda user=user: self.user(user) for user in range(len(COORDINATORS))]
        return [*users, self.engines, self.feeds, self.sync_tokens, self.backup]

    def user(self, user: int) -> None:
        for n in rounds(COMMANDS_PER_USER, self.ticked):
            text, room = command(user, n)
            event_id = f"$cmd-{user}-{n}"
            self.said[event_id] = text
            result = answer(self.bot, self.outbox, text, COORDINATORS[user], room, event_id)
            self.answers[event_id].append(result)

    def engines(self) -> None:
        try:
            asyncio.run(self._tick_through_the_days())
        finally:
            self.ticked.set()

    async def _tick_through_the_days(self) -> None:
        scheduler, council = self._scheduler()
        try:
            for tick in range(TICKS):
                scheduler.clock.moment = NOW + timedelta(hours=6 * tick)  # type: ignore[attr-defined]
                await scheduler.tick()
                await self._confirm()
            if council.reading:  # a council read still under way: let it finish
                assert council._reading is not None
                await council._reading
            await scheduler.tick()  # what the last changes made due
            await self._confirm()
        finally:
            await council.aclose()

    def _scheduler(self) -> tuple[ReminderScheduler, Any]:
        """The engines as `build_bot` wires them, sending to fakes instead of Matrix."""
        bot, services = self.bot, self.bot.router.services
        matrix = self.transport
        reminders = ReminderEngine(
            bot.config, bot.store, services.renderer, services.calendar, matrix=matrix
        )
        evaluation = EvaluationEngine(
            bot.config,
            bot.store,
            services.evaluations,
            services.renderer,
            services.calendar,
            matrix=matrix,
        )
        council = bot.council
        assert council is not None
        council.client = OParlClient(contact=CONTACT, limits=FAST, trust_env=False)
        council.matrix = matrix
        engines = [reminders, evaluation, council]
        # The bot's wake-ups after a council read: here the next tick comes anyway.
        scheduler = ReminderScheduler(engines, FixedClock(NOW), tasks=Tasks())  # type: ignore[arg-type]
        return scheduler, council

    async def _confirm(self) -> None:
        """The homeserver took what was sent: the sent-log and the outbox learn of it."""
        while self.sent.reminders:
            outgoing = self.sent.reminders.pop(0)
            assert outgoing.on_sent is not None
            await outgoing.on_sent(f"$reminder-{outgoing.txn_id}")
        while self.sent.unconfirmed:
            await asyncio.to_thread(self.outbox.sent, self.sent.unconfirmed.pop(0))

    def feeds(self) -> None:
        services = self.bot.router.services
        feeds = CalendarFeeds(
            services.store,
            services.feeds,
            lead_names={},
            labels=LABELS,
            all_themes_name="Alle Themen",
        )
        tokens = self.tokens
        for n in rounds(FEED_READS, self.ticked):
            assert feeds.build(tokens[n % len(tokens)]) is not None

    def sync_tokens(self) -> None:
        sync = SyncState(self.bot.store)
        for n in rounds(SYNC_SAVES, self.ticked):
            self.last_sync_token = f"s{n}"
            sync.save(BOT_USER, self.last_sync_token, NOW)

    def backup(self) -> None:
        config = self.bot.config
        layout = Layout(config.database_url, config.bot.data_dir, config.matrix.store_path)
        if layout.sqlite_file is None:
            return  # PostgreSQL: pg_dump, another process; nothing of the bot's to race
        for n in rounds(BACKUPS, self.ticked):
            target = self.tmp_path / f"backup{n}"
            backup(layout, target, now=NOW)
            self.backups.append(target)


def locked_in(records: list[logging.LogRecord], errors: list[str]) -> int:
    """How often `database is locked` reached the log or a worker."""
    logged = sum(
        LOCKED in record.getMessage() or LOCKED in (record.exc_text or "") for record in records
    )
    return logged + sum(LOCKED in error for error in errors)


def rows(bot: Bot, query: str) -> list[tuple]:
    engine = sa.create_engine(bot.config.database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(sa.text(query))]
    finally:
        engine.dispose()


def test_many_writers_on_a_busy_machine_never_fail_on_a_lock(
    bot: Bot, tmp_path: Path, oparl: OParlTestServer, busy_cpu: None, caplog
) -> None:
    caplog.set_level(logging.INFO)
    work = Workload(bot, tmp_path, set_up(bot))

    work.run(work.jobs())

    # Rendered with exception texts, so that a lock error inside a traceback counts.
    for record in caplog.records:
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info))
    problems = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    locked = locked_in(caplog.records, work.errors)
    assert locked == 0, f"{locked} times {LOCKED!r}: {problems} {work.errors}"
    assert work.errors == []
    assert problems == []

    # Every command answered once, none failed.
    said = work.said
    assert {event: results for event, results in work.answers.items()} == {
        event: ["ok"] for event in said
    }
    handled = rows(bot, "SELECT event_id, reply_json FROM handled_event")
    commands = [(event, reply) for event, reply in handled if event.startswith("$cmd-")]
    assert sorted(event for event, _ in commands) == sorted(said)
    assert all(reply is None for _, reply in commands)  # every reply confirmed as sent
    # Every idea stored once.
    ideas = sorted(text for (text,) in rows(bot, "SELECT text FROM idea"))
    assert ideas == sorted(
        text.split(" ", 2)[2] for text in said.values() if text.startswith("kvp")
    )
    # Step 6 of each user's theme done once; its internal evaluation offered once.
    marked = rows(bot, "SELECT theme_id, detail FROM history WHERE action = 'done'")
    done_by_hand = collections.Counter(theme for theme, detail in marked if '"6"' in detail)
    assert done_by_hand == {n + 1: 1 for n in range(len(COORDINATORS))}
    offers = rows(bot, "SELECT theme_id, kind FROM evaluation_offer WHERE kind = 'intern'")
    assert sorted(offers) == [(n + 1, "intern") for n in range(len(COORDINATORS))]
    # Evaluations, polls, reminders and council notices: each sent once.
    assert len(work.transport.txn_ids) == len(set(work.transport.txn_ids))
    for theme_id, _ in offers:
        offer = txn_id_for(f"evaluation-offer/{theme_id}/intern/{KOORDINATION}", "offer")
        assert work.transport.txn_ids.count(offer) == 1
    started = rows(bot, "SELECT status FROM evaluation WHERE auto_started")
    assert started and all(status in ("open", "closed") for (status,) in started)
    reminders = rows(bot, "SELECT key, status FROM reminder_log")
    assert reminders and all(status == "sent" for _, status in reminders)
    assert len(work.sent.notices) == len(set(work.sent.notices))
    assert rows(bot, "SELECT token FROM sync_token") == [(work.last_sync_token,)]

    # Each backup is a consistent copy of the database as it was at that moment.
    for target in work.backups:
        with sqlite3.connect(target / "zukunftstische.sqlite3") as copy:
            assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert copy.execute("SELECT count(*) FROM theme").fetchone() == (len(THEMES),)
