"""A local OParl server for the client tests: the Musterstadt test system, and faults.

`OParlTestServer` serves tests/data/oparl by its routes.json on 127.0.0.1 (a free port,
a background thread), with `{base}` replaced by its own address. It honours the
specification's list filters (`modified_since`, `created_since`), answers conditional
requests with 304 (`If-None-Match`, `If-Modified-Since`), and records every request
(time, path, headers, status) so that tests can check rate limits and conditional requests.

Faults are injected per test with `server.override(path, reply)`: a `Reply` (status,
body, delay before answering, bytes trickled slowly, an endless body) or a function of
the query that returns one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import pytest_asyncio

from bot.council.client import ClientLimits, OParlClient
from tests.council import DATA, ROUTES

FILTERS = ("created_since", "created_until", "modified_since", "modified_until")
# The data is a snapshot as of 15 June 2027; every document claims that as its last change.
LAST_MODIFIED = datetime.fromisoformat("2027-06-15T08:00:00+00:00")
CONTACT = "https://example.org/zukunftstische-bot"


@dataclass(frozen=True)
class Reply:
    """What the server answers. `body`: bytes, text, or JSON (dict/list, `{base}` replaced)."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the status line
    trickle: float | None = None  # seconds between single bytes of the body
    endless: Iterable[bytes] | None = None  # a body without end (no Content-Length)
    conditional: bool = False  # send Last-Modified (and ETag) and answer 304 where they match
    etag: bool = True


@dataclass(frozen=True)
class Seen:
    """One request as the server saw it."""

    at: float  # time.monotonic()
    path: str  # with query string
    headers: dict[str, str]
    status: int

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(urlsplit(self.path).query))


Override = Reply | Callable[[dict[str, str]], Reply]


class OParlTestServer:
    def __init__(self, port: int = 0) -> None:
        """On a free port, or on `port` (a server started again where one was stopped)."""
        self._httpd = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.block_on_close = False
        self._httpd.oparl = self  # type: ignore[attr-defined]
        self.base = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self.entry = self.url(ROUTES["entrypoint"])
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._seen: list[Seen] = []
        self._overrides: dict[str, Override] = {}
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def close(self) -> None:
        self.stopping.set()  # wakes handlers that sleep or trickle
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def url(self, path: str) -> str:
        return self.base + path

    def override(self, path: str, reply: Override) -> None:
        """Answer `path` (without query string; or with, for one page) with a fault."""
        self._overrides[path] = reply

    def restore(self, path: str) -> None:
        """Serve `path` from the test system again."""
        self._overrides.pop(path, None)

    def document(self, path: str) -> Any:
        """The JSON served at a route (a path of routes.json), `{base}` replaced."""
        text = (DATA / ROUTES["json"][path]).read_text(encoding="utf-8")
        return json.loads(text.replace(ROUTES["placeholder"], self.base))

    @property
    def seen(self) -> list[Seen]:
        with self._lock:
            return list(self._seen)

    def seen_at(self, path: str) -> list[Seen]:
        """Requests for a path (query string ignored)."""
        return [s for s in self.seen if urlsplit(s.path).path == path]

    def record(self, seen: Seen) -> None:
        with self._lock:
            self._seen.append(seen)

    # -- what to answer ------------------------------------------------------------------

    def reply_for(self, raw_path: str) -> Reply:
        parts = urlsplit(raw_path)
        query = parse_qsl(parts.query, keep_blank_values=True)
        filters = {k: v for k, v in query if k in FILTERS}
        rest = [(k, v) for k, v in query if k not in FILTERS]
        route = parts.path + ("?" + urlencode(rest) if rest else "")
        override = self._overrides.get(route) or self._overrides.get(parts.path)
        if override is not None:
            return override(dict(query)) if callable(override) else override
        if route not in ROUTES["json"]:
            return Reply(404, {"type": "https://schema.oparl.org/1.1/Error", "message": "?"})
        return Reply(body=self._filtered(self.document(route), filters), conditional=True)

    @staticmethod
    def _filtered(document: Any, filters: dict[str, str]) -> Any:
        """Apply the list filters of the specification; keep them in the links."""
        if not filters or "data" not in document:
            return document
        for name, value in filters.items():
            moment = datetime.fromisoformat(value)
            attribute = name.split("_")[0]  # created / modified
            if name.endswith("_since"):
                document["data"] = [
                    d for d in document["data"] if datetime.fromisoformat(d[attribute]) >= moment
                ]
            else:
                document["data"] = [
                    d for d in document["data"] if datetime.fromisoformat(d[attribute]) <= moment
                ]
        for key, link in list(document.get("links", {}).items()):
            parts = urlsplit(link)
            query = [*parse_qsl(parts.query), *filters.items()]
            document["links"][key] = urlunsplit(parts._replace(query=urlencode(query)))
        return document


def _not_modified(headers: Any, etag: str | None) -> bool:
    if etag and headers.get("If-None-Match") is not None:
        return headers.get("If-None-Match") == etag
    since = headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(since) >= LAST_MODIFIED
    except (TypeError, ValueError):
        return False


class _Handler(BaseHTTPRequestHandler):
    server_version = "MusterstadtRIS/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet tests

    def do_GET(self) -> None:
        oparl: OParlTestServer = self.server.oparl  # type: ignore[attr-defined]
        reply = oparl.reply_for(self.path)
        body = reply.body
        if isinstance(body, dict | list):
            body = json.dumps(body, ensure_ascii=False)
        if isinstance(body, str):
            body = body.replace(ROUTES["placeholder"], oparl.base).encode("utf-8")
        status, headers = reply.status, dict(reply.headers)
        if reply.conditional and status == 200:
            etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"' if reply.etag else None
            headers["Last-Modified"] = format_datetime(LAST_MODIFIED, usegmt=True)
            if etag:
                headers["ETag"] = etag
            if _not_modified(self.headers, etag):
                status, body = 304, b""
        if status == 200 and "Content-Type" not in headers:
            headers["Content-Type"] = "application/json; charset=utf-8"
        oparl.record(Seen(time.monotonic(), self.path, dict(self.headers.items()), status))
        if reply.delay and oparl.stopping.wait(reply.delay):
            return
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._answer(oparl, reply, status, headers, body)  # unless the client gave up

    def _answer(
        self, oparl: OParlTestServer, reply: Reply, status: int, headers: dict, body: bytes
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if reply.endless is None and reply.trickle is None:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if reply.endless is not None:
            for chunk in reply.endless:
                if oparl.stopping.is_set():
                    return
                self.wfile.write(chunk)
        elif reply.trickle is not None:
            for index in range(len(body)):
                self.wfile.write(body[index : index + 1])
                self.wfile.flush()
                if oparl.stopping.wait(reply.trickle):
                    return
        else:
            self.wfile.write(body)


@pytest.fixture
def oparl_server() -> Iterator[OParlTestServer]:
    server = OParlTestServer()
    server.start()
    yield server
    server.close()


@pytest.fixture
def closed_port_url() -> str:
    """An address where nothing listens (a port that was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/oparl/v1/system"


# Quick limits for tests: timeouts short (but not so short that a busy 2-core machine
# trips them: the tests of timeouts set their own), the rate limit out of the way unless
# a test sets it.
FAST = ClientLimits(
    connect_timeout=2.0,
    read_timeout=2.0,
    request_deadline=4.0,
    operation_deadline=20.0,
    requests_per_second=1000.0,
)


@pytest_asyncio.fixture
async def make_client() -> AsyncIterator[Callable[..., OParlClient]]:
    """`make_client(max_pages=5, …)`: an OParlClient with FAST limits, these changed."""
    clients: list[OParlClient] = []

    def make(**changes: Any) -> OParlClient:
        limits = ClientLimits(**{**FAST.__dict__, **changes})
        client = OParlClient(contact=CONTACT, limits=limits, trust_env=False)
        clients.append(client)
        return client

    yield make
    for client in clients:
        await client.aclose()
