"""Draws the reference pictures in tests/reference/ from tests/chart_samples.py, so that a
reviewer sees what the charts look like (the README shows one). Not compared pixel by
pixel in the tests (fonts and matplotlib versions move pixels); the tests check what the
pictures show through the figure's objects and its SVG.

    python bench/reference_charts.py
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.charts import Charts  # noqa: E402
from bot.charts.results import draw_comparison, draw_results  # noqa: E402
from bot.charts.timeline import draw_timeline  # noqa: E402
from bot.charts.year_plan import draw_year_plan  # noqa: E402
from tests import chart_samples as samples  # noqa: E402


def main() -> None:
    target = ROOT / "tests" / "reference"
    target.mkdir(exist_ok=True)
    charts = Charts()
    overdue = samples.theme_view(states={"1": "done", "2": "done"}, pinned=("5",))
    pictures = {
        "timeline.png": (draw_timeline, samples.timeline()),
        "timeline-overdue-en.png": (
            draw_timeline,
            samples.timeline(overdue, today=samples.TODAY.replace(day=29), language="en"),
        ),
        "year-plan-60-themes.png": (draw_year_plan, samples.year_plan()),
        "results.png": (draw_results, samples.results()),
        "results-comparison.png": (draw_comparison, samples.comparison()),
    }
    for name, (draw, data) in pictures.items():
        picture = charts.png(draw, data)
        (target / name).write_bytes(picture.png)
        print(f"{name}: {picture.width}×{picture.height}, {len(picture.png) / 1024:.1f} KB")


if __name__ == "__main__":
    main()
