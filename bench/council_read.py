"""What one read of the council information system costs the city's server and the bot.

Serves the Musterstadt OParl test system on loopback (the test suite's server) and runs
the council engine's read as the bot does: a first read, a second one (conditional
requests and `modified_since`), and the `!zt vorlage` lookup. Prints requests, answers
304, bytes, and wall time with the client's default politeness (2 requests a second) and
without the rate limit (the bot's own work: HTTP, parsing, the database).

    python bench/council_read.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.app import build_bot
from bot.config import parse_config
from bot.council.client import ClientLimits
from bot.council.wiring import client_for
from tests.council.conftest import OParlTestServer

NOW = datetime(2027, 6, 15, 9, 0, tzinfo=ZoneInfo("Europe/Berlin"))


def config_text(entry: str) -> str:
    return f"""[matrix]
homeserver = "http://127.0.0.1:1"
user_id = "@bot:localhost"
password = "unused"
[rooms]
koordination = "!koordination:localhost"
[council]
oparl = "{entry}"
"""


async def one_run(limits: ClientLimits) -> dict[str, float]:
    server = OParlTestServer()
    server.start()
    try:
        with tempfile.TemporaryDirectory(prefix="zt-council-") as tmp:
            bot = build_bot(parse_config(config_text(server.entry), Path(tmp), environ={}))
            engine = bot.council
            assert engine is not None
            await engine.client.aclose()
            engine.client = client_for(bot.config, limits)
            engine.deliver = lambda key, room, content: None
            await engine.start()
            found: dict[str, float] = {}
            for name in ("first", "second"):
                before = len(server.seen)
                started = time.perf_counter()
                assert await engine.read(NOW)
                found[f"{name} s"] = time.perf_counter() - started
                seen = server.seen[before:]
                found[f"{name} requests"] = len(seen)
                found[f"{name} 304"] = sum(s.status == 304 for s in seen)
            before = len(server.seen)
            started = time.perf_counter()
            paper = await asyncio.to_thread(
                engine.find_paper, "BV/2027/0012", created_since=None, now=NOW
            )
            assert paper is not None and paper.decided
            found["vorlage s"] = time.perf_counter() - started
            found["vorlage requests"] = len(server.seen) - before
            await engine.aclose()
            bot.store.close()
            return found
    finally:
        server.close()


async def measure(repeat: int) -> None:
    for label, limits in (
        ("default politeness (2 requests/s)", ClientLimits()),
        ("no rate limit (the bot's own work)", ClientLimits(requests_per_second=1000.0)),
    ):
        runs = [await one_run(limits) for _ in range(repeat)]
        print(f"{label}, median of {repeat}:")
        for key in runs[0]:
            value = statistics.median(run[key] for run in runs)
            shown = f"{value:.3f}" if key.endswith(" s") else f"{value:.0f}"
            print(f"  {key:<18} {shown}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    asyncio.run(measure(parser.parse_args().repeat))
