"""The bot on a Synapse with its DEFAULT rate limits (issue 25), as a city's Z2 room is used.

Three cases, each on the same throwaway Synapse (every limit Synapse's default: rc_message
0.2/s burst 10, rc_room_creation 0.016/s burst 10, rc_joins_per_room 1/s burst 10, …), the
bot run as `zt-bot run` in its own process:

- join: a public room that `--members` people join at once (each retrying on 429 as a
  client does); the bot is invited after they joined, and again to a second such room
  while they are joining. Time from invite to the bot's join, the 429s it waited out.
- evaluation: `--participants` people in a Z2 room, `!zt umfrage` in the coordination
  room, and `!zt status` there every `--status-every` seconds while the polls go out. When
  each person has the intro, every poll and the open question; how long `status` takes
  (send → answer), against the homeserver's own spacing of events (5 s at 0.2/s) and a
  `status` while nothing else goes out; the announcement's estimate against the measured
  send-out; 429s; the bot's RSS.
- kill: the same evaluation, the bot SIGKILLed once about half the people have their
  polls and started again: every person must end with exactly one direct chat with the
  bot and exactly one copy of each question.

    python bench/default_limits.py [--members 40] [--participants 10] [--status-every 20]
                                   [--only join|evaluation|kill]

Takes about 25 minutes with the defaults (the evaluation cases are paced by the limits).
Numbers are printed; nothing is asserted except the exactly-once counts of `kill`.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import logging
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinError,
    RoomCreateResponse,
)
from nio.api import RoomPreset

from bot.demo.homeserver import Account, LocalSynapse, create_synapse, free_port
from bot.demo.scripted_user import ScriptedUser
from bot.domain.polls import POLL_START

HERE = Path(__file__).resolve().parent
PASSWORD = "zukunft-bench"
POLLS = 9  # the shipped questionnaire's scale questions
OPEN_QUESTION = "Offene Frage:"


def start_bot(config: Path, log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=config.parent,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def write_config(
    directory: Path, synapse: LocalSynapse, bot: Account, coordinator: str, rooms: str = ""
) -> tuple[Path, int]:
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    path = directory / "config.toml"
    path.write_text(
        f"""[matrix]
homeserver = "{synapse.url}"
user_id = "{bot.user_id}"
password = "{PASSWORD}"
device_id = "ZTBENCH"

[bot]
coordinators = ["{coordinator}"]
data_dir = "data"

[health]
listen = "127.0.0.1:{port}"
{rooms}
""",
        "utf-8",
    )
    return path, port


def row(label: str, value: str) -> None:
    print(f"{label + ':':<38}{value}", flush=True)


def metric(port: int, name: str) -> float | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
            text = answer.read().decode()
    except OSError:
        return None
    found = re.search(rf"^{name} ([0-9.e+-]+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else None


def rss_mib(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    found = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    return int(found.group(1)) / 1024 if found else 0.0


async def until(condition, timeout: float, every: float = 0.2) -> float:  # type: ignore[no-untyped-def]
    """Seconds until `condition()` held."""
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 (polling another process)
            await asyncio.sleep(every)
    return time.monotonic() - started


async def members_of(user: ScriptedUser, room_id: str) -> set[str]:
    response = await user.client.joined_members(room_id)
    return {m.user_id for m in getattr(response, "members", [])}


async def wait_member(user: ScriptedUser, room_id: str, member: str, timeout: float) -> float:
    started = time.monotonic()
    async with asyncio.timeout(timeout):
        while member not in await members_of(user, room_id):  # noqa: ASYNC110
            await asyncio.sleep(0.2)
    return time.monotonic() - started


async def public_room(user: ScriptedUser, name: str) -> str:
    response = await user.client.room_create(name=name, preset=RoomPreset.public_chat)
    assert isinstance(response, RoomCreateResponse), response
    return response.room_id


async def join_as_a_client_does(synapse: LocalSynapse, account: Account, room_id: str) -> int:
    """Join, waiting out every 429 (retry_after_ms); the number of 429s."""
    client = AsyncClient(
        synapse.url, account.user_id, config=AsyncClientConfig(max_limit_exceeded=0)
    )
    client.restore_login(account.user_id, account.device_id, account.access_token)
    limited = 0
    try:
        while True:
            response = await client.join(room_id)
            if not isinstance(response, JoinError):
                return limited
            limited += 1
            await asyncio.sleep((response.retry_after_ms or 1000) / 1000)
    finally:
        await client.close()


# ----------------------------------------------------------------------------------------


async def bench_join(synapse: LocalSynapse, directory: Path, members: int) -> None:
    print(f"\n== join: a room of {members} members (Synapse default limits)", flush=True)
    bot = synapse.register("zt-bot-join", PASSWORD)
    owner_account = synapse.register("leitung-join", PASSWORD)
    owner = ScriptedUser(synapse.url, owner_account)
    await owner.start()
    config, port = write_config(directory / "join", synapse, bot, owner_account.user_id)
    process = start_bot(config, directory / "join" / "bot.log")
    people = [synapse.register(f"mitglied{n:02d}", PASSWORD) for n in range(members)]
    try:
        await until(lambda: metric(port, "zt_active") == 1.0, 90)
        # After they joined.
        room = await public_room(owner, "Z2 nach dem Beitritt")
        started = time.monotonic()
        limited = await asyncio.gather(*(join_as_a_client_does(synapse, p, room) for p in people))
        joined_in = time.monotonic() - started
        before = metric(port, "zt_join_rate_limited_total") or 0.0
        await owner.client.room_invite(room, bot.user_id)
        took = await wait_member(owner, room, bot.user_id, 600)
        after = metric(port, "zt_join_rate_limited_total") or 0.0
        row("members joined in", f"{joined_in:.1f} s ({sum(limited)} × 429 waited out by them)")
        row(
            "invited after they joined → in",
            f"{took:.1f} s ({after - before:.0f} × 429 for the bot)",
        )
        # While they join.
        room = await public_room(owner, "Z2 während des Beitritts")
        joining = asyncio.gather(*(join_as_a_client_does(synapse, p, room) for p in people))
        await asyncio.sleep(1.0)
        before = after
        await owner.client.room_invite(room, bot.user_id)
        took = await wait_member(owner, room, bot.user_id, 600)
        after = metric(port, "zt_join_rate_limited_total") or 0.0
        await joining
        row(
            "invited while they join → in", f"{took:.1f} s ({after - before:.0f} × 429 for the bot)"
        )
        row("bot RSS", f"{rss_mib(process.pid):.0f} MiB")
    finally:
        process.terminate()
        process.wait(timeout=30)
        await owner.close()


@dataclass
class Participant:
    user: ScriptedUser
    dm_rooms: set[str] = field(default_factory=set)
    first_poll: float | None = None
    complete: float | None = None


@dataclass
class Evaluation:
    synapse: LocalSynapse
    directory: Path
    name: str
    participants: int
    status_every: float
    owner: ScriptedUser | None = None
    people: list[Participant] = field(default_factory=list)
    bot: Account | None = None
    config: Path | None = None
    port: int = 0
    koordination: str = ""

    async def set_up(self) -> None:
        synapse = self.synapse
        self.bot = synapse.register(f"zt-bot-{self.name}", PASSWORD)
        owner_account = synapse.register(f"leitung-{self.name}", PASSWORD)
        self.owner = ScriptedUser(synapse.url, owner_account)
        await self.owner.start()
        self.koordination = await self.owner.create_room([self.bot.user_id], name="Koordination")
        rooms = f'[rooms]\nkoordination = "{self.koordination}"'
        self.config, self.port = write_config(
            self.directory / self.name, synapse, self.bot, owner_account.user_id, rooms
        )
        for number in range(self.participants):
            account = synapse.register(f"{self.name}-person{number:02d}", PASSWORD)
            user = ScriptedUser(synapse.url, account)
            user.auto_join = True  # joins the direct chat the bot invites them to
            await user.start()
            self.people.append(Participant(user))

    def bot_id(self) -> str:
        assert self.bot is not None
        return self.bot.user_id

    def dm_of(self, person: Participant) -> list[str]:
        return sorted(set(person.user.invited) - {self.koordination})

    def polls_of(self, person: Participant) -> list[str]:
        questions = []
        for room in self.dm_of(person):
            for poll in person.user.polls_in(room):
                questions.append(poll.content["content"][POLL_START]["question"]["body"])
        return questions

    def has_all(self, person: Participant) -> bool:
        rooms = self.dm_of(person)
        opened = any(
            m.body.startswith(OPEN_QUESTION)
            for room in rooms
            for m in person.user.messages_in(room, self.bot_id())
        )
        return len(set(self.polls_of(person))) >= POLLS and opened

    async def start_theme(self, process: subprocess.Popen) -> str:
        owner = self.owner
        assert owner is not None
        await until(lambda: metric(self.port, "zt_active") == 1.0, 90)
        await wait_member(owner, self.koordination, self.bot_id(), 120)
        z2 = await public_room(owner, "Z2 Mobilität")
        await asyncio.gather(
            *(join_as_a_client_does(self.synapse, p.user.account, z2) for p in self.people)
        )
        await owner.client.room_invite(z2, self.bot_id())
        await wait_member(owner, z2, self.bot_id(), 600)
        await owner.ask(self.koordination, "!zt neu Mobilität 12.04.2027", timeout=120)
        await owner.ask(z2, "!zt raum Mobilität z2", timeout=120)
        idle = []
        for _ in range(5):
            started = time.monotonic()
            await owner.ask(self.koordination, "!zt status Mobilität", timeout=120)
            idle.append(time.monotonic() - started)
        row("status while nothing goes out", f"median {statistics.median(idle):.2f} s")
        # A quiet minute, as before a real send-out: the homeserver's burst is back.
        await asyncio.sleep(60)
        return z2

    async def run(self, kill_after: int | None = None) -> None:
        assert self.config is not None and self.owner is not None
        log = self.directory / self.name / "bot.log"
        process = start_bot(self.config, log)
        try:
            await self.start_theme(process)
            owner = self.owner
            started = time.monotonic()
            await owner.ask(self.koordination, "!zt umfrage Mobilität", timeout=120)
            rate_limited_before = metric(self.port, "zt_rate_limited_total") or 0.0
            rate_limited_killed = 0.0  # what the killed process had honoured
            latencies: list[float] = []
            rss: list[float] = []
            killed = False
            announcement_at: float | None = None

            async def watch() -> None:
                nonlocal announcement_at
                while True:
                    now = time.monotonic() - started
                    for person in self.people:
                        if person.first_poll is None and self.polls_of(person):
                            person.first_poll = now
                        if person.complete is None and self.has_all(person):
                            person.complete = now
                    if announcement_at is None and self.announcement():
                        announcement_at = now
                    rss.append(rss_mib(process.pid))
                    await asyncio.sleep(0.2)

            watcher = asyncio.create_task(watch())
            try:
                while not all(p.complete is not None for p in self.people):
                    if kill_after is not None and not killed:
                        done = sum(p.complete is not None for p in self.people)
                        if done >= kill_after:
                            rate_limited_killed = metric(self.port, "zt_rate_limited_total") or 0.0
                            os.kill(process.pid, signal.SIGKILL)
                            process.wait()
                            killed = True
                            print(
                                f"SIGKILL after {done} of {len(self.people)} had every question "
                                f"({time.monotonic() - started:.0f} s)",
                                flush=True,
                            )
                            process = start_bot(self.config, log)
                            await until(lambda: metric(self.port, "zt_active") == 1.0, 90)
                    asked = time.monotonic()
                    try:
                        await owner.ask(self.koordination, "!zt status Mobilität", timeout=300)
                        latencies.append(time.monotonic() - asked)
                    except TimeoutError:
                        latencies.append(float("inf"))
                    await asyncio.sleep(max(0.0, self.status_every - (time.monotonic() - asked)))
                    if time.monotonic() - started > 3 * 3600:
                        raise TimeoutError("send-out not done in 3 hours")
            finally:
                watcher.cancel()
            total = time.monotonic() - started
            now_limited = metric(self.port, "zt_rate_limited_total") or 0.0
            if killed:
                rate_limited = rate_limited_killed - rate_limited_before + now_limited
            else:
                rate_limited = now_limited - rate_limited_before
            self.report(total, latencies, rate_limited, rss, announcement_at)
            if kill_after is not None:
                await asyncio.sleep(10)  # a doubled poll would have arrived by now
                self.check_exactly_once()
        finally:
            process.terminate()
            process.wait(timeout=30)
            for person in self.people:
                await person.user.close()
            await self.owner.close()

    def announcement(self) -> list[str]:
        assert self.owner is not None
        return [
            m.body
            for m in self.owner.messages_in(self.koordination, self.bot_id())
            if "Der Versand dauert" in m.body
        ]

    def report(
        self,
        total: float,
        latencies: list[float],
        rate_limited: float,
        rss: list[float],
        announced_at: float | None,
    ) -> None:
        firsts = sorted(p.first_poll for p in self.people if p.first_poll is not None)
        completes = sorted(p.complete for p in self.people if p.complete is not None)
        told = self.announcement()
        estimate = re.search(r"etwa ([0-9,]+ (?:Minuten?|Stunden))", told[0]) if told else None
        row("participants", str(len(self.people)))
        said = estimate.group(1) if estimate else "—"
        row("announcement (after umfrage)", f"{announced_at or float('nan'):.1f} s, says {said}")
        row("first person's first poll", f"{firsts[0]:.1f} s")
        row("first person complete", f"{completes[0]:.1f} s")
        row("each person complete (s)", ", ".join(f"{c:.0f}" for c in completes))
        row("send-out complete", f"{total:.0f} s ({total / 60:.1f} min)")
        finite = [x for x in latencies if x != float("inf")] or [float("nan")]
        unanswered = len(latencies) - len([x for x in latencies if x != float("inf")])
        row(
            "status during the send-out",
            f"{len(latencies)} asked, median {statistics.median(finite):.2f} s, "
            f"p90 {quantile(finite):.2f} s, max {max(finite):.2f} s"
            + (f" ({unanswered} not answered in 300 s)" if unanswered else ""),
        )
        row("429 answers honoured by the queue", f"{rate_limited:.0f}")
        row("bot RSS, peak", f"{max(rss, default=0):.0f} MiB")

    def check_exactly_once(self) -> None:
        doubled = 0
        for person in self.people:
            rooms = self.dm_of(person)
            counts = collections.Counter(self.polls_of(person))
            opens = sum(
                m.body.startswith(OPEN_QUESTION)
                for room in rooms
                for m in person.user.messages_in(room, self.bot_id())
            )
            ok = (
                len(rooms) == 1
                and len(counts) == POLLS
                and set(counts.values()) == {1}
                and opens == 1
            )
            doubled += not ok
            if not ok:
                print(
                    f"  {person.user.user_id}: {len(rooms)} direct chats, polls {dict(counts)}, "
                    f"open questions {opens}"
                )
        announced = len(self.announcement())
        row(
            "exactly once",
            f"{len(self.people) - doubled} of {len(self.people)} people with one chat and one "
            f"copy of each question; announcement {announced}×",
        )
        if doubled or announced != 1:
            raise SystemExit("exactly once violated")


def quantile(values: list[float], q: float = 0.9) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=10)[int(q * 10) - 1]


async def main(args: argparse.Namespace) -> None:
    # The scripted people's matrix-nio says every 429 it waits out: not the bot's business.
    logging.getLogger("nio").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="zt-limits-") as tmp:
        directory = Path(tmp)
        synapse = create_synapse(directory / "synapse", raised_rate_limits=False)
        synapse.start()
        try:
            if args.only in (None, "join"):
                await bench_join(synapse, directory, args.members)
            if args.only in (None, "evaluation"):
                print(
                    f"\n== evaluation: {args.participants} participants, status every "
                    f"{args.status_every:.0f} s (Synapse default limits)",
                    flush=True,
                )
                evaluation = Evaluation(
                    synapse, directory, "eval", args.participants, args.status_every
                )
                await evaluation.set_up()
                await evaluation.run()
            if args.only in (None, "kill"):
                print(
                    f"\n== kill: {args.participants} participants, SIGKILL mid-send-out", flush=True
                )
                evaluation = Evaluation(
                    synapse, directory, "kill", args.participants, args.status_every
                )
                await evaluation.set_up()
                await evaluation.run(kill_after=max(1, args.participants // 2 - 1))
        finally:
            synapse.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=40)
    parser.add_argument("--participants", type=int, default=10)
    parser.add_argument("--status-every", type=float, default=20.0)
    parser.add_argument("--only", choices=("join", "evaluation", "kill"))
    asyncio.run(main(parser.parse_args()))
