"""How long `!zt status <Thema>` takes to come back, against a plain echo round trip.

Both the bot and the echo client run as their own processes on the same throwaway
Synapse; one scripted user sends `ping` and `!zt status Digitale Ethik` interleaved and
measures send → reply. Prints the medians and their ratio (target: ≤ 1.10). As a second
baseline the echo client also answers `ping gross` with a reply as large as the bot's
status table, which separates the bot's own work from the cost of a larger event.

    python bench/status_latency.py [--samples 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.demo.conversation import DEMO_PASSWORD, write_bot_config
from bot.demo.homeserver import Account, create_synapse
from bot.demo.scripted_user import ScriptedUser

HERE = Path(__file__).resolve().parent
STATUS = "!zt status Digitale Ethik"


def start(command: list[str], log: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    with log.open("w") as out:
        return subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)


def echo_command(url: str, echo: Account, big_bytes: int) -> list[str]:
    return [
        sys.executable, str(HERE / "echo_client.py"), url,
        echo.user_id, echo.device_id, echo.access_token, str(big_bytes),
    ]  # fmt: skip


async def timed(user: ScriptedUser, room_id: str, text: str) -> float:
    started = time.perf_counter()
    await user.ask(room_id, text)
    return (time.perf_counter() - started) * 1000


async def measure(samples: int) -> None:
    with tempfile.TemporaryDirectory(prefix="zt-bench-") as tmp:
        directory = Path(tmp)
        synapse = create_synapse(directory / "synapse")
        synapse.start()
        processes: list[subprocess.Popen] = []
        try:
            bot = synapse.register("zt-bot", DEMO_PASSWORD)
            echo = synapse.register("echo", DEMO_PASSWORD)
            person = synapse.register("messung", DEMO_PASSWORD)
            config = write_bot_config(directory, synapse, bot.user_id, person.user_id)
            bot_run = [sys.executable, "-m", "bot", "run", "--config", str(config)]
            processes.append(start(bot_run, directory / "bot.log"))
            user = ScriptedUser(synapse.url, person)
            await user.start()
            room_id = await user.create_room([bot.user_id], name="Messung")
            await user.wait_for_member(room_id, bot.user_id, timeout=60)
            await user.ask(room_id, "!zt neu Digitale Ethik KW 15/2027", timeout=60)
            status = await user.ask(room_id, STATUS)
            size = len(json.dumps(status.content["content"], ensure_ascii=False).encode()) // 2
            processes.append(start(echo_command(synapse.url, echo, size), directory / "echo.log"))
            await user.client.room_invite(room_id, echo.user_id)
            await user.wait_for_member(room_id, echo.user_id, timeout=60)
            for text in (STATUS, "ping", "ping gross") * 3:  # warm-up
                await user.ask(room_id, text)
            times: dict[str, list[float]] = {STATUS: [], "ping": [], "ping gross": []}
            for _ in range(samples):
                for text, found in times.items():
                    found.append(await timed(user, room_id, text))
            await user.close()
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=15)
            synapse.stop()
    report(samples, times)


def report(samples: int, times: dict[str, list[float]]) -> None:
    bot, echo, big = (statistics.median(times[k]) for k in (STATUS, "ping", "ping gross"))
    print(f"samples:                      {samples} each, interleaved")
    print(f"echo round trip median:       {echo:.1f} ms (p90 {quantile(times['ping']):.1f} ms)")
    print(
        f"echo, status-sized, median:   {big:.1f} ms (p90 {quantile(times['ping gross']):.1f} ms)"
    )
    print(f"!zt status median:            {bot:.1f} ms (p90 {quantile(times[STATUS]):.1f} ms)")
    print(f"ratio status/echo:            {bot / echo:.3f}")
    print(f"ratio status/status-sized:    {bot / big:.3f}")


def quantile(values: list[float], q: float = 0.9) -> float:
    return statistics.quantiles(values, n=10)[int(q * 10) - 1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=60)
    asyncio.run(measure(parser.parse_args().samples))
