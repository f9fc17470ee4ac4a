"""`OParlClient`: reads a council information system over OParl without ever hurting the bot.

A client that behaves on the public internet: it says who it is (User-Agent with a
contact), asks at most N times per second, gives up after timeouts, reads at most so many
pages and bytes, asks conditionally (`If-None-Match`/`If-Modified-Since` per URL, and the
`modified_since` filter for lists it has read in full before), follows redirects only to
http(s), and detects lists whose `links.next` runs in a circle.

Every failure — unreachable, slow, an HTTP error, not JSON, data that does not validate,
too many pages, too large — surfaces as one exception, `OParlUnavailable` (failures.py),
whose code and values make the sentence the coordination office reads (oparl.j2).
The limits, the pacing and the cache live in politeness.py. The client never changes what it
remembers from a read that failed, so the caller can keep showing the last good data.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx
from pydantic import ValidationError

from bot import __version__
from bot.council.failures import Failure, OParlLookupError, OParlUnavailable, invalid
from bot.council.models import (
    AgendaItem,
    Body,
    ListPage,
    Meeting,
    OParlObject,
    Organization,
    Paper,
    System,
)
from bot.council.politeness import Budget, Cached, ClientLimits, RateLimiter, ResponseCache
from bot.council.reading import (
    BERLIN,
    CouncilData,
    PaperState,
    choose_body,
    choose_organization,
    council_meetings,
    paper_by_reference,
    paper_state,
)

# Re-exported: callers import the client's failures and limits from here.
__all__ = ["ClientLimits", "Failure", "OParlClient", "OParlUnavailable"]

log = logging.getLogger(__name__)

ObjectT = TypeVar("ObjectT", bound=OParlObject)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
# Subtracted from the server's clock for `modified_since`: objects changed while a list was
# being read, and servers whose nodes disagree by a few seconds, are then read again.
_SINCE_MARGIN = timedelta(minutes=5)


def _host(url: str) -> str:
    try:
        return urlsplit(url).netloc or url
    except ValueError:
        return url


def _with_query(url: str, **params: str) -> str:
    """The URL with these query parameters set (reserved characters encoded)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    query.extend(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _date_time(moment: date | datetime) -> str:
    """A filter value: a full date-time with offset, as the specification demands."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time())
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BERLIN)
    return moment.isoformat(timespec="seconds")


def _since(server_time: datetime) -> str:
    return (server_time - _SINCE_MARGIN).isoformat(timespec="seconds")


@dataclass(frozen=True)
class _Fetched:
    body: bytes
    server_time: datetime | None  # the response's Date header


@dataclass(frozen=True)
class _Snapshot:
    """A list read in full: its live objects and the `modified_since` for the next read."""

    since: str
    items: tuple[OParlObject, ...]


def _merge(old: Iterable[OParlObject], changed: list[OParlObject]) -> list[OParlObject]:
    fresh = {item.id: item for item in changed if not item.deleted}
    merged = {item.id: item for item in old}
    if merged.keys() <= fresh.keys():
        # Everything came again: the server ignored the filter, so its answer is the whole
        # list (and objects it dropped silently are gone here too).
        return list(fresh.values())
    for item in changed:
        merged.pop(item.id, None)
    merged.update(fresh)
    return list(merged.values())


class OParlClient:
    """Reads one council information system; keep one instance for the bot's lifetime.

    `contact` (a project URL or a mail address) goes into the User-Agent so that the
    city's administrators know who is asking. Use `async with` or call `aclose()`.
    """

    def __init__(
        self,
        *,
        contact: str,
        limits: ClientLimits | None = None,
        version: str = __version__,
        incremental: bool = True,
        trust_env: bool = True,
    ) -> None:
        self.limits = limits or ClientLimits()
        self.user_agent = f"Zukunftstische-Bot/{version} (+{contact})"
        self._incremental = incremental
        self._rate = RateLimiter(self.limits.requests_per_second)
        self._cache = ResponseCache(self.limits.cache_bytes)
        self._snapshots: dict[tuple[str, str], _Snapshot] = {}
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(self.limits.read_timeout, connect=self.limits.connect_timeout),
            headers={"User-Agent": self.user_agent, "Accept": "application/json"},
            follow_redirects=False,  # followed by hand: rate-limited, http(s) only
            limits=httpx.Limits(max_connections=4, max_keepalive_connections=2),
            trust_env=trust_env,
        )

    async def __aenter__(self) -> OParlClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- public calls ------------------------------------------------------------------

    async def council_meetings(
        self,
        entry_url: str,
        body: str | None = None,
        organization: str | None = None,
        *,
        today: date | None = None,
    ) -> CouncilData:
        """The chosen body and council (or committee) and its meetings that take place.

        `body`/`organization`: id or name, default the only body and its organization with
        classification "Parlament" (else `Body.mainOrganization`). `today` lets organizations
        that have ended (a council of an earlier term) drop out of the default choice.
        """
        async with self._operation() as budget:
            chosen_body = await self._body(entry_url, body, budget)
            organizations = await self._organizations(chosen_body, budget)
            chosen = choose_organization(organizations, chosen_body, organization, today=today)
            own_list = chosen.meeting is not None
            meetings_url = chosen.meeting or self._list_url(chosen_body, chosen_body.meeting)
            meetings = await self._read_list(meetings_url, Meeting, budget)
            kept = council_meetings(meetings, chosen, from_organization_list=own_list)
            return CouncilData(body=chosen_body, organization=chosen, meetings=kept)

    async def paper(
        self,
        entry_url: str,
        reference: str,
        *,
        body: str | None = None,
        created_since: date | datetime | None = None,
    ) -> PaperState | None:
        """The state of the paper with this `reference` ("BV/2027/0012"), None if unknown.

        Walks the body's paper list until the paper turns up. Large systems have thousands
        of papers: `created_since` (e.g. a few months before the theme's Z2; a date or a
        naive time counts in Europe/Berlin) uses the specification's filter to keep the walk
        short.
        """
        async with self._operation() as budget:
            chosen_body = await self._body(entry_url, body, budget)
            papers_url = self._list_url(chosen_body, chosen_body.paper)
            if created_since is not None:
                papers_url = _with_query(papers_url, created_since=_date_time(created_since))
            found = await self._find(
                papers_url, Paper, budget, lambda p: paper_by_reference([p], reference) is not None
            )
            return None if found is None else await self._resolve(found, budget)

    async def paper_by_url(self, paper_url: str) -> PaperState:
        """The state of a paper already linked (its `id`): a few requests, no list walk."""
        async with self._operation() as budget:
            found = await self._get_object(paper_url, Paper, budget)
            return await self._resolve(found, budget)

    # -- steps ---------------------------------------------------------------------------

    @asynccontextmanager
    async def _operation(self) -> AsyncIterator[Budget]:
        budget = Budget(self.limits.max_total_bytes)
        try:
            async with asyncio.timeout(self.limits.operation_deadline):
                yield budget
        except TimeoutError:
            raise OParlUnavailable(
                Failure.TIMEOUT, "operation_deadline", seconds=self.limits.operation_deadline
            ) from None
        except OParlLookupError as error:
            raise OParlUnavailable(Failure.CONFIG, error.code, **error.values) from None

    async def _body(self, entry_url: str, wanted: str | None, budget: Budget) -> Body:
        if urlsplit(entry_url).scheme.lower() not in ("http", "https"):
            raise OParlUnavailable(Failure.CONFIG, "entry_scheme", url=entry_url)
        system = await self._get_object(entry_url, System, budget)
        return choose_body(await self._read_list(system.body, Body, budget), wanted)

    async def _organizations(self, body: Body, budget: Budget) -> list[Organization]:
        organizations = list(
            await self._read_list(self._list_url(body, body.organization), Organization, budget)
        )
        main = body.main_organization
        if main and all(org.id != main for org in organizations):
            organizations.append(await self._get_object(main, Organization, budget))
        return organizations

    @staticmethod
    def _list_url(body: Body, url: str | None) -> str:
        if url is None:  # the model requires the lists of a body that is not deleted
            raise OParlUnavailable(Failure.INVALID, "body_without_list", body=body.id)
        return url

    async def _resolve(self, paper: Paper, budget: Budget) -> PaperState:
        """Fetch what the paper's consultations refer to, then read its state."""
        consultations = [c for c in paper.consultation if not c.deleted]
        meetings = {}
        for url in dict.fromkeys(c.meeting for c in consultations if c.meeting):
            meetings[url] = await self._get_object(url, Meeting, budget)
        embedded = {item.id for m in meetings.values() for item in m.agenda_item}
        items = []
        for url in dict.fromkeys(c.agenda_item for c in consultations if c.agenda_item):
            if url not in embedded:
                items.append(await self._get_object(url, AgendaItem, budget))
        for url in dict.fromkeys(i.meeting for i in items if i.meeting):
            if url not in meetings:
                meetings[url] = await self._get_object(url, Meeting, budget)
        organizations = []
        for url in dict.fromkeys(o for c in consultations for o in c.organization):
            organizations.append(await self._get_object(url, Organization, budget))
        return paper_state(
            paper,
            consultations=consultations,
            agenda_items=items,
            meetings=meetings.values(),
            organizations=organizations,
        )

    # -- lists ---------------------------------------------------------------------------

    async def _read_list(
        self, url: str, model: type[ObjectT], budget: Budget
    ) -> tuple[ObjectT, ...]:
        """All live objects of an external list; after one full read, only what changed."""
        key = (url, model.oparl_type)
        snapshot = self._snapshots.get(key) if self._incremental else None
        if snapshot is None:
            items, server_time = await self._walk(url, model, budget)
            live: list[OParlObject] = [item for item in items if not item.deleted]
        else:
            filtered = _with_query(url, modified_since=snapshot.since)
            changed, server_time = await self._walk(filtered, model, budget)
            live = _merge(snapshot.items, list(changed))
        if server_time is not None:
            self._snapshots[key] = _Snapshot(since=_since(server_time), items=tuple(live))
        else:
            self._snapshots.pop(key, None)
        return tuple(item for item in live if isinstance(item, model))

    async def _walk(
        self,
        first_url: str,
        model: type[ObjectT],
        budget: Budget,
        stop: Callable[[ObjectT], bool] | None = None,
    ) -> tuple[list[ObjectT], datetime | None]:
        """Follow `links.next` from the first page; with `stop`, end at the first match."""
        page_model = ListPage[model]  # type: ignore[valid-type]
        seen: set[str] = set()
        items: list[ObjectT] = []
        server_time: datetime | None = None
        url: str | None = first_url
        while url is not None:
            if url in seen:
                raise OParlUnavailable(Failure.LOOP, "loop", url=first_url, page=url)
            if len(seen) >= self.limits.max_pages:
                raise OParlUnavailable(
                    Failure.TOO_MANY_PAGES, "too_many_pages", url=first_url,
                    pages=self.limits.max_pages,
                )  # fmt: skip
            seen.add(url)
            fetched = await self._fetch(url, budget)
            if len(seen) == 1:
                server_time = fetched.server_time
            page = self._parse(fetched, page_model, url)
            items.extend(page.data)
            if stop is not None and any(stop(item) for item in page.data):
                break
            url = page.links.next
        return items, server_time

    async def _find(
        self, url: str, model: type[ObjectT], budget: Budget, match: Callable[[ObjectT], bool]
    ) -> ObjectT | None:
        items, _ = await self._walk(url, model, budget, stop=match)
        return next((item for item in items if not item.deleted and match(item)), None)

    # -- single requests ---------------------------------------------------------------

    async def _get_object(self, url: str, model: type[ObjectT], budget: Budget) -> ObjectT:
        return self._parse(await self._fetch(url, budget), model, url)

    @staticmethod
    def _parse(fetched: _Fetched, model: type[ObjectT], url: str) -> ObjectT:
        try:
            data = json.loads(fetched.body)
        except (ValueError, RecursionError):
            raise OParlUnavailable(Failure.NOT_JSON, "not_json", url=url) from None
        try:
            return model.model_validate(data)
        except ValidationError as error:
            raise invalid(url, error) from None
        except RecursionError:
            raise OParlUnavailable(Failure.INVALID, "too_deep", url=url) from None

    async def _fetch(self, url: str, budget: Budget) -> _Fetched:
        """GET with conditional headers and hand-followed redirects; 304 reuses the body."""
        cached = self._cache.get(url)
        headers = {}
        if cached is not None and cached.etag:
            headers["If-None-Match"] = cached.etag
        if cached is not None and cached.last_modified:
            headers["If-Modified-Since"] = cached.last_modified
        target = url
        for _ in range(self.limits.max_redirects + 1):
            status, response_headers, body = await self._send(target, headers, budget)
            if status in _REDIRECTS:
                target = self._redirect_target(target, response_headers)
                continue
            server_time = self._server_time(response_headers)
            if status == 304 and cached is not None:
                return _Fetched(cached.body, server_time)
            if status != 200:
                raise OParlUnavailable(Failure.HTTP, "http", status=status, url=target)
            etag, modified = response_headers.get("ETag"), response_headers.get("Last-Modified")
            if etag or modified:
                self._cache.put(url, Cached(body, etag, modified))
            else:
                self._cache.drop(url)
            return _Fetched(body, server_time)
        raise OParlUnavailable(Failure.REDIRECT, "too_many_redirects", url=url)

    async def _send(
        self, url: str, headers: dict[str, str], budget: Budget
    ) -> tuple[int, httpx.Headers, bytes]:
        """One rate-limited request; the body is read (within the caps) only for a 200."""
        await self._rate.wait()
        log.debug("OParl GET %s", url)
        try:
            async with asyncio.timeout(self.limits.request_deadline):
                async with self._http.stream("GET", url, headers=headers) as response:
                    body = b""
                    if response.status_code == 200:
                        body = await self._read_body(response, url, budget)
                    return response.status_code, response.headers, body
        except TimeoutError:
            raise OParlUnavailable(
                Failure.TIMEOUT, "slow", host=_host(url), url=url,
                seconds=self.limits.request_deadline,
            ) from None  # fmt: skip
        except httpx.TimeoutException:
            raise OParlUnavailable(
                Failure.TIMEOUT, "silent", host=_host(url), seconds=self.limits.read_timeout
            ) from None
        except httpx.ConnectError:
            raise OParlUnavailable(Failure.UNREACHABLE, "unreachable", host=_host(url)) from None
        except (httpx.InvalidURL, httpx.UnsupportedProtocol):
            raise OParlUnavailable(Failure.CONFIG, "bad_url", url=url) from None
        except httpx.DecodingError:
            raise OParlUnavailable(Failure.NOT_JSON, "encoding", url=url) from None
        except (httpx.HTTPError, httpx.StreamError):
            raise OParlUnavailable(Failure.UNREACHABLE, "dropped", host=_host(url)) from None

    async def _read_body(self, response: httpx.Response, url: str, budget: Budget) -> bytes:
        """The body, stopping as soon as it exceeds the per-response or the total cap."""
        limit = self.limits.max_response_bytes
        declared = response.headers.get("Content-Length", "")
        too_large = OParlUnavailable(Failure.TOO_LARGE, "too_large", url=url, size=limit)
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large
            budget.spend(len(chunk))
            chunks.append(chunk)
        return b"".join(chunks)

    @staticmethod
    def _redirect_target(current: str, headers: httpx.Headers) -> str:
        location = headers.get("Location")
        try:
            target = str(httpx.URL(current).join(location)) if location else ""
        except httpx.InvalidURL:
            target = ""
        if urlsplit(target).scheme.lower() not in ("http", "https"):
            raise OParlUnavailable(
                Failure.REDIRECT, "bad_redirect", url=current, target=(location or "")[:120]
            )
        return target

    @staticmethod
    def _server_time(headers: httpx.Headers) -> datetime | None:
        try:
            moment = parsedate_to_datetime(headers.get("Date", ""))
        except (TypeError, ValueError, IndexError):
            return None
        return moment if moment.tzinfo is not None else None
