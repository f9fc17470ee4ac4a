"""The bot's own work per command, in process: routing, database, rendering and the
outbox write, without Matrix. Complements status_latency.py and peer.py (whose "handle"
part this splits).

    python bench/handler_cost.py [--repeat 300] [--profile]

With --profile, cProfile splits `status` into its parts (shares of the profiled time,
scaled to the unprofiled median: the profiler's own cost falls on every part alike).
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time
from pathlib import Path

from bot.app import build_bot
from bot.config import parse_config
from bot.matrix.adapter import Incoming

CONFIG = """[matrix]
homeserver = "http://127.0.0.1:1"
user_id = "@bot:localhost"
password = "unused"
[bot]
coordinators = ["@koordination:localhost"]
"""


# The parts of a command, as functions cProfile sees (file suffix, function name).
PARTS = {
    "dispatch (all of it)": ("bot/dispatcher.py", "handle"),
    "name lookup": ("bot/store/name_index.py", "exact"),
    "theme with its parts": ("bot/store/theme_queries.py", "theme"),
    "council days": ("bot/store/council.py", "days"),
    "render (text + HTML)": ("bot/rendering.py", "message"),
    "outbox record": ("bot/store/outbox.py", "record"),
}


def split(profile: cProfile.Profile, median_ms: float) -> None:
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    cumulative = {
        label: sum(
            entry[3] for (path, _line, name), entry in stats.items()
            if path.endswith(suffix) and name == function
        )
        for label, (suffix, function) in PARTS.items()
    }  # fmt: skip
    total = cumulative["dispatch (all of it)"] or 1.0
    for label, seconds in cumulative.items():
        print(f"  {label:24} {seconds / total * median_ms:5.2f} ms ({seconds / total:4.0%})")


def measure(repeat: int, profile: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="zt-handler-") as tmp:
        bot = build_bot(parse_config(CONFIG, Path(tmp), environ={}))
        dispatcher = bot.dispatcher  # as the running adapter calls it

        def command(text: str) -> Incoming:
            return Incoming(text, "@koordination:localhost", "!raum:localhost")

        dispatcher.handle(command("!zt neu Digitale Ethik KW 15/2027"), "$seed", True)
        handler, with_outbox = [], []
        for number in range(repeat):
            status = command("!zt status Digitale Ethik")
            started = time.perf_counter()
            bot.router.handle(status.body, sender=status.sender, room_id=status.room_id,
                              now=bot.clock.now())  # fmt: skip
            handler.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            dispatcher.handle(status, f"${number}", False)
            with_outbox.append((time.perf_counter() - started) * 1000)
        profiler = cProfile.Profile()
        if profile:
            profiler.enable()
            for number in range(repeat):
                dispatcher.handle(command("!zt status Digitale Ethik"), f"$p{number}", False)
            profiler.disable()
        bot.store.close()
    print(f"!zt status, handler only:        median {statistics.median(handler):.2f} ms")
    print(f"!zt status, with outbox record:  median {statistics.median(with_outbox):.2f} ms")
    if profile:
        split(profiler, statistics.median(with_outbox))


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=300)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    measure(args.repeat, args.profile)
