"""Messages per room for one theme-year (Digitale Ethik, Z2 in KW 15/2027, a team room, a
Z2 room, the citizen dialogue office's room, a council meeting), simulated day by day
through the real store, router and reminder engine (tests/year.py): once with every step
marked on time, once never marked.

    python bench/year_messages.py [--show] [--config '[reminders]\\ncoordination = "all"']
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.year import ROOM_NAMES, CityYear


def simulate(marked: bool, extra_config: str, show: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="zt-year-") as tmp:
        year = CityYear(Path(tmp), extra_config=extra_config)
        try:
            asyncio.run(year.run(marked=marked))
        finally:
            year.close()
    title = "marked on time" if marked else "never marked"
    counts = year.per_room()
    print(f"{title}: {len(year.sent)} messages")
    for room in ROOM_NAMES.values():
        print(f"  {room:<14} {counts.get(room, 0):>4}")
    digests = [s for s in year.sent if s.body.startswith(("Wochenübersicht", "Weekly"))]
    empty = [s for s in digests if "nichts fällig" in s.body or "nothing due" in s.body]
    print(f"  digests: {len(digests)}, of which say only that nothing is due: {len(empty)}")
    if show:
        for s in year.sent:
            first = s.body.splitlines()[0] if s.body else ""
            room = ROOM_NAMES.get(s.room_id, s.room_id)
            print(f"    {s.at:%d.%m.%Y %H:%M} {room:<14} {first[:110]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--show", action="store_true", help="list every message")
    parser.add_argument("--config", default="", help="TOML appended to the config")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    for marked in (True, False):
        simulate(marked, args.config.replace("\\n", "\n"), args.show)


if __name__ == "__main__":
    main()
