"""A reverse proxy on loopback between the bot and the real Synapse that injects faults
into the bot's sends: HTTP 500 instead of an answer, or the connection dropped after
Synapse got the event (the worst moment: the event exists, the bot does not know)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

from bot.demo.homeserver import free_port

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


@dataclass
class FaultyProxy:
    upstream: str
    port: int = field(default_factory=free_port)
    # Faults for the next sends (PUT …/send/…), taken one by one: "500" or "drop".
    send_faults: list[str] = field(default_factory=list)
    sends_seen: int = 0
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(auto_decompress=False)
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        # Closing ends what is still in flight (the bot's 30 s long-poll sync) at once.
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def _forward(self, request: web.Request) -> web.StreamResponse:
        fault = None
        if request.method == "PUT" and "/send/" in request.path:
            self.sends_seen += 1
            fault = self.send_faults.pop(0) if self.send_faults else None
        if fault == "500":
            return web.json_response({"errcode": "M_UNKNOWN", "error": "injected"}, status=500)
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP_BY_HOP}
        async with self._session.request(
            request.method,
            f"{self.upstream}{request.path_qs}",
            headers=headers,
            data=await request.read(),
            timeout=aiohttp.ClientTimeout(total=120),
        ) as upstream:
            body = await upstream.read()
            if fault == "drop":
                # Synapse has the event; the bot hears nothing back.
                assert request.transport is not None
                request.transport.close()
                await asyncio.sleep(0)
                raise ConnectionResetError("injected: dropped after forwarding")
            response = web.Response(status=upstream.status, body=body)
            for key, value in upstream.headers.items():
                if key.lower() not in HOP_BY_HOP and key.lower() != "content-encoding":
                    response.headers[key] = value
            if "Content-Encoding" in upstream.headers:
                response.headers["Content-Encoding"] = upstream.headers["Content-Encoding"]
            return response
