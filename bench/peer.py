"""This bot against a peer: matrix-reminder-bot (PyPI), both against a plain echo client.

One throwaway Synapse; three processes beside it: this bot (`zt-bot run`), the peer
matrix-reminder-bot 0.4.0 (also a matrix-nio bot with encryption and an SQLite store, in
its own venv under .bench-cache/, installed with pip on the first run) and the echo
client (bench/echo_client.py). Room "Messung" has this bot and the echo, room "Peer" the
peer and the echo (the peer answers every message starting with "!"). A scripted user
asks in turn: `ping` and `!zt status <Thema>` in the first room, `ping` and
`!listreminders` in the second, so that the machine's load hits all four alike.

It prints, as medians of the interleaved samples, each bot's round trip and its ratio
to the echo in its room, and the same at the homeserver (the command's and the answer's
origin_server_ts: without the user's own sync). Then where this bot's time goes between
the homeserver's event and its answer, from its log (`handled … received_ms= ms=`):
receive (homeserver event → the bot has it from its sync), handle (dispatch, store,
render, outbox commit: in a worker thread), send (queued → the homeserver stored the
answer); bench/handler_cost.py --profile splits the handle part further.

    python bench/peer.py                  # 1 theme, 40 samples each
    python bench/peer.py --samples 60 --themes 5000

Timings are reported, never asserted (tests assert behaviour).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.scale import plan_csv, theme_name  # noqa: E402
from bot.demo.conversation import DEMO_PASSWORD, write_bot_config  # noqa: E402
from bot.demo.homeserver import Account, LocalSynapse, create_synapse  # noqa: E402
from bot.demo.scripted_user import ScriptedUser  # noqa: E402

PEER = "matrix-reminder-bot==0.4.0"
PEER_VENV = HERE.parent / ".bench-cache" / "matrix-reminder-bot-0.4.0"
PEER_COMMAND = "!listreminders"
HANDLED = re.compile(r"handled room=\S+ verb=status .* received_ms=([\d.]+) ms=([\d.]+)")


def peer_executable() -> Path:
    """The peer's entry point in its own venv (made and filled from PyPI the first time)."""
    executable = PEER_VENV / "bin" / "matrix-reminder-bot"
    if not executable.exists():
        print(f"installing {PEER} into {PEER_VENV} …", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        pip = [str(PEER_VENV / "bin" / "pip"), "install", "--quiet", PEER]
        subprocess.run(pip, check=True)
    return executable


def peer_config(directory: Path, synapse: LocalSynapse, peer: Account) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "config.yaml"
    path.write_text(
        f"""command_prefix: "!"
matrix:
  user_id: "{peer.user_id}"
  user_password: "{DEMO_PASSWORD}"
  homeserver_url: "{synapse.url}"
  device_id: PEERBENCH
  device_name: peer
storage:
  database: "sqlite://{directory / "reminders.db"}"
  store_path: "{directory / "store"}"
reminders:
  timezone: Europe/Berlin
allowlist:
  enabled: false
  regexes: []
blocklist:
  enabled: false
  regexes: []
logging:
  level: WARNING
  file_logging:
    enabled: false
  console_logging:
    enabled: true
""",
        "utf-8",
    )
    return path


def start(command: list[str], log: Path, cwd: Path | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    with log.open("a") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=cwd)


class Asker:
    """The scripted user's questions, timed as it sees them and at the homeserver."""

    def __init__(self, user: ScriptedUser) -> None:
        self.user = user

    def _own(self, event_id: str) -> dict | None:
        return next((r.content for r in self.user.received if r.event_id == event_id), None)

    async def _server_ms(self, asked: str, answer: dict) -> float:
        await self.user.wait_until(lambda: self._own(asked) is not None, timeout=30)
        command = self._own(asked)
        assert command is not None
        return float(answer["origin_server_ts"] - command["origin_server_ts"])

    async def reply(self, room_id: str, text: str) -> tuple[float, float]:
        """An answer that refers to the command (this bot, the echo)."""
        started = time.perf_counter()
        answer = await self.user.ask(room_id, text, timeout=60)
        round_trip = (time.perf_counter() - started) * 1000
        asked = answer.content["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]
        return round_trip, await self._server_ms(asked, answer.content)

    async def next_from(self, room_id: str, sender: str, text: str) -> tuple[float, float]:
        """The sender's next message in the room (the peer does not refer to the command)."""
        before = len(self.user.messages_in(room_id, sender))
        started = time.perf_counter()
        asked = await self.user.send(room_id, text)
        await self.user.wait_until(
            lambda: len(self.user.messages_in(room_id, sender)) > before, timeout=60
        )
        round_trip = (time.perf_counter() - started) * 1000
        answer = self.user.messages_in(room_id, sender)[before]
        return round_trip, await self._server_ms(asked, answer.content)


def median(samples: list[tuple[float, float]], at_server: bool = False) -> float:
    return statistics.median(s[1] if at_server else s[0] for s in samples)


def handled_phases(log: Path, samples: int) -> tuple[float, float] | None:
    """Medians of the last `samples` status commands' receive and handle times."""
    found = [tuple(map(float, m.groups())) for m in HANDLED.finditer(log.read_text())]
    if not found:
        return None
    last = found[-samples:]
    return statistics.median(r for r, _ in last), statistics.median(h for _, h in last)


async def seed_themes(directory: Path, config: Path, count: int, team_room: str) -> None:
    """`count` themes through `zt-bot import` (as bench/scale.py), before the bot starts."""
    plan = directory / "plan.csv"
    plan.write_text(plan_csv(count, [team_room]), "utf-8")
    command = [sys.executable, "-m", "bot", "import", "--config", str(config), str(plan)]
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    await asyncio.to_thread(
        subprocess.run, command, check=True, stdout=subprocess.DEVNULL, env=env, cwd=directory
    )


async def measure(samples: int, themes: int, keep: Path | None) -> None:
    executable = peer_executable()
    with tempfile.TemporaryDirectory(prefix="zt-peer-") as tmp:
        directory = keep or Path(tmp)
        synapse = create_synapse(directory / "synapse")
        synapse.start()
        processes: list[subprocess.Popen] = []
        user: ScriptedUser | None = None
        try:
            bot = synapse.register("zt-bot", DEMO_PASSWORD)
            peer = synapse.register("reminder", DEMO_PASSWORD)
            echo = synapse.register("echo", DEMO_PASSWORD)
            person = synapse.register("messung", DEMO_PASSWORD)
            user = ScriptedUser(synapse.url, person)
            await user.start()
            ours = await user.create_room([bot.user_id, echo.user_id], name="Messung")
            theirs = await user.create_room([peer.user_id, echo.user_id], name="Peer")
            config = write_bot_config(directory, synapse, bot.user_id, person.user_id)
            theme = "Digitale Ethik"
            if themes > 1:
                await seed_themes(directory, config, themes, ours)
                theme = theme_name(themes // 2)
            bot_log = directory / "bot.log"
            bot_run = [sys.executable, "-m", "bot", "run", "--config", str(config)]
            processes.append(start(bot_run, bot_log, cwd=directory))
            peer_dir = directory / "peer"
            processes.append(
                start([str(executable), str(peer_config(peer_dir, synapse, peer))],
                      directory / "peer.log", cwd=peer_dir)
            )  # fmt: skip
            echo_run = [
                sys.executable, str(HERE / "echo_client.py"), synapse.url,
                echo.user_id, echo.device_id, echo.access_token, "1700",
            ]  # fmt: skip
            processes.append(start(echo_run, directory / "echo.log"))
            for room_id, member in ((ours, bot), (ours, echo), (theirs, peer), (theirs, echo)):
                print(f"waiting for {member.user_id} in {room_id}", flush=True)
                await user.wait_for_member(room_id, member.user_id, timeout=120)
            asker = Asker(user)
            if themes <= 1:
                await user.ask(ours, f"!zt neu {theme} KW 15/2027", timeout=60)
            status = f"!zt status {theme}"
            rounds = {
                "echo (bot's room)": lambda: asker.reply(ours, "ping"),
                "this bot: status": lambda: asker.reply(ours, status),
                "echo (peer's room)": lambda: asker.reply(theirs, "ping"),
                "peer: listreminders": lambda: asker.next_from(theirs, peer.user_id, PEER_COMMAND),
            }
            for _ in range(5):  # warm-up
                for ask in rounds.values():
                    await ask()
            times: dict[str, list[tuple[float, float]]] = {name: [] for name in rounds}
            for _ in range(samples):
                for name, ask in rounds.items():
                    times[name].append(await ask())
            await asyncio.sleep(1)  # the last answers' log lines are written
            phases = handled_phases(bot_log, samples)
        finally:
            if user is not None:
                await user.close()
            for process in processes:
                process.terminate()
                process.wait(timeout=15)
            synapse.stop()
    report(samples, themes, times, phases)


def report(
    samples: int,
    themes: int,
    times: dict[str, list[tuple[float, float]]],
    phases: tuple[float, float] | None,
) -> None:
    load = os.getloadavg()
    print(f"\nbench/peer.py: {samples} interleaved samples each, {themes} theme(s), "
          f"load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min)")  # fmt: skip
    print("| | round trip, median (ms) | at the homeserver, median (ms) |")
    print("| --- | --- | --- |")
    for name, found in times.items():
        print(f"| {name} | {median(found):.1f} | {median(found, True):.1f} |")
    ratios = {}
    for at_server in (False, True):
        ours = median(times["this bot: status"], at_server) / median(
            times["echo (bot's room)"], at_server
        )
        theirs = median(times["peer: listreminders"], at_server) / median(
            times["echo (peer's room)"], at_server
        )
        ratios[at_server] = (ours, theirs)
    for at_server, (ours, theirs) in ratios.items():
        where = "at the homeserver" if at_server else "round trip"
        print(f"{where}: status / echo {ours:.3f}, peer / echo {theirs:.3f}, "
              f"ours / peer's {ours / theirs:.3f}")  # fmt: skip
    if phases is not None:
        received, handled = phases
        server = median(times["this bot: status"], True)
        print(
            f"this bot, homeserver event → answer {server:.1f} ms: receive {received:.1f}, "
            f"handle {handled:.1f}, send {server - received - handled:.1f} (medians)"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--themes", type=int, default=1)
    parser.add_argument("--keep", type=Path, help="a directory for the logs, kept")
    args = parser.parse_args()
    asyncio.run(measure(args.samples, args.themes, args.keep))
