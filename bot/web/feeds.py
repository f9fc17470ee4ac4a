"""Calendar feeds (iCalendar) that Outlook and Thunderbird subscribe to.

`GET /kalender/<token>.ics`: one theme's steps, or every theme's, as all-day events (a
meeting with a time: a timed one in the city's zone) with stable UIDs; each event is
stamped with the time its theme last changed, so the same data gives the same bytes, the
ETag is their hash, and a moved step comes with a higher SEQUENCE under the same UID
(the subscriber's event moves instead of a second appearing). A conditional request
(If-None-Match, If-Modified-Since) for an unchanged feed gets 304. Only a known token
opens a feed; anything else is 404, revealing nothing."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Protocol

from aiohttp import web

from bot.config import FEED_PATH
from bot.domain.ics import BERLIN, CalendarLabels, change_sequence, feed_calendar
from bot.domain.themes import ThemeView
from bot.store.database import is_unavailable
from bot.store.feeds import FeedTokens
from bot.store.themes import Store

log = logging.getLogger(__name__)

CONTENT_TYPE = "text/calendar"
# Clients and the city's proxy may keep it briefly, but must ask again (cheaply: 304).
CACHE_CONTROL = "private, max-age=0, must-revalidate"
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class FeedBody:
    body: bytes
    etag: str
    last_modified: datetime


class CalendarFeeds:
    def __init__(
        self,
        store: Store,
        tokens: FeedTokens,
        *,
        lead_names: Mapping[str, str],
        all_themes_name: str,
        labels: CalendarLabels,
        zone: tzinfo = BERLIN,
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._lead_names = dict(lead_names)
        self._all_themes_name = all_themes_name
        self._labels = labels
        self._zone = zone

    def routes(self) -> list[web.RouteDef]:
        return [web.get(FEED_PATH + "/{token:[A-Za-z0-9_-]{1,64}}.ics", self.serve)]

    def build(self, token: str) -> FeedBody | None:
        """The feed a token opens (database and iCalendar: run off the event loop)."""
        feed = self._tokens.find(token)
        if feed is None:
            return None
        milestones = []
        if feed.theme_id is None:
            views = self._store.themes(include_archived=True)
            name = self._all_themes_name
            # The city's other strategies' milestones belong to no theme: the feed of all.
            milestones = self._store.milestones()
        else:
            view = self._store.theme_by_id(feed.theme_id)
            if view is None:
                return None
            views, name = [view], view.theme.name
        changes = self._tokens.changes(view.id for view in views)
        themes: list[tuple[ThemeView, datetime, int]] = []
        for view in views:
            moments = changes.get(view.id) or [EPOCH]
            themes.append((view, max(moments), change_sequence(moments)))
        body = feed_calendar(
            themes,
            name=name,
            lead_names=self._lead_names,
            labels=self._labels,
            zone=self._zone,
            milestones=milestones,
        )
        moved = [m.changed_at for m in milestones if m.changed_at is not None]
        # Whole seconds: Last-Modified has no finer grain, and If-Modified-Since is compared.
        newest = max([at for _, at, _ in themes] + moved, default=EPOCH).replace(microsecond=0)
        return FeedBody(body, hashlib.sha256(body).hexdigest()[:32], newest)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        token = request.match_info["token"]
        try:
            found = await asyncio.to_thread(self.build, token)
        except Exception as err:
            if is_unavailable(err):
                log.warning("calendar feed: database unavailable")
                raise web.HTTPServiceUnavailable(headers={"Retry-After": "30"}) from err
            raise
        if found is None:
            raise web.HTTPNotFound()
        headers = {"Cache-Control": CACHE_CONTROL, "X-Robots-Tag": "noindex"}
        if not_modified(request, found):
            response = web.Response(status=304, headers=headers)
        else:
            response = web.Response(
                body=found.body, content_type=CONTENT_TYPE, charset="utf-8", headers=headers
            )
        response.etag = found.etag
        response.last_modified = found.last_modified
        return response


class Validated(Protocol):
    """A body with its validators (a feed, a public page)."""

    @property
    def etag(self) -> str: ...

    @property
    def last_modified(self) -> datetime: ...


def not_modified(request: web.Request, found: Validated) -> bool:
    """RFC 9110: If-None-Match decides when present; else If-Modified-Since."""
    if request.if_none_match:
        return any(tag.value in (found.etag, "*") for tag in request.if_none_match)
    since = request.if_modified_since
    return since is not None and found.last_modified <= since
