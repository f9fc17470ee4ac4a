"""One HTTP server for everything the bot serves over HTTP.

Each part (calendar feeds, later the health endpoint and metrics) brings its routes and
adds them before `start()`; whatever no route matches is a plain 404. aiohttp comes with
matrix-nio, so the server needs no new dependency. No access log: feed URLs carry a
secret token, and the log never holds a secret.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from aiohttp import web

log = logging.getLogger(__name__)


class WebServer:
    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self.app = web.Application()
        self._runner: web.AppRunner | None = None

    def add_routes(self, routes: Iterable[web.RouteDef]) -> None:
        self.app.add_routes(list(routes))

    async def start(self) -> None:
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        # With port 0 (tests) the system picks one: remember which.
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = sockets[0].getsockname()[1]
        log.info("web: listening on http://%s:%d", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
