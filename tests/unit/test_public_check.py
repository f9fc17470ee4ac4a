"""`zt-bot check --online` says whether the public page answers where it is configured:
a page that answers, one that refuses, and nothing listening, each over loopback."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Callable

import pytest
from aiohttp import web

from bot.cli.check import _public_finding
from bot.config import Config
from bot.matrix.online_check import Status


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
async def page() -> AsyncIterator[Callable[[int], int]]:
    """Serve `/` with a given status on a free loopback port; returns the port."""
    runners: list[web.AppRunner] = []

    async def serve(status: int) -> int:
        async def index(_request: web.Request) -> web.Response:
            return web.Response(status=status, text="Zukunftstische")

        app = web.Application()
        app.router.add_get("/", index)
        runner = web.AppRunner(app)
        await runner.setup()
        port = _free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return port

    yield serve
    for runner in runners:
        await runner.cleanup()


def _config(make_config: Callable[..., Config], port: int) -> Config:
    return make_config(f'[web]\nlisten = "127.0.0.1:{port}"\npublic = true')


async def test_a_page_that_answers_is_ok(make_config, page) -> None:
    port = await page(200)
    found = await _public_finding(_config(make_config, port))
    assert found.status == Status.ok
    assert found.line() == f"✓ Öffentliche Seite: http://127.0.0.1:{port}/ antwortet"


async def test_a_refusing_or_missing_page_is_a_warning_with_what_to_do(make_config, page) -> None:
    port = await page(502)
    refused = await _public_finding(_config(make_config, port))
    assert refused.status == Status.warning
    assert f"http://127.0.0.1:{port}/ antwortet mit HTTP 502 → läuft der Bot?" in refused.line()
    gone = await _public_finding(_config(make_config, _free_port()))
    assert gone.status == Status.warning and "antwortet nicht (ConnectError)" in gone.line()
    assert gone.line("en").startswith("! Public page: ")
