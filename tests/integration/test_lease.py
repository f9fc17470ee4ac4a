"""Never two active instances: two bot processes against one PostgreSQL database and the
test Synapse, sharing their key store and data directory as a rolling update does. The
second waits as standby; it takes over when the first is killed (SIGKILL), loses its
lease connection, or is stopped (SIGTERM), and answers what came meanwhile exactly once.
On SQLite a second instance refuses to start.

The takeover times are printed (`pytest -s`), never asserted beyond the 30 s promise.
"""

from __future__ import annotations

import asyncio
import collections
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
import sqlalchemy as sa

from bot.cli import EXIT_ALREADY_RUNNING, EXIT_LEASE_LOST
from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from bot.failpoints import ENV_FAILPOINTS
from bot.store.lease import APPLICATION_NAME
from tests.databases import create_postgres_database, drop_postgres_database, postgres_unavailable
from tests.integration.conftest import PASSWORD, Accounts
from tests.integration.test_reminder_delivery import keys_in, seed_themes, sent_log, settle

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
TAKEOVER_LIMIT = 30.0


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if reason := postgres_unavailable():
        pytest.skip(reason)
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Instance:
    """One `zt-bot run` process of the pair (its own config: health port, log)."""

    name: str
    config: Path
    log: Path
    port: int
    process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "ZT_MATRIX_PASSWORD": PASSWORD}
        env.pop(ENV_FAILPOINTS, None)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def text(self) -> str:
        return self.log.read_text("utf-8", errors="replace")

    async def wait_for_log(self, needle: str, timeout: float = 60) -> float:
        """Seconds until `needle` shows in the log (counting occurrences already there)."""
        started = time.monotonic()
        async with asyncio.timeout(timeout):
            while needle not in self.text():
                assert self.process is not None
                if self.process.poll() is not None:
                    raise AssertionError(f"{self.name} ended: {self.text()[-3000:]}")
                await asyncio.sleep(0.1)
        return time.monotonic() - started

    async def wait(self, timeout: float = 30) -> int:
        assert self.process is not None
        return await asyncio.to_thread(self.process.wait, timeout)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    async def get(self, path: str, timeout: float = 60) -> str:
        """The answer at `path`; an instance still starting (its HTTP side not yet bound,
        which on a busy machine can be after the other instance sent a burst) is asked
        again until it answers."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.get(f"http://127.0.0.1:{self.port}{path}") as response,
                ):
                    return await response.text()
            except aiohttp.ClientConnectorError:
                if loop.time() > deadline:
                    raise
                await asyncio.sleep(0.2)

    async def healthz(self) -> tuple[int, str]:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{self.port}/healthz") as response,
        ):
            return response.status, await response.text()


def pair(
    directory: Path,
    synapse: LocalSynapse,
    user_id: str,
    coordinator: str,
    url: str | None,
    extra: str = "",
) -> tuple[Instance, Instance]:
    """Two instances of one bot: same account, device, database, key store, data dir."""
    shared = directory / "shared"
    database = f'[database]\nurl = "{url}"\n' if url else ""
    instances = []
    for name in ("a", "b"):
        port = free_port()
        config = directory / name / "config.toml"
        config.parent.mkdir(parents=True)
        config.write_text(
            f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{user_id}"\n'
            f'device_id = "ZTLEASE"\nstore_path = "{shared / "store"}"\n'
            f"{database}"
            f'[bot]\ndata_dir = "{shared / "data"}"\ncoordinators = ["{coordinator}"]\n'
            f'[health]\nlisten = "127.0.0.1:{port}"\n{extra}',
            "utf-8",
        )
        instances.append(Instance(name, config, directory / name / "bot.log", port))
    return instances[0], instances[1]


def replies_to(user: ScriptedUser, event_id: str) -> list[str]:
    return [
        r.body
        for r in user.received
        if r.content.get("content", {}).get("m.relates_to", {}).get("m.in_reply_to", {})
        .get("event_id") == event_id
    ]  # fmt: skip


async def answered_once(user: ScriptedUser, room_id: str, event_id: str, timeout: float) -> float:
    """When the reply came (time.monotonic()); then a command answered after it, before
    which a second copy would have come (one queue, answers in order), and none did."""
    await user.wait_until(lambda: bool(replies_to(user, event_id)), timeout=timeout)
    answered = time.monotonic()
    await user.ask(room_id, "!zt hilfe", timeout=60)
    assert len(replies_to(user, event_id)) == 1, replies_to(user, event_id)
    return answered


def scalar(url: str, query: str, **params: object) -> object:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(sa.text(query), params).scalar()
    finally:
        engine.dispose()


def end_lease_session(url: str) -> int:
    """Kill the server session that holds the lease (a broken connection, as a network
    or database failover would); how many were ended."""
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            return len(
                connection.execute(
                    sa.text(
                        "SELECT pg_terminate_backend(a.pid) FROM pg_stat_activity a "
                        "JOIN pg_locks l ON l.pid = a.pid AND l.locktype = 'advisory' "
                        "AND l.granted WHERE a.application_name = :name "
                        "AND a.datname = current_database()"
                    ),
                    {"name": APPLICATION_NAME},
                ).all()
            )
    finally:
        engine.dispose()


async def started_pair(
    tmp_path: Path,
    synapse: LocalSynapse,
    accounts: Accounts,
    coordinator: ScriptedUser,
    url: str,
    account: str,
) -> tuple[Instance, Instance, str]:
    """A active (it joined the room and answers), B waiting as standby."""
    bot = synapse.register(account, PASSWORD)
    a, b = pair(tmp_path, synapse, bot.user_id, accounts.coordinator.user_id, url)
    room_id = await coordinator.create_room([bot.user_id], name="Bereitschaft")
    a.start()
    await coordinator.wait_for_member(room_id, bot.user_id, timeout=60)
    created = await coordinator.send(room_id, "!zt neu Wasser KW 20/2027")
    await answered_once(coordinator, room_id, created, timeout=60)
    b.start()
    await b.wait_for_log("standby: another instance is active")
    status, body = await b.healthz()
    assert status == 200 and body.startswith("standby"), (status, body)
    assert (await a.healthz())[1].startswith("ok")
    assert "zt_active 0.0" in await b.get("/metrics")
    assert "zt_active 1.0" in await a.get("/metrics")
    connections = scalar(
        url, "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
    )
    print(
        f"\nRSS active {rss_mib(a):.0f} MiB, standby {rss_mib(b):.0f} MiB; connections to "
        f"the database (both instances and this query): {connections}"
    )
    return a, b, room_id


def rss_mib(instance: Instance) -> float:
    """The process's resident memory (informational, printed)."""
    assert instance.process is not None
    status = Path(f"/proc/{instance.process.pid}/status").read_text("utf-8")
    found = next((line for line in status.splitlines() if line.startswith("VmRSS:")), "0 0")
    return int(found.split()[1]) / 1024


async def test_the_standby_takes_over_after_sigkill_and_after_a_lost_lease(
    synapse: LocalSynapse,
    accounts: Accounts,
    coordinator: ScriptedUser,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    a, b, room_id = await started_pair(
        tmp_path, synapse, accounts, coordinator, postgres_url, "zt-lease-kill"
    )
    try:
        assert "standby" not in a.text() and "lease taken" in a.text()
        # SIGKILL the active one; a command comes meanwhile.
        killed = time.monotonic()
        assert a.process is not None
        a.process.kill()
        meanwhile = await coordinator.send(room_id, "!zt kvp Wasser Früher einladen")
        took = await answered_once(coordinator, room_id, meanwhile, TAKEOVER_LIMIT) - killed
        print(f"\nSIGKILL of the active instance → first answer of the standby: {took:.1f} s")
        assert took <= TAKEOVER_LIMIT
        assert "lease taken after" in b.text()
        assert scalar(postgres_url, "SELECT count(*) FROM idea") == 1
        assert (
            scalar(
                postgres_url, "SELECT count(*) FROM handled_event WHERE event_id = :e", e=meanwhile
            )
            == 1
        )
        # The killed one comes back (its supervisor restarts it): now it is the standby.
        await a.wait()
        a.start()
        await a.wait_for_log("standby: another instance is active")
        # B's lease connection breaks: B ends (non-zero), A takes over.
        lost = time.monotonic()
        assert end_lease_session(postgres_url) == 1
        assert await b.wait(30) == EXIT_LEASE_LOST
        print(
            f"lease connection killed → the active instance ended: {time.monotonic() - lost:.1f} s"
        )
        after = await coordinator.send(room_id, "!zt kvp Wasser Protokoll schneller")
        took = await answered_once(coordinator, room_id, after, TAKEOVER_LIMIT) - lost
        print(f"lease connection killed → first answer of the standby: {took:.1f} s")
        assert scalar(postgres_url, "SELECT count(*) FROM idea") == 2
    finally:
        a.stop()
        b.stop()


async def test_sigterm_hands_the_lease_over_at_once(
    synapse: LocalSynapse,
    accounts: Accounts,
    coordinator: ScriptedUser,
    postgres_url: str,
    tmp_path: Path,
) -> None:
    a, b, room_id = await started_pair(
        tmp_path, synapse, accounts, coordinator, postgres_url, "zt-lease-term"
    )
    try:
        assert a.process is not None
        stopped = time.monotonic()
        a.process.send_signal(signal.SIGTERM)
        meanwhile = await coordinator.send(room_id, "!zt kvp Wasser Mehr Zeit")
        assert await a.wait(30) == 0
        ended = time.monotonic() - stopped
        await b.wait_for_log("lease taken after", timeout=TAKEOVER_LIMIT)
        taken = time.monotonic() - stopped
        answered = await answered_once(coordinator, room_id, meanwhile, TAKEOVER_LIMIT) - stopped
        print(
            f"\nSIGTERM: old instance ended after {ended:.1f} s, standby active after "
            f"{taken:.1f} s, first answer after {answered:.1f} s"
        )
        assert "lease released" in a.text()
        assert answered <= TAKEOVER_LIMIT
        assert scalar(postgres_url, "SELECT count(*) FROM idea") == 1
    finally:
        a.stop()
        b.stop()


async def test_a_second_instance_on_sqlite_refuses_to_start(
    synapse: LocalSynapse,
    accounts: Accounts,
    coordinator: ScriptedUser,
    tmp_path: Path,
) -> None:
    bot = synapse.register("zt-lease-sqlite", PASSWORD)
    a, b = pair(tmp_path, synapse, bot.user_id, accounts.coordinator.user_id, None)
    room_id = await coordinator.create_room([bot.user_id], name="Nur eine")
    a.start()
    try:
        await coordinator.wait_for_member(room_id, bot.user_id, timeout=60)
        b.start()
        assert await b.wait(60) == EXIT_ALREADY_RUNNING
        assert "Eine andere Instanz des Bots läuft schon" in b.text()
        assert "Another instance of the bot is already running" in b.text()
        assert "zukunftstische.sqlite3.lock" in b.text()
        assert "logged in" not in b.text()  # it never touched the homeserver or the keys
        # The first one goes on working.
        reply = await coordinator.ask(room_id, "!zt themen", timeout=30)
        assert reply.sender == bot.user_id
    finally:
        a.stop()
        b.stop()


async def test_a_takeover_in_the_middle_of_a_reminder_burst_sends_none_twice(
    synapse: LocalSynapse,
    accounts: Accounts,
    coordinator: ScriptedUser,
    postgres_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ZT_MATRIX_PASSWORD", PASSWORD)  # for reading the config here
    bot = synapse.register("zt-lease-burst", PASSWORD)
    a, b = pair(
        tmp_path,
        synapse,
        bot.user_id,
        accounts.coordinator.user_id,
        postgres_url,
        extra='[reminders]\nsend_time = "00:00"\n',
    )
    room_id = await coordinator.create_room([bot.user_id], name="Erinnerungen")
    seed_themes(a.config, room_id, 30, only_step=None)  # several reminders per theme
    a.start()
    b.start()  # both at once: whichever takes the lease first is active
    try:
        await coordinator.wait_for_member(room_id, bot.user_id, timeout=60)
        await coordinator.wait_until(
            lambda: len(keys_in(coordinator, room_id, bot.user_id)) >= 15, timeout=60
        )
        statuses = {i.name: await i.get("/metrics") for i in (a, b)}
        active = [i for i in (a, b) if "zt_active 1.0" in statuses[i.name]]
        assert len(active) == 1, statuses
        standby = b if active[0] is a else a
        assert active[0].process is not None
        active[0].process.kill()
        killed_at = len(keys_in(coordinator, room_id, bot.user_id))
        await standby.wait_for_log("lease taken after", timeout=TAKEOVER_LIMIT)
        total = await settle(coordinator, room_id, bot.user_id, a.config)
    finally:
        a.stop()
        b.stop()
    keys = keys_in(coordinator, room_id, bot.user_id)
    doubled = [key for key, n in collections.Counter(keys).items() if n > 1]
    print(f"\ntakeover in a burst: {total} reminders, {killed_at} before SIGKILL, doubled: 0")
    assert killed_at < total, "the takeover happened in the middle of the burst"
    assert doubled == []
    assert sent_log(a.config) == {"sent": total}
