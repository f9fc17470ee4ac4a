"""Integration fixtures: one real Synapse per test run, bots and scripted users on it."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.app import Bot, LeaseLost, build_bot, resolve_configured_rooms
from bot.clock import Clock
from bot.config import Config, load_config
from bot.demo.homeserver import Account, LocalSynapse, create_synapse
from bot.demo.scripted_user import ScriptedUser
from tests.council.conftest import oparl_server  # noqa: F401 (the OParl test server, a fixture)
from tests.databases import (
    BACKEND,
    create_postgres_database,
    drop_postgres_database,
    postgres_unavailable,
)

PASSWORD = "test-password-1"
# `ZT_TEST_ROOM_VERSION=10` runs the suite with old-style rooms (`!opaque:server`); by default
# rooms get the version the installed Synapse makes (12: ids without a server part).
ROOM_VERSION = os.environ.get("ZT_TEST_ROOM_VERSION") or None
BERLIN = ZoneInfo("Europe/Berlin")
# The city's day (the `city` fixture): Wednesday 10.03.2027, 10:00 in Berlin, a working
# day after the send time; the week's digest (Monday) has passed.
CITY_DAY = date(2027, 3, 10)


def new_synapse(directory: Path, *, raised_rate_limits: bool = True) -> LocalSynapse:
    """A test homeserver that makes rooms of the room version under test."""
    return create_synapse(
        directory, raised_rate_limits=raised_rate_limits, default_room_version=ROOM_VERSION
    )


@pytest.fixture(scope="session")
def synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSynapse]:
    server = new_synapse(tmp_path_factory.mktemp("synapse"))
    server.start()
    yield server
    server.stop()


@dataclass(frozen=True)
class Accounts:
    bot: Account
    coordinator: Account
    member: Account
    outsider: Account


@pytest.fixture(scope="session")
def accounts(synapse: LocalSynapse) -> Accounts:
    return Accounts(
        bot=synapse.register("zt-bot", PASSWORD),
        coordinator=synapse.register("koordination", PASSWORD),
        member=synapse.register("fachbereich", PASSWORD),
        outsider=synapse.register("gast", PASSWORD),
    )


_names = itertools.count()


class Databases:
    """The bots' databases on the backend under test: SQLite files by default, fresh
    PostgreSQL databases with ZT_TEST_DATABASE=postgresql (dropped at the end)."""

    def __init__(self) -> None:
        self.created: list[str] = []

    def section(self, directory: Path) -> str:
        """The `[database]` lines for a bot in `directory` (a restarted bot keeps its own)."""
        if BACKEND != "postgresql":
            return ""
        marker = directory / "database-url"
        if not marker.exists():
            marker.parent.mkdir(parents=True, exist_ok=True)
            url = create_postgres_database()
            self.created.append(url)
            marker.write_text(url, "utf-8")
        return f'[database]\nurl = "{marker.read_text("utf-8")}"\n'


@pytest.fixture(scope="session")
def databases() -> Iterator[Databases]:
    if BACKEND == "postgresql" and (reason := postgres_unavailable()):
        pytest.skip(reason)
    found = Databases()
    yield found
    for url in found.created:
        drop_postgres_database(url)


def write_plain_config(
    directory: Path,
    synapse: LocalSynapse,
    user_id: str,
    databases: Databases,
    *,
    matrix: str = f'password = "{PASSWORD}"',
    rest: str = "",
) -> Path:
    """A bot config for tests that start the bot themselves (as a process, on their own
    homeserver): extra `[matrix]` lines, then the database, `[bot]` and `rest`."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.toml"
    path.write_text(
        f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{user_id}"\n{matrix}\n'
        f"{databases.section(directory)}"
        f'[bot]\ndata_dir = "data"\n{rest}\n',
        "utf-8",
    )
    return path


def write_config(
    directory: Path,
    synapse: LocalSynapse,
    accounts: Accounts,
    bot: Account,
    databases: Databases,
    extra: str = "",
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.toml"
    coordinators = f'coordinators = ["{accounts.coordinator.user_id}"]'
    bot_section = extra if "[bot]" in extra else f"[bot]\n{coordinators}\n{extra}"
    path.write_text(
        f"""[matrix]
homeserver = "{synapse.url}"
user_id = "{bot.user_id}"
password = "{PASSWORD}"
device_id = "ZT{hashlib.sha1(str(directory).encode()).hexdigest()[:10].upper()}"

{databases.section(directory)}
{bot_section}
""",
        "utf-8",
    )
    return path


@dataclass
class RunningBot:
    bot: Bot
    task: asyncio.Task
    config: Config

    @property
    def user_id(self) -> str:
        return self.config.matrix.user_id

    async def stop(self) -> None:
        self.task.cancel()
        # A bot that lost its lease has ended already (test_faults: PostgreSQL restarted).
        with contextlib.suppress(asyncio.CancelledError, LeaseLost):
            await self.task

    async def revive(self, notice: float = 30) -> None:
        """After a PostgreSQL restart (which ends every bot's lease on that server): wait
        until it has noticed (its lease check runs every few seconds) and start it again,
        as its supervisor would."""
        await asyncio.wait({self.task}, timeout=notice)
        if not self.task.done():
            return
        with contextlib.suppress(LeaseLost):
            self.task.result()
        again = await start_bot(self.config, self.bot.clock)
        self.bot, self.task = again.bot, again.task


async def start_bot(config: Config, clock: Clock | None = None) -> RunningBot:
    config = await resolve_configured_rooms(config)  # as `zt-bot run` does
    bot = build_bot(config, clock)
    task = asyncio.create_task(bot.run())
    # Ready once the first sync has run (callbacks are registered right after it).
    async with asyncio.timeout(60):
        while bot.adapter.last_sync_ms == 0:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
    return RunningBot(bot, task, config)


BotFactory = Callable[..., "asyncio.Future[RunningBot]"]


@pytest_asyncio.fixture
async def bot_factory(
    tmp_path: Path, synapse: LocalSynapse, accounts: Accounts, databases: Databases
) -> AsyncIterator[Callable]:
    """Start a bot with its own account and fresh database (and optional extra config lines).

    The same `directory` again restarts the same bot (same account, database and store).
    """
    running: list[RunningBot] = []
    accounts_by_directory: dict[Path, Account] = {}

    async def factory(
        extra: str = "", directory: Path | None = None, clock: Clock | None = None
    ) -> RunningBot:
        directory = directory or tmp_path / f"bot{len(running)}"
        if directory not in accounts_by_directory:
            accounts_by_directory[directory] = synapse.register(f"zt-bot-{next(_names)}", PASSWORD)
        account = accounts_by_directory[directory]
        path = write_config(directory, synapse, accounts, account, databases, extra)
        bot = await start_bot(load_config(path), clock)
        running.append(bot)
        return bot

    yield factory
    for bot in running:
        await bot.stop()


@pytest_asyncio.fixture(scope="session")
async def shared_bot(
    tmp_path_factory: pytest.TempPathFactory,
    synapse: LocalSynapse,
    accounts: Accounts,
    databases: Databases,
) -> AsyncIterator[RunningBot]:
    directory = tmp_path_factory.mktemp("shared-bot")
    path = write_config(directory, synapse, accounts, accounts.bot, databases)
    bot = await start_bot(load_config(path))
    yield bot
    await bot.stop()


async def _user(synapse: LocalSynapse, account: Account) -> ScriptedUser:
    user = ScriptedUser(synapse.url, account)
    await user.start()
    return user


@pytest_asyncio.fixture(scope="session")
async def coordinator(synapse: LocalSynapse, accounts: Accounts) -> AsyncIterator[ScriptedUser]:
    user = await _user(synapse, accounts.coordinator)
    yield user
    await user.close()


@pytest_asyncio.fixture(scope="session")
async def member(synapse: LocalSynapse, accounts: Accounts) -> AsyncIterator[ScriptedUser]:
    user = await _user(synapse, accounts.member)
    yield user
    await user.close()


def clock_on(day: date, hour: int = 10) -> Clock:
    """A bot's clock that reads `day` at `hour` in Berlin, running on from there."""
    target = datetime(day.year, day.month, day.day, hour, tzinfo=BERLIN)
    return Clock(BERLIN, target - datetime.now(UTC))


async def team_room(bot, coordinator: ScriptedUser, name: str, *members: ScriptedUser) -> str:
    """A room of the coordinator's named `name`, with `bot` and `members` in it."""
    room_id = await coordinator.create_room(
        [bot.user_id, *(member.user_id for member in members)], name=name
    )
    await coordinator.wait_for_member(room_id, bot.user_id)
    for member in members:
        await member.client.join(room_id)
        await coordinator.wait_for_member(room_id, member.user_id)
    return room_id


@dataclass
class City:
    """A bot in a city's room layout: the coordination room it is configured with, and
    the team, Z2 and Bürgerdialog rooms a test opens beside it."""

    bot: RunningBot
    koordination: str
    coordinator: ScriptedUser

    async def room(self, name: str, *members: ScriptedUser) -> str:
        return await team_room(self.bot, self.coordinator, name, *members)

    async def theme(self, name: str, z2: str, team: str) -> str:
        """A new theme (its name made unique), created in the coordination room and bound
        to the team room `team`; its name."""
        name = unique(name)
        await self.coordinator.ask(self.koordination, f"!zt neu {name} {z2}")
        await self.coordinator.ask(team, f"!zt raum {name}")
        return name


async def with_coordination_room(
    bot_factory, coordinator: ScriptedUser, directory: Path, day: date, extra: str = ""
) -> tuple[RunningBot, str]:
    """A bot on `day` with its coordination room configured, and that room: the room
    exists, and the bot is in it, before the config names it."""
    first = await bot_factory(directory=directory, clock=clock_on(day))
    koordination = await team_room(first, coordinator, "Koordination Nachhaltigkeit")
    await first.stop()
    extra = f'[rooms]\nkoordination = "{koordination}"\n{extra}'
    return await bot_factory(extra=extra, directory=directory, clock=clock_on(day)), koordination


@pytest_asyncio.fixture
async def city(bot_factory, coordinator: ScriptedUser, tmp_path: Path) -> City:
    """A bot on CITY_DAY in a city's rooms; every reminder due today goes out at once."""
    bot, koordination = await with_coordination_room(
        bot_factory, coordinator, tmp_path / "city", CITY_DAY, '[reminders]\nsend_time = "00:00"'
    )
    return City(bot, koordination, coordinator)


@pytest_asyncio.fixture
async def room(
    shared_bot: RunningBot, coordinator: ScriptedUser, member: ScriptedUser, accounts: Accounts
) -> str:
    """A fresh team room with the coordinator, a department member and the shared bot."""
    room_id = await coordinator.create_room([accounts.bot.user_id, accounts.member.user_id])
    await coordinator.wait_for_member(room_id, accounts.bot.user_id)
    await member.client.join(room_id)
    await coordinator.wait_for_member(room_id, accounts.member.user_id)
    return room_id


async def ticked(bot: Bot, times: int = 2) -> None:
    """`times` whole ticks of the bot's engines, each begun after this call, and whatever
    they queued sent: what was due by now has gone out (or was found not due)."""
    scheduler = bot.scheduler
    for _ in range(times):
        # A tick under way began before: wait for it (a tick never waits for the lock, so
        # once it is free the next `tick()` runs in full).
        async with asyncio.timeout(60), scheduler._lock:
            pass
        await asyncio.wait_for(scheduler.tick(), 60)
    await asyncio.wait_for(bot.adapter.queue.join(), 60)


async def settled(
    running: RunningBot, user: ScriptedUser, *rooms: str, ticks: int = 2, timeout: float = 60
) -> None:
    """The probe for "that did not happen": everything the bot was to send by now is in
    `rooms`, as `user` sees them. Two whole engine ticks that began after this call, the
    send queue emptied, then a command answered in each room: the user's sync brings a
    room's events in order, so what the bot sent before that answer has arrived."""
    await ticked(running.bot, ticks)
    for room_id in rooms:
        await user.ask(room_id, "!zt hilfe", timeout=timeout)
    # The user can see an answer before the bot has read the homeserver's reply to its
    # send: wait for that too, so the queue's counts include the probes.
    await asyncio.wait_for(running.bot.adapter.queue.join(), timeout)


def unique(name: str) -> str:
    """A theme name no other test uses (the shared bot keeps its database for the run)."""
    number = next(_names)
    return f"{name} {chr(65 + number // 26 % 26)}{chr(97 + number % 26)}"
