"""The bot's own work per command, in process: routing, database, rendering and the
outbox write, without Matrix. Complements status_latency.py.

    python bench/handler_cost.py [--repeat 300]
"""

from __future__ import annotations

import argparse
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


def measure(repeat: int) -> None:
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
        bot.store.close()
    print(f"!zt status, handler only:        median {statistics.median(handler):.2f} ms")
    print(f"!zt status, with outbox record:  median {statistics.median(with_outbox):.2f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=300)
    measure(parser.parse_args().repeat)
