"""council.client over HTTP: the walk through the test system, and every fault the server can
inject, each ending in one OParlUnavailable with a German reason."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable, Iterator
from datetime import date, datetime
from typing import Any

import pytest

from bot import __version__
from bot.council.client import Failure, OParlClient, OParlUnavailable
from tests.council import summary
from tests.council.conftest import CONTACT, OParlTestServer, Reply

MEETINGS = "/oparl/v1/body/1/meetings"
MEETINGS_2 = "/oparl/v1/body/1/meetings?page=2"
SYSTEM = "/oparl/v1/system"
# A guard against a hanging test, not a measurement: every call must come back by itself.
GUARD = 30

MakeClient = Callable[..., OParlClient]


async def _fails(call: Awaitable[Any]) -> OParlUnavailable:
    with pytest.raises(OParlUnavailable) as info:
        await asyncio.wait_for(call, GUARD)
    return info.value


def _days(data: Any) -> list[date]:
    return [m.start.date() for m in data.meetings]


async def test_the_whole_walk_over_http(oparl_server: OParlTestServer, make_client) -> None:
    client = make_client()
    data = await client.council_meetings(oparl_server.entry)
    assert data.body.name == "Stadt Musterstadt"
    assert data.organization.name == "Rat der Stadt Musterstadt"
    assert len(data.meetings) == 7 and date(2027, 9, 2) not in _days(data)
    assert _days(data)[2] == date(2027, 4, 15)
    assert [s.path for s in oparl_server.seen] == [
        SYSTEM,
        "/oparl/v1/bodies",
        "/oparl/v1/body/1/organizations",
        MEETINGS,
        MEETINGS_2,
    ]
    agent = oparl_server.seen[0].headers["User-Agent"]
    assert agent == f"Zukunftstische-Bot/{__version__} (+{CONTACT})"


async def test_the_committee_can_be_chosen(oparl_server: OParlTestServer, make_client) -> None:
    data = await make_client().council_meetings(
        oparl_server.entry, body="Musterstadt", organization="Stadtentwicklungsausschuss"
    )
    assert data.organization.classification == "Ausschuss" and data.meetings == ()


async def test_papers_by_reference(oparl_server: OParlTestServer, make_client) -> None:
    client = make_client()
    decided = await client.paper(oparl_server.entry, "BV/2027/0012")
    assert decided is not None and summary(decided) == "Unverändert beschlossen am 15.04.2027"
    assert [c.organization for c in decided.consultations] == [
        "Ausschuss für Stadtentwicklung und Umwelt",
        "Rat der Stadt Musterstadt",
    ]
    # The agenda item came embedded in its meeting: no request for it.
    assert not oparl_server.seen_at("/oparl/v1/agendaItem/8")

    since = date(2027, 5, 1)  # midnight in Europe/Berlin
    pending = await client.paper(oparl_server.entry, "BV/2027/0031", created_since=since)
    assert pending is not None and summary(pending) == "beraten am 08.07.2027"
    assert oparl_server.seen_at("/oparl/v1/body/1/papers")[-1].query == {
        "created_since": "2027-05-01T00:00:00+02:00"
    }
    assert await client.paper(oparl_server.entry, "BV/2027/9999") is None

    again = await client.paper_by_url(decided.id)
    assert again == decided


async def test_the_organization_s_own_meeting_list_is_preferred(
    oparl_server: OParlTestServer, make_client
) -> None:
    own = "/oparl/v1/organization/1/meetings"
    organizations = oparl_server.document("/oparl/v1/body/1/organizations")
    organizations["data"][0]["meeting"] = oparl_server.url(own)
    oparl_server.override("/oparl/v1/body/1/organizations", Reply(body=organizations))
    meetings = oparl_server.document(MEETINGS)["data"] + oparl_server.document(MEETINGS_2)["data"]
    for meeting in meetings:
        del meeting["organization"]  # implied by the list
    oparl_server.override(own, Reply(body={"data": meetings, "pagination": {}, "links": {}}))
    data = await make_client().council_meetings(oparl_server.entry)
    assert len(data.meetings) == 7
    assert not oparl_server.seen_at(MEETINGS)


async def test_the_main_organization_is_fetched_when_the_list_lacks_it(
    oparl_server: OParlTestServer, make_client
) -> None:
    organizations = oparl_server.document("/oparl/v1/body/1/organizations")
    del organizations["data"][0]
    oparl_server.override("/oparl/v1/body/1/organizations", Reply(body=organizations))
    data = await make_client().council_meetings(oparl_server.entry)
    assert data.organization.name == "Rat der Stadt Musterstadt" and len(data.meetings) == 7
    assert len(oparl_server.seen_at("/oparl/v1/organization/1")) == 1


async def test_a_body_that_is_not_there_is_a_configuration_failure(
    oparl_server: OParlTestServer, make_client
) -> None:
    failure = await _fails(make_client().council_meetings(oparl_server.entry, body="Nirgendwo"))
    assert failure.kind is Failure.CONFIG
    assert failure.reason.startswith("OParl: Körperschaft „Nirgendwo“ nicht gefunden")
    failure = await _fails(make_client().council_meetings("file:///etc/passwd"))
    assert failure.kind is Failure.CONFIG and "http://" in failure.reason


async def test_unreachable(closed_port_url: str, make_client) -> None:
    failure = await _fails(make_client().council_meetings(closed_port_url))
    assert failure.kind is Failure.UNREACHABLE
    assert failure.reason.startswith("OParl-Server 127.0.0.1:") and "nicht erreichbar" in (
        failure.reason
    )


async def test_a_server_that_does_not_answer(oparl_server: OParlTestServer, make_client) -> None:
    oparl_server.override(SYSTEM, Reply(body=oparl_server.document(SYSTEM), delay=5))
    failure = await _fails(make_client(read_timeout=0.3).council_meetings(oparl_server.entry))
    assert failure.kind is Failure.TIMEOUT
    assert (
        failure.reason
        == "OParl-Server {} antwortet nicht (Zeitlimit 0,3 s überschritten)".format(
            oparl_server.base.removeprefix("http://")
        )
    )


async def test_a_server_that_trickles(oparl_server: OParlTestServer, make_client) -> None:
    oparl_server.override(SYSTEM, Reply(body=oparl_server.document(SYSTEM), trickle=0.05))
    client = make_client(read_timeout=0.5, request_deadline=0.5)
    failure = await _fails(client.council_meetings(oparl_server.entry))
    assert failure.kind is Failure.TIMEOUT and "antwortet zu langsam" in failure.reason


async def test_not_json(oparl_server: OParlTestServer, make_client) -> None:
    maintenance = Reply(body="<html>Wartungsarbeiten</html>", headers={"Content-Type": "text/html"})
    oparl_server.override(MEETINGS_2, maintenance)
    failure = await _fails(make_client().council_meetings(oparl_server.entry))
    assert failure.kind is Failure.NOT_JSON
    assert failure.reason == f"OParl-Antwort von {oparl_server.url(MEETINGS_2)} ist kein JSON"


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (Reply(body=b"\xff\xfe{\x00"), Failure.NOT_JSON),  # not UTF-8
        (Reply(body=b"[" * 100_000 + b"]" * 100_000), Failure.NOT_JSON),  # nested too deep
        (Reply(body=b"null"), Failure.INVALID),
        (Reply(body=b"garbage", headers={"Content-Encoding": "gzip"}), Failure.NOT_JSON),
    ],
    ids=["latin", "deep", "null", "bad-gzip"],
)
async def test_odd_bodies(
    oparl_server: OParlTestServer, make_client, reply: Reply, kind: Failure
) -> None:
    oparl_server.override(MEETINGS_2, reply)
    failure = await _fails(make_client().council_meetings(oparl_server.entry))
    assert failure.kind is kind and oparl_server.url(MEETINGS_2) in failure.reason


async def test_wrongly_typed_json(oparl_server: OParlTestServer, make_client) -> None:
    page = oparl_server.document(MEETINGS_2)
    page["data"][1]["start"] = 5
    oparl_server.override(MEETINGS_2, Reply(body=page))
    failure = await _fails(make_client().council_meetings(oparl_server.entry))
    assert failure.kind is Failure.INVALID
    assert failure.reason.startswith(f"OParl-Daten von {oparl_server.url(MEETINGS_2)} ungültig: ")
    assert "data[1].start: kein Zeitpunkt" in failure.reason


async def test_a_list_where_an_object_should_be(oparl_server: OParlTestServer, make_client) -> None:
    oparl_server.override(SYSTEM, Reply(body=[]))
    failure = await _fails(make_client().council_meetings(oparl_server.entry))
    assert failure.kind is Failure.INVALID and "Objekt: kein Objekt" in failure.reason


@pytest.mark.parametrize(("path", "status"), [(MEETINGS, 500), ("/oparl/v1/bodies", 404)])
async def test_http_errors(
    oparl_server: OParlTestServer, make_client, path: str, status: int
) -> None:
    error = {"type": "https://schema.oparl.org/1.1/Error", "message": "Fehler", "debug": "x"}
    oparl_server.override(path, Reply(status, error))
    failure = await _fails(make_client().council_meetings(oparl_server.entry))
    assert failure.kind is Failure.HTTP
    assert (
        failure.reason == f"OParl-Server antwortet mit HTTP {status} für {oparl_server.url(path)}"
    )


def _endless_pages(server: OParlTestServer) -> Callable[[dict[str, str]], Reply]:
    def page(query: dict[str, str]) -> Reply:
        number = int(query.get("page", "1"))
        next_url = server.url(f"{MEETINGS}?page={number + 1}")
        return Reply(body={"data": [], "pagination": {}, "links": {"next": next_url}})

    return page


async def test_endless_pagination_stops_at_the_page_cap(
    oparl_server: OParlTestServer, make_client
) -> None:
    oparl_server.override(MEETINGS, _endless_pages(oparl_server))
    failure = await _fails(make_client(max_pages=5).council_meetings(oparl_server.entry))
    assert failure.kind is Failure.TOO_MANY_PAGES
    assert failure.reason == (
        f"OParl-Liste {oparl_server.url(MEETINGS)} hat mehr als 5 Seiten; Abruf abgebrochen"
    )
    assert len(oparl_server.seen_at(MEETINGS)) == 5


async def test_pagination_in_a_circle(oparl_server: OParlTestServer, make_client) -> None:
    page = oparl_server.document(MEETINGS_2)
    page["links"]["next"] = oparl_server.url(MEETINGS)
    oparl_server.override(MEETINGS_2, Reply(body=page))
    failure = await _fails(make_client().council_meetings(oparl_server.entry))
    assert failure.kind is Failure.LOOP and "verweist im Kreis" in failure.reason
    assert len(oparl_server.seen_at(MEETINGS)) == 2


def _blanks() -> Iterator[bytes]:
    return itertools.repeat(b" " * 65536)


async def test_a_huge_response_is_cut_off(oparl_server: OParlTestServer, make_client) -> None:
    oparl_server.override(MEETINGS, Reply(endless=_blanks()))
    client = make_client(max_response_bytes=1_000_000)
    failure = await _fails(client.council_meetings(oparl_server.entry))
    assert failure.kind is Failure.TOO_LARGE
    assert failure.reason == (
        f"OParl-Antwort von {oparl_server.url(MEETINGS)} ist größer als 1 MB; Abruf abgebrochen"
    )


async def test_a_declared_huge_response_is_not_read(
    oparl_server: OParlTestServer, make_client
) -> None:
    oparl_server.override(MEETINGS, Reply(body=b" " * 3_000_000))
    failure = await _fails(
        make_client(max_response_bytes=1_500_000).council_meetings(oparl_server.entry)
    )
    assert failure.kind is Failure.TOO_LARGE and "größer als 1,5 MB" in failure.reason


async def test_the_total_byte_cap(oparl_server: OParlTestServer, make_client) -> None:
    failure = await _fails(make_client(max_total_bytes=8_000).council_meetings(oparl_server.entry))
    assert failure.kind is Failure.TOO_LARGE
    assert failure.reason == "OParl-Abruf abgebrochen: mehr als 8 kB Daten insgesamt"


async def test_redirects_only_to_http(oparl_server: OParlTestServer, make_client) -> None:
    oparl_server.override("/old", Reply(301, headers={"Location": SYSTEM}))
    data = await make_client().council_meetings(oparl_server.url("/old"))
    assert len(data.meetings) == 7

    oparl_server.override(SYSTEM, Reply(302, headers={"Location": "file:///etc/passwd"}))
    failure = await _fails(make_client().council_meetings(oparl_server.entry))
    assert failure.kind is Failure.REDIRECT
    assert "auf eine unzulässige Adresse um (file:///etc/passwd)" in failure.reason

    oparl_server.override("/a", Reply(302, headers={"Location": "/a"}))
    failure = await _fails(make_client().council_meetings(oparl_server.url("/a")))
    assert failure.kind is Failure.REDIRECT and "zu oft weiter" in failure.reason


async def test_a_second_read_asks_conditionally(oparl_server: OParlTestServer, make_client) -> None:
    client = make_client()
    first = await client.council_meetings(oparl_server.entry)
    second = await client.council_meetings(oparl_server.entry)
    assert second == first

    system = oparl_server.seen_at(SYSTEM)
    assert "If-Modified-Since" not in system[0].headers and system[0].status == 200
    assert system[1].headers["If-Modified-Since"] == "Tue, 15 Jun 2027 08:00:00 GMT"
    assert "If-None-Match" in system[1].headers and system[1].status == 304
    # Lists read in full before are asked for what changed since (the server's clock).
    for path in ("/oparl/v1/bodies", "/oparl/v1/body/1/organizations", MEETINGS):
        first_pages = [s for s in oparl_server.seen_at(path) if "page" not in s.query]
        first_read, second_read = first_pages[:2]
        assert "modified_since" not in first_read.query
        assert datetime.fromisoformat(second_read.query["modified_since"]).tzinfo is not None


async def test_if_modified_since_alone_is_enough(
    oparl_server: OParlTestServer, make_client
) -> None:
    reply = Reply(body=oparl_server.document(SYSTEM), conditional=True, etag=False)
    oparl_server.override(SYSTEM, reply)
    client = make_client()
    await client.council_meetings(oparl_server.entry)
    await client.council_meetings(oparl_server.entry)
    second = oparl_server.seen_at(SYSTEM)[1]
    assert "If-None-Match" not in second.headers and second.status == 304


async def test_changes_since_the_last_read_are_merged(
    oparl_server: OParlTestServer, make_client
) -> None:
    client = make_client()
    await client.council_meetings(oparl_server.entry)
    everything = oparl_server.document(MEETINGS)["data"] + oparl_server.document(MEETINGS_2)["data"]
    july, october = everything[4], everything[6]
    october_cancelled = october | {"cancelled": True}
    july_deleted = {key: july[key] for key in ("id", "type", "created")} | {"deleted": True}

    def changes(query: dict[str, str]) -> Reply:
        assert "modified_since" in query  # a full read would lose nothing, but is not expected
        return Reply(
            body={"data": [october_cancelled, july_deleted], "pagination": {}, "links": {}}
        )

    oparl_server.override(MEETINGS, changes)
    data = await client.council_meetings(oparl_server.entry)
    assert _days(data) == [
        date(2027, 1, 21),
        date(2027, 3, 4),
        date(2027, 4, 15),
        date(2027, 5, 27),
        date(2027, 11, 25),
    ]


async def test_a_failure_leaves_the_last_good_read_intact(
    oparl_server: OParlTestServer, make_client
) -> None:
    client = make_client()
    first = await client.council_meetings(oparl_server.entry)
    oparl_server.override(MEETINGS, Reply(500))
    await _fails(client.council_meetings(oparl_server.entry))
    oparl_server.restore(MEETINGS)
    assert await client.council_meetings(oparl_server.entry) == first


async def test_a_whole_call_has_a_deadline(oparl_server: OParlTestServer, make_client) -> None:
    client = make_client(requests_per_second=2, operation_deadline=0.6)
    failure = await _fails(client.council_meetings(oparl_server.entry))
    assert failure.kind is Failure.TIMEOUT
    assert failure.reason == "OParl-Abruf abgebrochen: dauerte länger als 0,6 s"


async def test_requests_per_second(oparl_server: OParlTestServer, make_client) -> None:
    client = make_client(requests_per_second=5)
    await client.council_meetings(oparl_server.entry)
    await client.paper(oparl_server.entry, "BV/2027/0012")
    times = [s.at for s in oparl_server.seen]
    assert len(times) >= 10
    for start in times:
        assert sum(start <= t < start + 1.0 for t in times) <= 5 + 1
