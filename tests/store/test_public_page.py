"""The public page over HTTP (issue 24) on a real store: the concept's three example
themes, nothing internal on any page, the JSON valid against its schema, 304, 405, 429,
the Content-Security-Policy; and the view model behind it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import jsonschema
import pytest
import pytest_asyncio
from icalendar import Calendar

from bot.charts.drawing import Charts, ChartWords
from bot.charts.timeline import STATE_WORDS, draw_timeline, timeline_data
from bot.domain.annual_plan import SchoolHolidays
from bot.domain.public_page import public_page
from bot.domain.working_days import WorkingCalendar
from bot.rendering import Renderer
from bot.store.evaluations import EvaluationStore
from bot.store.feeds import FeedTokens
from bot.store.themes import Store
from bot.web.public import CSP, PublicSite, timeline_of
from bot.web.server import WebServer
from tests.public_samples import (
    BELOW_THRESHOLD,
    NOW,
    OPEN_ANSWER,
    PAPER_LINK,
    PARTICIPATION,
    SECRETS,
    SHOWN_QUESTION,
    TODAY,
    concept_themes,
    internal_question,
    leaky_theme,
    published_evaluation,
)

SCHEMA = json.loads((Path(__file__).parents[2] / "docs" / "themen.schema.json").read_text())
PAGES = ("/", "/thema/digitale-ethik", "/thema/mobilitat", "/thema/regenwasserbewirtschaftung")


@pytest.fixture
def store(store: Store) -> Store:
    concept_themes(store)
    return store


async def serve(store: Store, rate: int = 1000) -> WebServer:
    server = WebServer("127.0.0.1", 0)
    site = PublicSite(store, FeedTokens(store), Charts(), now=lambda: NOW, rate=rate)
    server.add_routes(site.routes())
    await server.start()
    return server


@pytest_asyncio.fixture
async def client(store: Store) -> AsyncIterator[httpx.AsyncClient]:
    server = await serve(store)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
        yield client
    await server.stop()


def test_the_view_model_of_the_three_example_themes(store: Store) -> None:
    page = public_page(store.themes(), TODAY)
    ethik, mobil, regen = (
        page.find(s) for s in ("digitale-ethik", "mobilitat", "regenwasserbewirtschaftung")
    )
    assert ethik is not None and mobil is not None and regen is not None
    assert ethik.status == "decided" and str(ethik.decided_on) == "2027-04-29"
    council = next(p for p in ethik.phases if p.kind == "council")
    assert council.result == "Unverändert beschlossen"
    draft = next(p for p in ethik.phases if p.kind == "draft")
    assert draft.reference == "BV/2027/0012" and draft.link == PAPER_LINK
    assert mobil.status == "running" and mobil.current is not None
    assert mobil.current.kind == "participation" and mobil.current.link == PARTICIPATION
    assert [p.kind for p in mobil.phases] == [
        "preparation", "participation", "expertise", "z2", "draft", "council", "evaluation"
    ]  # fmt: skip
    assert regen.status == "idea" and regen.quarter_text == "Q4/2027" and regen.phases == ()
    assert [(g.year, g.quarter) for g in page.by_quarter()] == [(2027, 1), (2027, 2), (2027, 4)]


def test_a_theme_not_made_public_is_not_on_the_page(store: Store) -> None:
    store.set_public(store.theme("Mobilität").id, False, actor="@k:x", now=NOW)
    page = public_page(store.themes(), TODAY)
    assert page.find("mobilitat") is None and len(page.themes) == 2


async def test_every_page_shows_the_example_themes_and_nothing_internal(
    store: Store, client: httpx.AsyncClient
) -> None:
    published_evaluation(store, leaky_theme(store))
    bodies = {}
    for path in (*PAGES, "/thema/klimaanpassung", "/kalender.ics", "/themen.json"):
        response = await client.get(path)
        assert response.status_code == 200, path
        bodies[path] = response.text
    picture = await client.get("/thema/klimaanpassung/zeitplan.png")
    assert picture.headers["content-type"] == "image/png"
    # The published evaluation: never an open answer, a question below the threshold or
    # the internal evaluation; the question that reached it does show.
    hidden = (*SECRETS, OPEN_ANSWER, BELOW_THRESHOLD, internal_question())
    for path, body in bodies.items():
        for secret in hidden:
            assert secret not in body, (path, secret)
    assert SHOWN_QUESTION in bodies["/thema/klimaanpassung"]
    assert SHOWN_QUESTION in bodies["/themen.json"]
    assert "Ratsentscheidung am 29.04.2027" in bodies["/"]
    assert "in Planung, Q4/2027" in bodies["/"] and "läuft" in bodies["/"]
    assert 'aria-current="step"' in bodies["/thema/mobilitat"]
    assert f'href="{PARTICIPATION}"' in bodies["/thema/mobilitat"]
    assert "Unverändert beschlossen" in bodies["/thema/digitale-ethik"]
    assert "<script" not in "".join(bodies.values())
    calendar = Calendar.from_ical(bodies["/kalender.ics"])
    summaries = {str(e["summary"]) for e in calendar.walk("VEVENT")}
    assert "Mobilität: Digitale Beteiligung" in summaries
    assert not any("Regenwasser" in s for s in summaries)  # an idea has no dates yet


async def test_the_json_validates_against_its_schema(client: httpx.AsyncClient) -> None:
    data = (await client.get("/themen.json")).json()
    jsonschema.validate(data, SCHEMA)
    assert data["schema_version"] == SCHEMA["properties"]["schema_version"]["const"]
    assert [t["name"] for t in data["themes"]][:2] == ["Digitale Ethik", "Mobilität"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "themes": [{"name": 1}]}, SCHEMA)


async def test_headers_304_and_only_get_and_head(client: httpx.AsyncClient) -> None:
    response = await client.get("/")
    assert response.headers["content-security-policy"] == CSP
    assert "script-src" not in CSP and "default-src 'none'" in CSP
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    etag, modified = response.headers["etag"], response.headers["last-modified"]
    again = await client.get("/", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert (await client.get("/", headers={"If-Modified-Since": modified})).status_code == 304
    assert (await client.get("/", headers={"If-None-Match": '"anders"'})).status_code == 200
    head = await client.head("/thema/mobilitat")
    assert head.status_code == 200 and head.content == b""
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert (await client.request(method, "/")).status_code == 405, method
    assert (await client.get("/thema/gibt-es-nicht")).status_code == 404
    assert (await client.get("/thema/%3Cscript%3E")).status_code == 404
    css = await client.get("/oeffentlich.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"


async def test_a_client_beyond_its_rate_gets_429(store: Store) -> None:
    server = await serve(store, rate=3)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            codes = [(await client.get("/oeffentlich.css")).status_code for _ in range(5)]
            refused = await client.get("/")
    finally:
        await server.stop()
    assert codes == [200, 200, 200, 429, 429]
    assert refused.status_code == 429 and refused.headers["retry-after"] == "60"


async def test_every_value_is_escaped(store: Store, client: httpx.AsyncClient) -> None:
    theme = store.theme("Mobilität")
    store.set_department(theme.id, '<script>alert("x")</script>', actor="@k:x", now=NOW)
    body = (await client.get("/thema/mobilitat")).text
    assert "<script>" not in body and "&lt;script&gt;" in body


async def test_a_published_evaluation_shows_counts_only_above_the_threshold(
    store: Store, client: httpx.AsyncClient
) -> None:
    theme = store.theme("Mobilität").id
    published_evaluation(store, theme)
    data = (await client.get("/themen.json")).json()
    jsonschema.validate(data, SCHEMA)
    mobil = next(t for t in data["themes"] if t["name"] == "Mobilität")
    results = mobil["results"]
    assert results["min_answers"] == 3
    assert [q["key"] for q in results["questions"]] == ["gesamt"]  # not `ziel`: 2 answers
    gesamt = results["questions"][0]
    assert gesamt["answers"] == 5 and gesamt["mean"] == 4.6
    assert [(a["count"], a["share"]) for a in gesamt["distribution"]] == [
        (3, 60), (2, 40), (0, 0), (0, 0), (0, 0)
    ]  # fmt: skip
    assert all(t["results"] is None for t in data["themes"] if t["name"] != "Mobilität")
    page = (await client.get("/thema/mobilitat")).text
    assert "Ergebnisse der Befragung" in page and "mindestens 3 Personen" in page
    assert "<td>3</td><td>60 %</td>" in page and "Mittelwert 4,6 von 5" in page
    # Taken off again: the page and the data show no results.
    assert EvaluationStore(store).set_public(theme, None, actor="@k:x", now=NOW)
    again = (await client.get("/themen.json")).json()
    assert next(t for t in again["themes"] if t["name"] == "Mobilität")["results"] is None
    assert "Ergebnisse der Befragung" not in (await client.get("/thema/mobilitat")).text


async def test_a_higher_configured_threshold_hides_more(store: Store) -> None:
    published_evaluation(store, store.theme("Mobilität").id)
    server = WebServer("127.0.0.1", 0)
    site = PublicSite(store, FeedTokens(store), Charts(), now=lambda: NOW, min_answers=6)
    server.add_routes(site.routes())
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}") as client:
            data = (await client.get("/themen.json")).json()
            page = (await client.get("/thema/mobilitat")).text
    finally:
        await server.stop()
    mobil = next(t for t in data["themes"] if t["name"] == "Mobilität")
    assert mobil["results"] == {"min_answers": 6, "questions": []}
    assert SHOWN_QUESTION not in page and "Keine Frage hat mindestens 6 Antworten" in page


def test_the_public_timeline_speaks_the_citizens_words_not_the_internal_states(
    store: Store,
) -> None:
    """The picture's input and its drawn legend: the page's phase words (abgeschlossen,
    aktuelle Phase, geplant), none of the internal step states or marks it does not draw;
    the internal timeline of the same theme keeps its own words."""
    renderer = Renderer("de")
    words = ChartWords.of(renderer.words("chart_words"))
    names = renderer.words("public_words")
    page = public_page(store.themes(), TODAY)
    mobil = page.find("mobilitat")
    assert mobil is not None
    data = timeline_of(mobil, TODAY, words, names)
    public_words = {names["state_done"], names["state_current"], names["state_upcoming"]}
    assert {word for _state, word in data.legend_states()} == public_words
    figure = draw_timeline(data)
    legend = {text.get_text() for text in figure.legends[0].get_texts()}
    # Beside each mark: its day and where it stands, in the page's words.
    beside = {
        text.get_text().split(" · ")[1]
        for text in figure.axes[0].texts
        if (text.get_gid() or "").startswith("state-")
    }
    internal = {words(key) for key in STATE_WORDS.values()} | {
        words("holiday"), words("school_break"), words("council"), words("kind_deadline")
    }  # fmt: skip
    assert public_words <= legend and not legend & internal
    assert beside == {names["state_done"], names["state_upcoming"]}  # Mobilität: 1 done
    view = store.theme("Mobilität")
    inner = timeline_data(
        view, TODAY, council=(), calendar=WorkingCalendar(), school=SchoolHolidays(),
        words=words,
    )  # fmt: skip
    inner_legend = {t.get_text() for t in draw_timeline(inner).legends[0].get_texts()}
    assert words("state_overdue") in inner_legend and names["state_current"] not in inner_legend
