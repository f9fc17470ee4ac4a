"""How long a picture takes to draw, and how large it is (target: < 1 s, ≤ 300 KB).

Measures, each from a fresh renderer (no cache), with the data built as the commands
build it: one theme's timeline, a year plan of 60 themes (8 of them ideas), one theme's
results and the comparison of three themes; and a second call with the same content
(the cache). Prints the median of `--samples` runs: "data" is what the command computes
before drawing (annual plan, holidays, states), "draw+png" the drawing, PNG and thumbnail.

    python bench/charts.py [--samples 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.charts import Charts
from bot.charts.results import draw_comparison, draw_results
from bot.charts.timeline import draw_timeline
from bot.charts.year_plan import draw_year_plan
from tests import chart_samples as samples

# The themes as the store hands them over (not timed): the command's work starts there.
YEAR = samples.year_views(60)

CASES: dict[str, tuple[Callable, Callable]] = {
    "timeline (1 theme)": (draw_timeline, samples.timeline),
    "year plan (60 themes)": (draw_year_plan, lambda: samples.year_plan(YEAR)),
    "results (1 theme)": (draw_results, samples.results),
    "comparison (3 themes)": (draw_comparison, samples.comparison),
}


def measure(
    draw: Callable, build: Callable, samples_n: int
) -> tuple[float, float, float, float, int]:
    """(median data s, median draw+PNG s, median CPU s of both, cached s, PNG bytes).

    The CPU time is this process's own: on a machine shared with other work it is the
    steadier number; the wall time is what a user waits."""
    data_times, draw_times, cpu_times = [], [], []
    size = 0
    for _ in range(samples_n):
        cpu = time.process_time()
        started = time.perf_counter()
        data = build()
        built = time.perf_counter()
        charts = Charts()
        picture = charts.png(draw, data)
        done = time.perf_counter()
        cpu_times.append(time.process_time() - cpu)
        data_times.append(built - started)
        draw_times.append(done - built)
        size = len(picture.png)
    started = time.perf_counter()
    charts.png(draw, data)
    cached = time.perf_counter() - started
    median = statistics.median
    return median(data_times), median(draw_times), median(cpu_times), cached, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    Charts().png(draw_results, samples.results())  # fonts and imports warm, as in a running bot
    print(
        f"{'picture':24} {'data':>8} {'draw+png':>9} {'total':>8} {'CPU':>8} "
        f"{'cached':>8} {'PNG':>9}"
    )
    for name, (draw, build) in CASES.items():
        data_s, draw_s, cpu_s, cached_s, size = measure(draw, build, args.samples)
        print(
            f"{name:24} {data_s * 1000:6.0f}ms {draw_s * 1000:7.0f}ms "
            f"{(data_s + draw_s) * 1000:6.0f}ms {cpu_s * 1000:6.0f}ms "
            f"{cached_s * 1000:6.2f}ms {size / 1024:7.1f}KB"
        )


if __name__ == "__main__":
    main()
