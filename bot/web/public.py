"""The public page for citizens (issue 24, `[web] public = true`): `/` (this year's and
next year's public themes by quarter), `/thema/<slug>` (one theme's phases, the current
one highlighted, its timeline picture), `/kalender.ics` (the public themes' dates),
`/themen.json` (the same as data, schema docs/themen.schema.json) and the stylesheet.

Everything is built from the pure view model (bot.domain.public_page), which copies no
internal value; Jinja autoescapes every value. HEAD and GET only (aiohttp answers 405
for other methods), a strict Content-Security-Policy, ETag and Last-Modified with 304,
and a bounded rate per client (429 beyond)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

from aiohttp import web

from bot.charts import ChartWords
from bot.charts.drawing import Charts
from bot.charts.timeline import StepMark, TimelineData, draw_timeline
from bot.domain.ics import public_calendar
from bot.domain.polls import Summary
from bot.domain.public_page import PublicPage, PublicResults, PublicTheme, public_page
from bot.domain.themes import ThemeView
from bot.rendering import Renderer, templates_dir
from bot.store.evaluations import EvaluationStore, stored_summary
from bot.store.feeds import FeedTokens
from bot.store.themes import Store
from bot.web.feeds import not_modified

SCHEMA_VERSION = "1.1"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "public, max-age=0, must-revalidate",
}
# A theme's address: part of the page's public interface, like the chat verbs.
THEME_PATH = "/thema/{slug:[a-z0-9-]{1,80}}"
EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# Clients remembered for the rate; beyond, the longest quiet one is forgotten.
MAX_CLIENTS = 10_000
# The timeline's state per public phase state (its colours and legend words).
_MARK_STATES = {"done": "erledigt", "current": "faellig", "upcoming": "offen"}
_PHASE_STATES = ("done", "current", "upcoming")
_MARK_KINDS = {"preparation": "phase", "participation": "phase", "evaluation": "continuous"}


class RateLimit:
    """At most `per_minute` requests per client in any minute (a sliding window)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._limit = per_minute
        self._clock = clock
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def allow(self, client: str) -> bool:
        now = self._clock()
        times = self._seen.pop(client, None) or deque()
        while times and times[0] <= now - 60:
            times.popleft()
        allowed = len(times) < self._limit
        if allowed:
            times.append(now)
        self._seen[client] = times
        while len(self._seen) > MAX_CLIENTS:
            self._seen.popitem(last=False)
        return allowed


@dataclass(frozen=True)
class Body:
    data: bytes
    content_type: str
    last_modified: datetime

    @property
    def etag(self) -> str:
        return hashlib.sha256(self.data).hexdigest()[:32]


class PublicSite:
    def __init__(
        self,
        store: Store,
        tokens: FeedTokens,
        charts: Charts,
        *,
        now: Callable[[], datetime],
        rate: int = 120,
        trusted_proxies: Iterable[str] = (),
        base: str = "",
        min_answers: int = 3,
    ) -> None:
        self._store = store
        self._evaluations = EvaluationStore(store)
        # The k-anonymity threshold: the evaluation's own, or the configured one if higher.
        self._min_answers = min_answers
        self._tokens = tokens
        self._charts = charts
        self._now = now
        self._rate = RateLimit(rate)
        self._proxies = frozenset(trusted_proxies)
        self._base = base.rstrip("/")
        # The page is German (issue 24), whatever language the bot speaks in chat.
        self._renderer = Renderer("de")
        self._words = self._renderer.words("public_words")
        self._months = tuple(self._words["months"].split())
        self._chart_words = ChartWords.of(self._renderer.words("chart_words"))
        self._css = (templates_dir() / "de" / "public" / "style.css").read_bytes()

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/", self._serve(self.index)),
            web.get(THEME_PATH, self._serve(self.theme)),
            web.get(THEME_PATH + "/zeitplan.png", self._serve(self.picture)),
            web.get("/kalender.ics", self._serve(self.calendar)),
            web.get("/themen.json", self._serve(self.json)),
            web.get("/oeffentlich.css", self._serve(self.stylesheet)),
        ]

    # What each address shows (database, templates, pictures: off the event loop).

    def page(self) -> tuple[PublicPage, datetime]:
        views = self._store.public_themes()
        changes = self._tokens.changes(view.id for view in views)
        newest = max((max(found) for found in changes.values() if found), default=EPOCH)
        now = self._now()
        # What is current moves with the day: the page is as new as today at least.
        day_start = datetime.combine(now.date(), datetime.min.time(), now.tzinfo)
        modified = max(newest, day_start).astimezone(UTC).replace(microsecond=0)
        return public_page(views, now.date(), self._results(views)), modified

    def _results(self, views: list[ThemeView]) -> dict[int, Summary]:
        """The published evaluations' summaries by theme, under the threshold."""
        published = self._evaluations.published([view.id for view in views])
        return {
            theme_id: stored_summary(
                self._evaluations,
                replace(found, min_answers=max(found.min_answers, self._min_answers)),
            )
            for theme_id, found in published.items()
        }

    def _html(self, name: str, page: PublicPage, modified: datetime, **context: object) -> Body:
        text = self._renderer.page(
            f"public/{name}", page=page, words=self._words, months=self._months, base=self._base,
            **context,
        )  # fmt: skip
        return Body(text.encode("utf-8"), "text/html", modified)

    def index(self, _slug: str | None) -> Body | None:
        page, modified = self.page()
        return self._html("index", page, modified)

    def theme(self, slug: str | None) -> Body | None:
        page, modified = self.page()
        found = page.find(slug or "")
        return None if found is None else self._html("theme", page, modified, theme=found)

    def picture(self, slug: str | None) -> Body | None:
        page, modified = self.page()
        found = page.find(slug or "")
        if found is None or not found.phases:
            return None
        data = timeline_of(found, page.today, self._chart_words, self._words)
        drawn = self._charts.png(draw_timeline, data)
        return Body(drawn.png, "image/png", modified)

    def calendar(self, _slug: str | None) -> Body | None:
        page, modified = self.page()
        events = [
            (f"{theme.slug}-{phase.kind}", f"{theme.name}: {self._words['phase_' + phase.kind]}",
             phase.first, phase.last, phase.link)
            for theme in page.themes
            for phase in theme.phases
        ]  # fmt: skip
        body = public_calendar(events, name=self._words["calendar_name"], base=self._base)
        return Body(body, "text/calendar", modified)

    def json(self, _slug: str | None) -> Body | None:
        page, modified = self.page()
        data = themes_json(page, self._words, self._base)
        text = json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True)
        return Body(text.encode("utf-8"), "application/json", modified)

    def stylesheet(self, _slug: str | None) -> Body | None:
        return Body(self._css, "text/css", EPOCH)

    def client(self, request: web.Request) -> str:
        peer = request.remote or "?"
        forwarded = request.headers.get("X-Forwarded-For", "")
        if peer in self._proxies and forwarded.strip():
            return forwarded.split(",")[-1].strip()
        return peer

    def _serve(self, build: Callable[[str | None], Body | None]) -> Callable:
        async def serve(request: web.Request) -> web.StreamResponse:
            if not self._rate.allow(self.client(request)):
                raise web.HTTPTooManyRequests(headers={**HEADERS, "Retry-After": "60"})
            found = await asyncio.to_thread(build, request.match_info.get("slug"))
            if found is None:
                raise web.HTTPNotFound(headers=HEADERS)
            if not_modified(request, found):
                response = web.Response(status=304, headers=HEADERS)
            else:
                charset = None if found.content_type == "image/png" else "utf-8"
                response = web.Response(
                    body=found.data, content_type=found.content_type, charset=charset,
                    headers=HEADERS,
                )  # fmt: skip
            response.etag = found.etag
            response.last_modified = found.last_modified
            return response

        return serve


def timeline_of(
    theme: PublicTheme, today: date, words: ChartWords, names: dict[str, str]
) -> TimelineData:
    """The citizen's timeline picture: the public phases only (no place, no person), each
    with the page's word for where it stands; the legend names only those words."""
    marks = tuple(
        StepMark(
            key=str(number),
            label=names[f"phase_{phase.kind}"],
            kind=_MARK_KINDS.get(phase.kind, "meeting"),
            due=phase.first,
            end=phase.last,
            state=_MARK_STATES[phase.state],
            pinned=False,
            at_council=False,
            holiday=None,
            is_current=phase.state == "current",
        )
        for number, phase in enumerate(
            (p for p in theme.phases if p.kind != "participation"), start=1
        )
    )
    window = next((p for p in theme.phases if p.kind == "participation"), None)
    return TimelineData(
        theme=theme.name,
        today=today,
        steps=marks,
        participation=(window.first, window.last or window.first) if window else None,
        holidays=(),
        school_breaks=(),
        council=(),
        words=words,
        # The citizen's words for where a phase stands, never the internal step states.
        states=tuple((_MARK_STATES[state], names[f"state_{state}"]) for state in _PHASE_STATES),
    )


def _results_json(results: PublicResults | None) -> dict | None:
    """A published evaluation: per question with enough answers its counts and shares."""
    if results is None:
        return None
    return {
        "min_answers": results.min_answers,
        "questions": [
            {
                "key": question.key,
                "text": question.text,
                "answers": question.answers,
                "mean": question.mean,
                "distribution": [
                    {"text": answer.text, "count": answer.count, "share": answer.share}
                    for answer in question.distribution
                ],
            }
            for question in results.questions
        ],
    }


def themes_json(page: PublicPage, words: dict[str, str], base: str) -> dict:
    """`/themen.json`, as docs/themen.schema.json describes it (version SCHEMA_VERSION)."""

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "schema_version": SCHEMA_VERSION,
        "today": page.today.isoformat(),
        "themes": [
            {
                "slug": theme.slug,
                "name": theme.name,
                "url": f"{base}/thema/{theme.slug}",
                "department": theme.department,
                "status": theme.status,
                "status_text": words[f"status_{theme.status}"],
                "year": theme.year,
                "quarter": theme.quarter,
                "planned_quarter": theme.quarter_text,
                "z2": day(theme.z2),
                "decided_on": day(theme.decided_on),
                "phases": [
                    {
                        "kind": phase.kind,
                        "name": words[f"phase_{phase.kind}"],
                        "first": day(phase.first),
                        "last": day(phase.last),
                        "state": phase.state,
                        "link": phase.link,
                        "reference": phase.reference,
                        "result": phase.result,
                    }
                    for phase in theme.phases
                ],
                "results": _results_json(theme.results),
            }
            for theme in page.themes
        ],
    }
