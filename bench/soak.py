"""Soak: a coordination office at work for half an hour while everything around it fails.

A throwaway Synapse, the bot as its own process (`zt-bot run`) and a scripted office.
About every 10 s the office sends a command (a realistic mix: status, themes, reminders,
ideas and their triage, responsibilities, a step marked and reopened, history) in one of
10 rooms across 20 themes. Reminders fall due all the time: each time the bot is
SIGKILLed it comes back a day later (ZT_CLOCK_OFFSET), and each day brings its reminders.
Meanwhile the homeserver is restarted, the bot killed, PostgreSQL restarted (as root, with
`--database postgresql`). The last third of the run is left alone, for the memory reading.

At the end it waits for everything to settle and prints: commands sent / answered /
answered twice / not answered; reminders due (the sent-log) / received / doubled / lost,
including anything the reminder policy still sees due that was not sent; the slowest
answer; the bot's RSS at the start and the end of the undisturbed last third. Exit code 1
when anything was lost or doubled.

    python bench/soak.py                       # 30 minutes, on PostgreSQL if it answers
    python bench/soak.py --minutes 3           # the short variant `make test` runs
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bot.config import load_config  # noqa: E402
from bot.demo.homeserver import LocalSynapse, create_synapse  # noqa: E402
from bot.demo.scripted_user import ScriptedUser  # noqa: E402
from bot.domain.lead_rooms import setup_for  # noqa: E402
from bot.domain.reminder_plan import deliveries, theme_facts  # noqa: E402
from bot.domain.reminder_policy import Reminder, due_reminders  # noqa: E402
from bot.domain.themes import ThemeRecord  # noqa: E402
from bot.domain.working_days import WorkingCalendar  # noqa: E402
from bot.matrix.events import REMINDER_MARKER  # noqa: E402
from bot.store.themes import Store  # noqa: E402
from tests.databases import (  # noqa: E402
    create_postgres_database,
    drop_postgres_database,
    postgres_unavailable,
)

PASSWORD = "soak-passwort-1"
BERLIN = ZoneInfo("Europe/Berlin")
ROOMS = 10
DUE_THEMES = 10  # their steps fall due during the run
FUTURE_THEMES = 10  # Z2 in 2030: ideas, responsibilities and marking go here


@dataclass
class Sent:
    event_id: str
    room_id: str
    text: str
    at: float


@dataclass
class Chaos:
    kills: int = 0
    hs_restarts: int = 0
    pg_restarts: int = 0
    pg_skipped: str = ""
    supervisor_restarts: int = 0  # the bot ended by itself (a lost lease) and was started


@dataclass
class Run:
    directory: Path
    synapse: LocalSynapse
    config: Path
    database_url: str
    day: int = 0
    process: subprocess.Popen | None = None
    sent: list[Sent] = field(default_factory=list)
    chaos: Chaos = field(default_factory=Chaos)
    rss_start: int | None = None
    rss_end: int | None = None

    def start_bot(self) -> None:
        env = {**os.environ, "PYTHONPATH": str(HERE.parent), "ZT_MATRIX_PASSWORD": PASSWORD}
        env["ZT_CLOCK_OFFSET"] = f"+{self.day}d"
        with (self.directory / "bot.log").open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "run", "--config", str(self.config)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def restart_if_ended(self, within: float) -> None:
        """What systemd (Restart=on-failure) or a container runtime does: a bot that ended
        by itself (exit 6: a PostgreSQL restart ended its lease's session) starts again."""
        assert self.process is not None
        try:
            self.process.wait(timeout=within)
        except subprocess.TimeoutExpired:
            return
        self.start_bot()
        self.chaos.supervisor_restarts += 1

    def kill_bot(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop_bot(self) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def postgres_control() -> list[str] | None:
    """How to restart this machine's PostgreSQL, if we may (root, Debian's tools), or the
    command in ZT_TEST_PG_CONTROL (a private cluster's `pg_ctl -D … -w`)."""
    if custom := os.environ.get("ZT_TEST_PG_CONTROL"):
        return shlex.split(custom)
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster"):
        return None
    if not Path("/etc/postgresql").is_dir():
        return None
    version = sorted(os.listdir("/etc/postgresql"))[-1]
    return ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main"]


def plan_csv(rooms: list[str], today: date) -> str:
    lines = ["Thema;Z2;Teamraum"]
    for n in range(DUE_THEMES):
        # Step 3 (−3 weeks) falls due n days from now; the earlier steps are behind it.
        z2 = today + timedelta(weeks=3, days=n)
        lines.append(f"Soak Thema {n + 1};{z2:%d.%m.%Y};{rooms[1 + n % (ROOMS - 1)]}")
    for n in range(FUTURE_THEMES):
        z2 = date(2030, 3, 1) + timedelta(weeks=n)
        lines.append(f"Zukunft {n + 1};{z2:%d.%m.%Y};{rooms[1 + n % (ROOMS - 1)]}")
    return "\n".join(lines) + "\n"


def import_plan(config: Path, plan: Path) -> None:
    env = {**os.environ, "ZT_MATRIX_PASSWORD": PASSWORD, "PYTHONPATH": str(HERE.parent)}
    command = [sys.executable, "-m", "bot", "import", "--config", str(config)]
    subprocess.run([*command, str(plan)], check=True, env=env, capture_output=True)


def command_mix(rng: random.Random, idea: int) -> str:
    theme = f"Zukunft {rng.randint(1, FUTURE_THEMES)}"
    due = f"Soak Thema {rng.randint(1, DUE_THEMES)}"
    return rng.choice(
        [
            f"status {due}",
            f"status {theme}",
            "status",
            "themen",
            f"erinnerungen {due}",
            f"kvp {theme} Idee {rng.randint(1, 10**6)}",
            f"kvp übernommen {idea}",
            f"zuständig {theme} 3 @anna:localhost",
            f"erledigt {theme} 1",
            f"offen {theme} 1",
            "ratssitzung",
            f"verlauf {theme}",
            "hilfe",
        ]
    )


def reply_counts(user: ScriptedUser) -> Counter[str]:
    found: Counter[str] = Counter()
    for received in user.received:
        relation = received.content.get("content", {}).get("m.relates_to", {})
        target = relation.get("m.in_reply_to", {}).get("event_id")
        if target and received.sender != user.user_id:
            found[target] += 1
    return found


def reply_times(user: ScriptedUser, sent: list[Sent]) -> list[float]:
    """Seconds from a command to its answer (the answer's server timestamp)."""
    by_id = {s.event_id: s for s in sent}
    found = []
    for received in user.received:
        relation = received.content.get("content", {}).get("m.relates_to", {})
        target = relation.get("m.in_reply_to", {}).get("event_id")
        if target in by_id:
            found.append(received.content["origin_server_ts"] / 1000 - by_id[target].at)
    return found


def reminder_keys(user: ScriptedUser) -> Counter[str]:
    return Counter(
        r.content["content"][REMINDER_MARKER]["key"]
        for r in user.received
        if REMINDER_MARKER in r.content.get("content", {})
    )


async def send_retrying(user: ScriptedUser, room_id: str, text: str) -> str:
    """A person sends until the homeserver takes it (it may be restarting)."""
    while True:
        try:
            return await user.send(room_id, text)
        except Exception:  # the homeserver is away for a moment: try again
            await asyncio.sleep(1)


async def office(
    run: Run, user: ScriptedUser, rooms: list[str], until: float, every: float
) -> None:
    rng = random.Random(7)
    while time.monotonic() < until:
        text = command_mix(rng, idea=rng.randint(1, 40))
        room_id = rng.choice(rooms)
        event_id = await send_retrying(user, room_id, f"!zt {text}")
        run.sent.append(Sent(event_id, room_id, text, time.time()))
        await asyncio.sleep(every)


async def chaos(run: Run, stop_at: float, args: argparse.Namespace) -> None:
    """Kills, homeserver restarts and PostgreSQL restarts, spread until `stop_at`."""
    events = ["kill"] * args.kills + ["hs"] * args.hs_restarts
    control = postgres_control() if run.database_url.startswith("postgresql") else None
    if control is None:
        run.chaos.pg_skipped = "not root, or not on PostgreSQL"
    else:
        events += ["pg"] * args.pg_restarts
    random.Random(3).shuffle(events)
    started = time.monotonic()
    gap = (stop_at - started) / (len(events) + 1)
    for n, event in enumerate(events, start=1):
        await asyncio.sleep(max(0.0, started + n * gap - time.monotonic()))
        if event == "kill":
            run.kill_bot()
            run.day += 1
            run.start_bot()
            run.chaos.kills += 1
        elif event == "hs":
            await asyncio.to_thread(run.synapse.stop)
            await asyncio.sleep(3)
            await asyncio.to_thread(run.synapse.start)
            run.chaos.hs_restarts += 1
        elif control is not None:
            await asyncio.to_thread(subprocess.run, [*control, "restart"], check=True)
            run.chaos.pg_restarts += 1
            # The restart ended the lease's session: the bot stops being active and ends.
            await asyncio.to_thread(run.restart_if_ended, 30)


def policy_leftovers(run: Run) -> int:
    """Reminders the policy sees due now that the sent-log does not have as sent."""
    config = load_config(run.config, environ={"ZT_MATRIX_PASSWORD": PASSWORD})
    store = Store(run.database_url)
    try:
        now = datetime.now(BERLIN) + timedelta(days=run.day)
        views = {view.id: view for view in store.themes()}

        def theme_of(reminder: Reminder) -> ThemeRecord | None:
            view = views.get(reminder.theme_id or -1)
            return view.theme if view else None

        facts = [theme_facts(view) for view in views.values()]
        due = due_reminders(facts, now, config.reminders.policy(), WorkingCalendar())
        wanted = [
            delivery.txn_id
            for reminder in due
            for delivery in deliveries(reminder, setup_for(config.rooms, theme_of(reminder)))
        ]
        rows = store.reminder_rows(wanted)
        return sum(1 for key in wanted if key not in rows or rows[key].status != "sent")
    finally:
        store.close()


def sent_log(database_url: str) -> Counter[str]:
    store = Store(database_url)
    try:
        with store.engine.connect() as connection:
            query = "SELECT status, count(*) FROM reminder_log GROUP BY status"
            return Counter(dict(connection.execute(sa.text(query)).all()))
    finally:
        store.close()


def write_config(directory: Path, synapse: LocalSynapse, bot: str, office: str, room: str,
                 database_url: str) -> Path:  # fmt: skip
    database = f'[database]\nurl = "{database_url}"\n' if database_url else ""
    config = directory / "config.toml"
    config.write_text(
        f'[matrix]\nhomeserver = "{synapse.url}"\nuser_id = "{bot}"\n{database}'
        f'[bot]\ndata_dir = "data"\ncoordinators = ["{office}"]\n'
        f'[rooms]\nkoordination = "{room}"\n'
        '[reminders]\nsend_time = "00:00"\ntick_seconds = 5\n',
        "utf-8",
    )
    return config


async def soak(args: argparse.Namespace) -> int:
    total = args.minutes * 60
    with tempfile.TemporaryDirectory(prefix="zt-soak-") as tmp:
        directory = Path(tmp)
        database_url = ""
        if args.database == "postgresql":
            if reason := postgres_unavailable():
                print(f"PostgreSQL: {reason}; SQLite instead")
            else:
                database_url = create_postgres_database()
        synapse = create_synapse(directory / "synapse")
        synapse.start()
        user: ScriptedUser | None = None
        run: Run | None = None
        try:
            bot = synapse.register("zt-soak", PASSWORD)
            office_account = synapse.register("koordination", PASSWORD)
            user = ScriptedUser(synapse.url, office_account)
            await user.start()
            rooms = [await user.create_room([bot.user_id], name=f"Soak {n}") for n in range(ROOMS)]
            config = write_config(
                directory, synapse, bot.user_id, office_account.user_id, rooms[0], database_url
            )
            sqlite = f"sqlite:///{directory / 'data' / 'zukunftstische.sqlite3'}"
            run = Run(directory, synapse, config, database_url or sqlite)
            plan = directory / "plan.csv"
            plan.write_text(plan_csv(rooms, datetime.now(BERLIN).date()), "utf-8")
            await asyncio.to_thread(import_plan, config, plan)
            run.start_bot()
            for room_id in rooms:
                await user.wait_for_member(room_id, bot.user_id, timeout=120)
            print(f"soak: {args.minutes:g} min, {ROOMS} rooms, {DUE_THEMES + FUTURE_THEMES} "
                  f"themes, {'PostgreSQL' if database_url else 'SQLite'}", flush=True)  # fmt: skip
            begin = time.monotonic()
            quiet_from = begin + total * 2 / 3
            sender = asyncio.create_task(office(run, user, rooms, begin + total, args.every))
            await chaos(run, quiet_from, args)
            await asyncio.sleep(max(0.0, quiet_from + 30 - time.monotonic()))
            assert run.process is not None
            run.rss_start = rss_kib(run.process.pid)
            await sender
            run.rss_end = rss_kib(run.process.pid)
            await settle(user, run)
            return report(run, user, policy_leftovers(run), sent_log(run.database_url))
        finally:
            if run is not None and run.process is not None and run.process.poll() is None:
                run.stop_bot()
            if user is not None:
                await user.close()
            synapse.stop()
            if database_url:
                drop_postgres_database(database_url)


async def settle(user: ScriptedUser, run: Run, limit: float = 180) -> None:
    """Until every command is answered and no reminder came for 15 s (or `limit`)."""
    deadline = time.monotonic() + limit
    last = -1
    while time.monotonic() < deadline:
        answered = reply_counts(user)
        reminders = sum(reminder_keys(user).values())
        if all(s.event_id in answered for s in run.sent) and reminders == last:
            return
        last = reminders
        await asyncio.sleep(15)


def report(run: Run, user: ScriptedUser, leftovers: int, log: Counter[str]) -> int:
    answers = reply_counts(user)
    unanswered = [s for s in run.sent if s.event_id not in answers]
    twice = [s for s in run.sent if answers[s.event_id] > 1]
    keys = reminder_keys(user)
    doubled = sum(1 for count in keys.values() if count > 1)
    due = log.get("sent", 0) + log.get("pending", 0)
    lost = max(0, due - len(keys)) + leftovers
    times = reply_times(user, run.sent)
    chaos = run.chaos
    skipped = f" ({chaos.pg_skipped})" if chaos.pg_skipped else ""
    print(f"chaos:      {chaos.kills} × bot SIGKILL, {chaos.hs_restarts} × homeserver "
          f"restart, {chaos.pg_restarts} × PostgreSQL restart{skipped}, "
          f"{chaos.supervisor_restarts} × restarted after a lost lease")  # fmt: skip
    print(f"commands:   {len(run.sent)} sent, {len(run.sent) - len(unanswered)} answered, "
          f"{len(twice)} answered twice, {len(unanswered)} not answered")  # fmt: skip
    print(f"reminders:  {due} due (sent-log; {log.get('pending', 0)} pending), "
          f"{len(keys)} received, {doubled} doubled, {lost} lost "
          f"({leftovers} due by the policy but not sent)")  # fmt: skip
    if times:
        median = sorted(times)[len(times) // 2]
        print(f"answers:    slowest {max(times):.1f} s, median {median:.2f} s")
    if run.rss_start and run.rss_end:
        growth = (run.rss_end - run.rss_start) / run.rss_start * 100
        print(f"bot RSS:    {run.rss_start / 1024:.0f} MiB -> {run.rss_end / 1024:.0f} MiB "
              f"({growth:+.1f} % over the undisturbed last third)")  # fmt: skip
    failed = bool(unanswered or twice or doubled or lost)
    print("result:     " + ("FAILED: lost or doubled" if failed else "0 lost, 0 doubled"))
    return 1 if failed else 0


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--minutes", type=float, default=30)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="postgresql")
    parser.add_argument("--every", type=float, default=10.0, help="seconds between commands")
    parser.add_argument("--kills", type=int)
    parser.add_argument("--hs-restarts", type=int)
    parser.add_argument("--pg-restarts", type=int)
    parsed = parser.parse_args()
    scale = parsed.minutes / 30
    for name, full in (("kills", 10), ("hs_restarts", 10), ("pg_restarts", 5)):
        if getattr(parsed, name) is None:
            setattr(parsed, name, max(1, round(full * scale)))
    return parsed


if __name__ == "__main__":
    # The scripted office's client retries quietly while the homeserver restarts.
    logging.basicConfig(level=logging.ERROR)
    raise SystemExit(asyncio.run(soak(arguments())))
