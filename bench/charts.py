"""How long a picture takes to draw, and how large it is (target: < 1 s, ≤ 300 KB).

Measures, each from a fresh renderer (no cache), with the data built as the commands
build it: one theme's timeline, a year plan of 60 themes (8 of them ideas), one theme's
results and the comparison of three themes; and a second call with the same content
(the cache). Prints the median of `--samples` runs.

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

from tests import chart_samples as samples
from zukunftstische.charts import Charts
from zukunftstische.charts.results import draw_comparison, draw_results
from zukunftstische.charts.timeline import draw_timeline
from zukunftstische.charts.year_plan import draw_year_plan

CASES: dict[str, tuple[Callable, Callable]] = {
    "timeline (1 theme)": (draw_timeline, samples.timeline),
    "year plan (60 themes)": (draw_year_plan, lambda: samples.year_plan(samples.year_views(60))),
    "results (1 theme)": (draw_results, samples.results),
    "comparison (3 themes)": (draw_comparison, samples.comparison),
}


def measure(draw: Callable, build: Callable, samples_n: int) -> tuple[float, float, float, int]:
    """(median data s, median draw+PNG s, cached s, PNG bytes)."""
    data_times, draw_times = [], []
    size = 0
    for _ in range(samples_n):
        started = time.perf_counter()
        data = build()
        built = time.perf_counter()
        charts = Charts()
        picture = charts.png(draw, data)
        done = time.perf_counter()
        data_times.append(built - started)
        draw_times.append(done - built)
        size = len(picture.png)
    started = time.perf_counter()
    charts.png(draw, data)
    cached = time.perf_counter() - started
    return statistics.median(data_times), statistics.median(draw_times), cached, size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=5)
    args = parser.parse_args()
    Charts().png(draw_results, samples.results())  # fonts and imports warm, as in a running bot
    print(f"{'picture':24} {'data':>8} {'draw+png':>9} {'total':>8} {'cached':>8} {'PNG':>9}")
    for name, (draw, build) in CASES.items():
        data_s, draw_s, cached_s, size = measure(draw, build, args.samples)
        print(
            f"{name:24} {data_s * 1000:6.0f}ms {draw_s * 1000:7.0f}ms "
            f"{(data_s + draw_s) * 1000:6.0f}ms {cached_s * 1000:6.2f}ms {size / 1024:7.1f}KB"
        )


if __name__ == "__main__":
    main()
