"""Calendar feeds over HTTP, on both backends: a token per feed (made once, renewed on
request, the old one then dead), nothing served without a token, text/calendar with
ETag and Last-Modified, 304 for an unchanged feed, and a moved step that keeps its UID
with a higher SEQUENCE (so a subscribed calendar moves the event instead of adding one).
The chat side (`!zt kalender … abo`, `verschieben`) is in tests/integration/test_feeds.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from icalendar import Calendar

from bot.domain.ics import CalendarLabels
from bot.domain.process import load_template
from bot.domain.timeline import plan
from bot.rendering import Renderer
from bot.store.feeds import FeedTokens
from bot.store.themes import Store
from bot.web.feeds import CalendarFeeds
from bot.web.server import WebServer

LABELS = CalendarLabels.from_words(Renderer().words("calendar_words"))

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ACTOR = "@koordination:stadt.example"


@pytest.fixture
def store(store: Store) -> Store:
    """The shared store, with two themes."""
    template = load_template()
    for name, z2 in (("Mobilität", date(2027, 4, 12)), ("Digitale Ethik", date(2027, 6, 7))):
        store.create_theme(
            name=name, z2=z2, planned_quarter=None, team_room=None, template=template,
            planned=plan(template, z2), created_by=ACTOR, now=NOW,
        )  # fmt: skip
    return store


@pytest_asyncio.fixture
async def server(store: Store) -> AsyncIterator[WebServer]:
    server = WebServer("127.0.0.1", 0)
    feeds = CalendarFeeds(
        store,
        FeedTokens(store),
        lead_names={},
        labels=LABELS,
        all_themes_name="Zukunftstische (alle Themen)",
    )
    server.add_routes(feeds.routes())
    await server.start()
    yield server
    await server.stop()


def url(server: WebServer, path: str) -> str:
    return f"http://127.0.0.1:{server.port}{path}"


def events(body: bytes) -> dict[str, dict]:
    calendar = Calendar.from_ical(body)
    return {
        str(e["UID"]): {
            "start": e.decoded("DTSTART"),
            "sequence": int(e["SEQUENCE"]),
            "summary": str(e["SUMMARY"]),
        }
        for e in calendar.walk("VEVENT")
    }


def test_a_token_is_made_once_and_renewing_replaces_it(store: Store) -> None:
    tokens = FeedTokens(store)
    mobility = store.theme("Mobilität")
    assert mobility is not None
    first = tokens.token(mobility.id, actor=ACTOR, now=NOW)
    assert len(first) >= 43  # 32 random bytes, url-safe
    assert tokens.token(mobility.id, actor=ACTOR, now=NOW) == first
    every = tokens.token(None, actor=ACTOR, now=NOW)
    assert every != first
    assert tokens.find(first).theme_id == mobility.id  # type: ignore[union-attr]
    assert tokens.find(every).theme_id is None  # type: ignore[union-attr]
    renewed = tokens.renew(mobility.id, actor=ACTOR, now=NOW)
    assert renewed != first
    assert tokens.find(first) is None
    assert tokens.find(renewed) is not None
    assert tokens.find("") is None and tokens.find("x" * 500) is None


def test_a_deleted_themes_token_is_gone_with_it(store: Store) -> None:
    tokens = FeedTokens(store)
    view = store.theme("Digitale Ethik")
    assert view is not None
    token = tokens.token(view.id, actor=ACTOR, now=NOW)
    store.delete_theme(view.id)
    assert tokens.find(token) is None


async def test_the_feed_is_served_with_its_headers_and_304_when_unchanged(
    store: Store, server: WebServer
) -> None:
    view = store.theme("Mobilität")
    assert view is not None
    token = FeedTokens(store).token(view.id, actor=ACTOR, now=NOW)
    async with httpx.AsyncClient() as client:
        response = await client.get(url(server, f"/kalender/{token}.ics"))
        assert response.status_code == 200
        assert response.headers["content-type"] == "text/calendar; charset=utf-8"
        etag = response.headers["etag"]
        modified = response.headers["last-modified"]
        assert etag.startswith('"') and modified.endswith("GMT")
        found = events(response.content)
        assert len(found) == 9  # 8 steps and the participation window
        assert all(e["summary"].startswith("Mobilität: ") for e in found.values())
        again = await client.get(url(server, f"/kalender/{token}.ics"))
        assert again.content == response.content and again.headers["etag"] == etag
        cached = await client.get(
            url(server, f"/kalender/{token}.ics"), headers={"If-None-Match": etag}
        )
        assert cached.status_code == 304 and cached.content == b""
        since = await client.get(
            url(server, f"/kalender/{token}.ics"), headers={"If-Modified-Since": modified}
        )
        assert since.status_code == 304
        other = await client.get(
            url(server, f"/kalender/{token}.ics"), headers={"If-None-Match": '"anders"'}
        )
        assert other.status_code == 200
        head = await client.head(url(server, f"/kalender/{token}.ics"))
        assert head.status_code == 200


async def test_nothing_is_served_without_a_valid_token(store: Store, server: WebServer) -> None:
    view = store.theme("Mobilität")
    assert view is not None
    tokens = FeedTokens(store)
    old = tokens.token(view.id, actor=ACTOR, now=NOW)
    tokens.renew(view.id, actor=ACTOR, now=NOW)
    async with httpx.AsyncClient() as client:
        for path in (
            "/", "/kalender", "/kalender/", "/kalender/.ics", f"/kalender/{old}.ics",
            "/kalender/geraten.ics", f"/kalender/{old}", "/healthz", "/kalender/../etc/passwd",
        ):  # fmt: skip
            response = await client.get(url(server, path))
            assert response.status_code == 404, path
            assert b"BEGIN:VCALENDAR" not in response.content
        posted = await client.post(url(server, f"/kalender/{old}.ics"))
        assert posted.status_code in (404, 405)


async def test_a_moved_step_keeps_its_uid_with_a_higher_sequence(
    store: Store, server: WebServer
) -> None:
    view = store.theme("Mobilität")
    assert view is not None
    token = FeedTokens(store).token(None, actor=ACTOR, now=NOW)  # the feed of every theme
    async with httpx.AsyncClient() as client:
        before = await client.get(url(server, f"/kalender/{token}.ics"))
        assert Calendar.from_ical(before.content)["X-WR-CALNAME"] == "Zukunftstische (alle Themen)"
        old = events(before.content)
        assert len(old) == 18  # per theme: 8 steps and the participation window
        z2 = date(2027, 4, 19)
        moved = {p.key: p.due for p in plan(view.template, z2)}
        store.set_step_dates(
            view.id, moved, actor=ACTOR, now=NOW + timedelta(hours=2), action="moved",
            z2=z2, old=date(2027, 4, 12), new=z2, moved=len(moved),
        )  # fmt: skip
        after = await client.get(
            url(server, f"/kalender/{token}.ics"),
            headers={"If-None-Match": before.headers["etag"]},
        )
        assert after.status_code == 200
        assert after.headers["etag"] != before.headers["etag"]
        new = events(after.content)
    assert set(new) == set(old)  # the same events, updated, none added
    for uid, event in new.items():
        if event["summary"].startswith("Mobilität: "):
            assert event["start"] == old[uid]["start"] + timedelta(weeks=1)
            assert event["sequence"] > old[uid]["sequence"]
        else:  # the other theme did not change
            assert event == old[uid]


async def test_the_feed_of_every_theme_follows_a_moved_milestone(
    store: Store, server: WebServer
) -> None:
    """Milestones of the other strategies (issue 21): in the feed of every theme, not in a
    theme's; a moved one keeps its UID with a higher SEQUENCE."""
    from bot.domain.milestones import Milestone

    def reallabor(first: date) -> Milestone:
        return Milestone("Reallabor", first, first, f"{first:%d.%m.%Y}", "day")

    store.set_milestone(reallabor(date(2027, 5, 3)), actor=ACTOR, now=NOW)
    view = store.theme("Mobilität")
    assert view is not None
    tokens = FeedTokens(store)
    every, one = (
        tokens.token(None, actor=ACTOR, now=NOW),
        tokens.token(view.id, actor=ACTOR, now=NOW),
    )
    uid = "zt-meilenstein-reallabor@zukunftstische"
    async with httpx.AsyncClient() as client:
        before = events((await client.get(url(server, f"/kalender/{every}.ics"))).content)
        assert before[uid]["start"] == date(2027, 5, 3)
        assert before[uid]["summary"] == "◆ Meilenstein: Reallabor"
        assert uid not in events((await client.get(url(server, f"/kalender/{one}.ics"))).content)
        store.set_milestone(reallabor(date(2027, 5, 10)), actor=ACTOR, now=NOW + timedelta(hours=1))
        after = events((await client.get(url(server, f"/kalender/{every}.ics"))).content)
    assert after[uid]["start"] == date(2027, 5, 10)
    assert after[uid]["sequence"] > before[uid]["sequence"]
