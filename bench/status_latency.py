"""How long `!zt status <Thema>` takes to come back, against a plain echo round trip.

Both the bot and the echo client run as their own processes on the same throwaway
Synapse; one scripted user sends `ping` and `!zt status Digitale Ethik` interleaved and
measures send → reply. Prints the medians and their ratio (target: ≤ 1.10).

    python bench/status_latency.py [--samples 60]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bot.demo import DEMO_PASSWORD, write_bot_config
from bot.devserver import Account, create_synapse
from bot.scripted import ScriptedUser

HERE = Path(__file__).resolve().parent


def start_processes(
    directory: Path, config: Path, url: str, echo: Account
) -> list[subprocess.Popen]:
    """The bot and the echo client, each in its own process."""
    env = {**os.environ, "PYTHONPATH": str(HERE.parent)}
    bot = [sys.executable, "-m", "bot", "run", "--config", str(config)]
    baseline = [sys.executable, str(HERE / "echo_client.py"), url]
    baseline += [echo.user_id, echo.device_id, echo.access_token]
    with (directory / "bot.log").open("w") as log:
        return [
            subprocess.Popen(bot, env=env, stderr=log),
            subprocess.Popen(baseline, env=env, stdout=subprocess.DEVNULL),
        ]


async def wait_for(user: ScriptedUser, room_id: str, member: str) -> None:
    await user.wait_for_member(room_id, member, timeout=60)


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
            processes = start_processes(directory, config, synapse.url, echo)
            user = ScriptedUser(synapse.url, person)
            await user.start()
            room_id = await user.create_room([bot.user_id, echo.user_id], name="Messung")
            await wait_for(user, room_id, bot.user_id)
            await wait_for(user, room_id, echo.user_id)
            await user.ask(room_id, "!zt neu Digitale Ethik KW 15/2027", timeout=60)
            for _ in range(3):  # warm-up: caches, connections, first template compile
                await user.ask(room_id, "!zt status Digitale Ethik")
                await user.ask(room_id, "ping")
            bot_times, echo_times = [], []
            for _ in range(samples):
                for text, times in (("ping", echo_times), ("!zt status Digitale Ethik", bot_times)):
                    started = time.perf_counter()
                    await user.ask(room_id, text)
                    times.append((time.perf_counter() - started) * 1000)
            await user.close()
        finally:
            for process in processes:
                process.terminate()
                process.wait(timeout=15)
            synapse.stop()
    bot_median, echo_median = statistics.median(bot_times), statistics.median(echo_times)
    print(f"samples:                 {samples} each, interleaved")
    print(f"echo round trip median:  {echo_median:.1f} ms (p90 {quantile(echo_times):.1f} ms)")
    print(f"!zt status median:       {bot_median:.1f} ms (p90 {quantile(bot_times):.1f} ms)")
    print(f"ratio status/echo:       {bot_median / echo_median:.3f}")


def quantile(values: list[float], q: float = 0.9) -> float:
    return statistics.quantiles(values, n=10)[int(q * 10) - 1]


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=60)
    asyncio.run(measure(parser.parse_args().samples))
