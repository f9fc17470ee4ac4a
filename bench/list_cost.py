"""The list commands' own work, in process, with many themes: what `jahresplan`, the
overview, `themen`, `erinnerungen` and `auswertung` cost as the number of themes grows,
without Matrix (bench/scale.py measures the same at the homeserver, against an echo).

    python bench/list_cost.py [--themes 1,5000] [--repeat 15] [--profile "jahresplan 2029"]

The themes come from an annual plan as `zt-bot import` reads it (the same names and Z2
days as bench/scale.py: spread over four years, so a year holds a quarter of them).
With --profile, cProfile prints the named command's 25 costliest functions.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from bench.handler_cost import CONFIG  # noqa: E402
from bench.scale import LISTS, plan_csv  # noqa: E402
from bot.app import build_bot  # noqa: E402
from bot.config import parse_config  # noqa: E402
from bot.domain.plan_file import read_plan  # noqa: E402
from bot.domain.process import load_template  # noqa: E402
from bot.matrix.adapter import Incoming  # noqa: E402
from bot.store.plan_import import import_plan  # noqa: E402

ROOMS = [f"!team{n}:localhost" for n in range(20)]


COMMANDS = [f"!zt {verb}" for verb in LISTS] + ["!zt status Thema 00000 Stadtentwicklung"]


def measure(count: int, repeat: int, profile: str | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="zt-lists-") as tmp:
        bot = build_bot(parse_config(CONFIG, Path(tmp), environ={}))
        now = bot.clock.now()
        import_plan(
            bot.store,
            read_plan(plan_csv(count, ROOMS)),
            template=load_template(None),
            actor="@koordination:localhost",
            now=now,
        )
        medians = {}
        for number, text in enumerate(COMMANDS):
            samples = []
            for sample in range(repeat):
                incoming = Incoming(text, "@koordination:localhost", ROOMS[0])
                started = time.perf_counter()
                bot.dispatcher.handle(incoming, f"${number}.{sample}", False)
                samples.append((time.perf_counter() - started) * 1000)
            medians[text] = statistics.median(samples)
        if profile:
            profiler = cProfile.Profile()
            profiler.enable()
            for sample in range(repeat):
                incoming = Incoming(f"!zt {profile}", "@koordination:localhost", ROOMS[0])
                bot.dispatcher.handle(incoming, f"$p{sample}", False)
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
        bot.store.close()
    return medians


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--themes", default="1,5000")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--profile")
    args = parser.parse_args()
    counts = [int(n) for n in args.themes.split(",")]
    runs = {count: measure(count, args.repeat, args.profile) for count in counts}
    print(f"{'command':42}" + "".join(f"{n:>10} themes" for n in counts))
    for text in runs[counts[0]]:
        print(f"{text:42}" + "".join(f"{runs[n][text]:13.1f} ms" for n in counts))


if __name__ == "__main__":
    main()
