"""`/healthz` and `/metrics`: health that means "works", and numbers for Prometheus.

`/healthz` answers 200 "ok" or 503 with the reasons, one per line (the same ones
`zt-bot health` gives, in the bot's language: templates/<lang>/health.j2); `/metrics` is
the Prometheus text format.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from aiohttp import web

from bot.health import STANDBY, Limits, Snapshot, problems, room_notes, say, standby_reason
from bot.metrics import BotMetrics
from bot.rendering import Renderer


def health_routes(
    snapshot: Callable[[], Snapshot],
    now: Callable[[], datetime],
    limits: Limits,
    metrics: BotMetrics,
    words: Renderer,
) -> list[web.RouteDef]:
    async def healthz(_request: web.Request) -> web.Response:
        current = snapshot()
        found = problems(current, now(), limits)
        notes = room_notes(current, now())  # rooms still being joined: said, not failed
        if found:
            return web.Response(status=503, text=say([*found, *notes], words, "\n") + "\n")
        if current.role == STANDBY:
            # Healthy and ready: it waits, as it should (see deploy/kubernetes.yaml).
            return web.Response(text=f"standby\n{standby_reason(current, now()).text(words)}\n")
        return web.Response(text="\n".join(["ok", *(note.text(words) for note in notes)]) + "\n")

    async def prometheus(_request: web.Request) -> web.Response:
        body, content_type = metrics.exposition()
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    return [web.get("/healthz", healthz), web.get("/metrics", prometheus)]
