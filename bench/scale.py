"""Scale: what one answer, a list, a start and a reminder tick cost with N themes.

A throwaway Synapse, the bot as its own process (`zt-bot run`), a plain echo client as
its own process (bench/echo_client.py) and a scripted coordinator. 300 team rooms exist
and the bot is in all of them. For each N, on a fresh database, the plan of N themes
(Z2 spread over four years from 2028 on, so no reminder is due; each theme in one of the
team rooms) is imported with `zt-bot import`, then:

- cold start: process start → first answer, on the fresh database (first sync without a
  token) and again after a SIGTERM (a restart with the stored sync token);
- `!zt status <Thema>` against `ping` to the echo client: medians of interleaved samples
  and their ratio;
- each list command (`status`, `themen`, `jahresplan 2029`, `erinnerungen`,
  `auswertung`): after one answer to warm up, samples/4 (at least 5) answers, each
  after a `ping`; medians and ratios to that echo, round trip and at the homeserver;
- the reminder engine's last tick (the bot's /metrics: zt_engine_tick_seconds), after the
  start and after a change that pokes it;
- `!zt zeitplan <Thema>` (a picture, drawn in the bot's worker process);
- the bot's RSS (VmRSS) before the first picture, and RSS and peak (VmHWM) at the end,
  and the picture worker's RSS right after it drew (it ends after five idle minutes).

    python bench/scale.py                              # N = 1, 300, 5000 on SQLite
    python bench/scale.py --database postgresql        # the same on PostgreSQL
    python bench/scale.py --themes 1,300 --samples 10  # quicker

Timings are reported, never asserted (tests assert behaviour).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.demo.conversation import DEMO_PASSWORD  # noqa: E402
from bot.demo.homeserver import Account, LocalSynapse, create_synapse, free_port  # noqa: E402
from bot.demo.scripted_user import ScriptedUser  # noqa: E402
from tests.databases import create_postgres_database, drop_postgres_database  # noqa: E402

FIRST_Z2 = date(2028, 1, 3)
FOUR_YEARS = 4 * 365
# `ping gross` is answered with body and HTML of this many characters each: an event as
# large as the status answer of one theme (~1,400 + ~2,000 characters), to tell the
# bot's work apart from the cost of a larger event.
STATUS_ANSWER_CHARS = 1700
LISTS = ("status", "themen", "jahresplan 2029", "erinnerungen", "auswertung")


def theme_name(n: int) -> str:
    return f"Thema {n:05d} Stadtentwicklung"


def plan_csv(count: int, rooms: list[str]) -> str:
    lines = ["Thema;Z2;Teamraum"]
    for n in range(count):
        z2 = FIRST_Z2 + timedelta(days=n * FOUR_YEARS // max(count, 1))
        lines.append(f"{theme_name(n)};{z2:%d.%m.%Y};{rooms[n % len(rooms)]}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class ListTiming:
    """A list command against the echo asked just before each of its samples (medians)."""

    round_trip_ms: float
    echo_ms: float
    server_ms: float  # at the homeserver: command → answer
    echo_server_ms: float


@dataclass
class Run:
    """What one N measured."""

    themes: int
    import_s: float = 0.0
    cold_start_s: float = 0.0
    restart_s: float = 0.0
    echo_ms: float = 0.0
    large_echo_ms: float = 0.0  # `ping gross`: an echo as large as the status answer
    status_ms: float = 0.0
    echo_server_ms: float = 0.0  # at the homeserver: command → answer
    status_server_ms: float = 0.0
    lists: dict[str, ListTiming] = field(default_factory=dict)
    ticks_ms: list[float] = field(default_factory=list)
    rss_mib: float = 0.0
    peak_mib: float = 0.0
    rss_before_pictures_mib: float = 0.0
    picture_ms: float = 0.0  # `!zt zeitplan <Thema>`, the first (drawn, not cached)
    worker_mib: float = 0.0  # the picture worker process's RSS right after it drew


class Bench:
    def __init__(self, directory: Path, synapse: LocalSynapse, database: str) -> None:
        self.directory = directory
        self.synapse = synapse
        self.database = database
        self.bot_account: Account | None = None
        self.user: ScriptedUser | None = None
        self.room_id = ""
        self.rooms: list[str] = []
        self.processes: list[subprocess.Popen] = []

    # Processes ----------------------------------------------------------------------------

    def spawn(self, command: list[str], log: Path) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
        with log.open("a") as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def stop(self, process: subprocess.Popen) -> None:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def write_config(self, data_dir: Path, database_url: str, metrics_port: int) -> Path:
        assert self.bot_account is not None and self.user is not None
        data_dir.mkdir(parents=True, exist_ok=True)
        database = f'[database]\nurl = "{database_url}"\n' if database_url else ""
        path = data_dir / "config.toml"
        path.write_text(
            f"""[matrix]
homeserver = "{self.synapse.url}"
user_id = "{self.bot_account.user_id}"
password = "{DEMO_PASSWORD}"
# A device of its own per data directory: a start measured here is a start, not the
# recovery from a lost key store (which a reused device id with a fresh store would be).
device_id = "BENCH{data_dir.name.upper()}"

[bot]
coordinators = ["{self.user.user_id}"]
data_dir = "{data_dir}"

[health]
listen = "127.0.0.1:{metrics_port}"
{database}""",
            "utf-8",
        )
        return path

    def bot_command(self, config: Path, verb: str, *args: str) -> list[str]:
        return [sys.executable, "-m", "bot", verb, "--config", str(config), *args]

    # Chat ---------------------------------------------------------------------------------

    async def timed(self, text: str, timeout: float = 120) -> float:
        assert self.user is not None
        started = time.perf_counter()
        await self.user.ask(self.room_id, text, timeout=timeout)
        return (time.perf_counter() - started) * 1000

    async def at_the_server(self, text: str) -> tuple[float, float]:
        """(round trip as the client sees it, the homeserver's time from the command to
        the answer: without the client's own hops, what the bot or the echo adds)."""
        assert self.user is not None
        user = self.user
        started = time.perf_counter()
        answer = await user.ask(self.room_id, text, timeout=120)
        round_trip = (time.perf_counter() - started) * 1000
        asked = answer.content["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]

        def own() -> dict | None:
            return next((r.content for r in user.received if r.event_id == asked), None)

        await user.wait_until(lambda: own() is not None, timeout=30)
        command = own()
        assert command is not None
        return round_trip, float(answer.content["origin_server_ts"] - command["origin_server_ts"])

    async def first_answer(self, started: float) -> float:
        """Seconds from `started` until the bot answers one of the commands sent since
        (asking every 0.5 s; late answers to earlier runs' commands do not count)."""
        assert self.user is not None
        user = self.user
        asked: set[str] = set()

        def answered() -> bool:
            for received in user.received:
                relates = received.content.get("content", {}).get("m.relates_to", {})
                if relates.get("m.in_reply_to", {}).get("event_id") in asked:
                    return True
            return False

        async def keep_asking() -> None:
            while True:
                asked.add(await user.send(self.room_id, f"!zt status {theme_name(0)}"))
                await asyncio.sleep(0.5)

        asking = asyncio.create_task(keep_asking())
        try:
            await user.wait_until(answered, timeout=300)
            return time.perf_counter() - started
        finally:
            asking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asking
            await asyncio.sleep(3)  # the answers to the other asks arrive meanwhile

    async def start_bot(self, config: Path, log: Path) -> tuple[subprocess.Popen, float]:
        started = time.perf_counter()
        process = self.spawn(self.bot_command(config, "run"), log)
        return process, await self.first_answer(started)


def metric(port: int, name: str, label: str) -> float | None:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    for line in text.splitlines():
        if line.startswith(f"{name}{{") and label in line:
            return float(line.rsplit(" ", 1)[1])
    return None


def memory_mib(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value
    return (int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024)


def children(pid: int) -> list[int]:
    """The process's child processes (the bot's picture worker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(child) for child in (task / "children").read_text().split()]
    return found


async def prepare(bench: Bench, rooms: int) -> None:
    """Accounts, the measuring room with the echo client, and `rooms` team rooms the bot
    has joined (a warm-up run of the bot joins them, so no measured start joins rooms)."""
    synapse = bench.synapse
    bench.bot_account = synapse.register("zt-bot", DEMO_PASSWORD)
    echo = synapse.register("echo", DEMO_PASSWORD)
    person = synapse.register("koordination", DEMO_PASSWORD)
    bench.user = ScriptedUser(synapse.url, person)
    await bench.user.start()
    bot_id = bench.bot_account.user_id
    bench.room_id = await bench.user.create_room([bot_id, echo.user_id], name="Messung")
    for start in range(0, rooms, 10):
        batch = [
            bench.user.create_room([bot_id], name=f"Team {n:03d}")
            for n in range(start, min(start + 10, rooms))
        ]
        bench.rooms.extend(await asyncio.gather(*batch))
    warm = bench.write_config(bench.directory / "warm", "", free_port())
    process = bench.spawn(bench.bot_command(warm, "run"), bench.directory / "warm.log")
    for room_id in [bench.room_id, *bench.rooms]:
        await bench.user.wait_for_member(room_id, bot_id, timeout=600)
    bench.stop(process)
    command = [
        sys.executable, str(HERE / "echo_client.py"), synapse.url,
        echo.user_id, echo.device_id, echo.access_token, str(STATUS_ANSWER_CHARS),
    ]  # fmt: skip
    bench.spawn(command, bench.directory / "echo.log")
    await bench.user.wait_for_member(bench.room_id, echo.user_id, timeout=120)
    for _ in range(3):
        await bench.timed("ping")


async def measure(bench: Bench, count: int, samples: int) -> Run:
    run = Run(count)
    data_dir = bench.directory / f"n{count}"
    database_url = create_postgres_database() if bench.database == "postgresql" else ""
    port = free_port()
    config = bench.write_config(data_dir, database_url, port)
    log = data_dir / "bot.log"
    try:
        plan = data_dir / "plan.csv"
        plan.write_text(plan_csv(count, bench.rooms), "utf-8")
        started = time.perf_counter()
        await asyncio.to_thread(
            subprocess.run,
            bench.bot_command(config, "import", str(plan)),
            check=True,
            stdout=subprocess.DEVNULL,
            env={**os.environ, "PYTHONPATH": str(HERE.parent)},
        )
        run.import_s = time.perf_counter() - started
        process, run.cold_start_s = await bench.start_bot(config, log)
        run.ticks_ms.append(tick_ms(port))
        bench.stop(process)
        process, run.restart_s = await bench.start_bot(config, log)
        status = f"!zt status {theme_name(count // 2)}"
        for _ in range(3):  # warm-up
            await bench.timed(status)
            await bench.timed("ping")
        echo, bot, large = [], [], []
        for _ in range(samples):
            echo.append(await bench.at_the_server("ping"))
            bot.append(await bench.at_the_server(status))
            large.append(await bench.timed("ping gross"))
        run.large_echo_ms = statistics.median(large)
        run.echo_ms, run.status_ms = (
            statistics.median(t for t, _ in found) for found in (echo, bot)
        )
        run.echo_server_ms, run.status_server_ms = (
            statistics.median(t for _, t in found) for found in (echo, bot)
        )
        run.rss_before_pictures_mib = memory_mib(process.pid)[0]
        for text in LISTS:
            run.lists[text] = await measure_list(bench, f"!zt {text}", max(5, samples // 4))
        run.picture_ms = await bench.timed(f"!zt zeitplan {theme_name(count // 2)}")
        run.worker_mib = sum(memory_mib(child)[0] for child in children(process.pid))
        await bench.timed(f"!zt kvp {theme_name(0)} Messung: eine Idee")
        await bench.timed(f"!zt erledigt {theme_name(count // 2)} 1")  # a change: a tick
        await asyncio.sleep(2)
        run.ticks_ms.append(tick_ms(port))
        run.rss_mib, run.peak_mib = memory_mib(process.pid)
        bench.stop(process)
    finally:
        if database_url:
            drop_postgres_database(database_url)
    return run


async def measure_list(bench: Bench, text: str, samples: int) -> ListTiming:
    """`text` interleaved with `ping`, after one answer to warm up (templates compile on
    first use): a list's cost and its echo's under the same load."""
    await bench.timed(text)
    echo, found = [], []
    for _ in range(samples):
        echo.append(await bench.at_the_server("ping"))
        found.append(await bench.at_the_server(text))
    return ListTiming(
        round_trip_ms=statistics.median(t for t, _ in found),
        echo_ms=statistics.median(t for t, _ in echo),
        server_ms=statistics.median(t for _, t in found),
        echo_server_ms=statistics.median(t for _, t in echo),
    )


def tick_ms(port: int) -> float:
    seconds = metric(port, "zt_engine_tick_seconds", 'engine="ReminderEngine"')
    return -1.0 if seconds is None else seconds * 1000


def report(runs: list[Run], database: str, rooms: int, samples: int) -> None:
    print(f"\nbench/scale.py on {database}, {rooms} team rooms, {samples} interleaved samples")
    header = "| | " + " | ".join(f"{run.themes} themes" for run in runs) + " |"
    print(header)
    print("|" + " --- |" * (len(runs) + 1))

    def row(label: str, values: list[str]) -> None:
        print(f"| {label} | " + " | ".join(values) + " |")

    row("`zt-bot import` (s)", [f"{r.import_s:.1f}" for r in runs])
    row("echo round trip, median (ms)", [f"{r.echo_ms:.1f}" for r in runs])
    row("`!zt status <Thema>`, median (ms)", [f"{r.status_ms:.1f}" for r in runs])
    row("**status / echo**", [f"**{r.status_ms / r.echo_ms:.2f}**" for r in runs])
    row(
        "echo as large as the status answer (ms); status / it",
        [f"{r.large_echo_ms:.1f}; {r.status_ms / r.large_echo_ms:.2f}" for r in runs],
    )
    row(
        "at the homeserver, command → answer: echo / status (ms)",
        [f"{r.echo_server_ms:.0f} / {r.status_server_ms:.0f}" for r in runs],
    )
    for text in LISTS:
        row(f"`!zt {text}` (ms, × its echo; at the homeserver)", [
            f"{t.round_trip_ms:.0f} ({t.round_trip_ms / t.echo_ms:.2f}×); "
            f"{t.server_ms:.0f} ({t.server_ms / t.echo_server_ms:.2f}×)"
            for t in (r.lists[text] for r in runs)
        ])  # fmt: skip
    row("cold start, fresh database (s)", [f"{r.cold_start_s:.2f}" for r in runs])
    row("restart, stored sync token (s)", [f"{r.restart_s:.2f}" for r in runs])
    first = runs[0]
    row(
        "cold start / first N's",
        [f"{r.cold_start_s / first.cold_start_s:.2f}" for r in runs],
    )
    row("reminder tick: at start, after a change (ms)", [
        " / ".join(f"{t:.1f}" for t in r.ticks_ms) for r in runs
    ])  # fmt: skip
    row("`!zt zeitplan <Thema>`, drawn (ms)", [f"{r.picture_ms:.0f}" for r in runs])
    row("RSS before any picture (MiB)", [f"{r.rss_before_pictures_mib:.0f}" for r in runs])
    row("RSS at the end / peak (MiB)", [f"{r.rss_mib:.0f} / {r.peak_mib:.0f}" for r in runs])
    row("picture worker's RSS after drawing (MiB; ends when idle)", [
        f"{r.worker_mib:.0f}" for r in runs
    ])  # fmt: skip


async def main(counts: list[int], rooms: int, samples: int, database: str) -> None:
    with tempfile.TemporaryDirectory(prefix="zt-scale-") as tmp:
        directory = Path(tmp)
        synapse = create_synapse(directory / "synapse")
        synapse.start()
        bench = Bench(directory, synapse, database)
        try:
            await prepare(bench, rooms)
            runs = []
            for count in counts:
                runs.append(await measure(bench, count, samples))
                print(f"measured {count} themes", flush=True)
            report(runs, database, rooms, samples)
        finally:
            if bench.user is not None:
                await bench.user.close()
            for process in bench.processes:
                bench.stop(process)
            synapse.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--themes", default="1,300,5000", help="N, comma-separated")
    parser.add_argument("--rooms", type=int, default=300)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    counts = [int(n) for n in args.themes.split(",")]
    asyncio.run(main(counts, args.rooms, args.samples, args.database))
