"""The council engine with the real bot's services: the Musterstadt test system served on
loopback, a real store (SQLite and PostgreSQL), the commands through the router. What the
engine sends is recorded by a stand-in for Matrix (in the bot: the send queue)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import pytest_asyncio

from bot.app import Bot, build_bot
from bot.clock import Clock
from bot.config import parse_config
from bot.domain.themes import ThemeView
from bot.engines.council import CouncilEngine
from bot.store.council import CouncilStore
from tests.conftest import COORDINATOR, config_text
from tests.council.conftest import OParlTestServer, Reply
from tests.council.test_client import _endless_pages
from tests.matrix_port import RecordingMatrix

BERLIN = ZoneInfo("Europe/Berlin")
# The test system is a snapshot as of 15 June 2027.
NOW = datetime(2027, 6, 15, 9, 0, tzinfo=BERLIN)
KOORDINATION = "!koordination:stadt.example"
TEAM = "!sport:stadt.example"
MEETINGS = "/oparl/v1/body/1/meetings"
MEETINGS_2 = "/oparl/v1/body/1/meetings?page=2"
SYSTEM = "/oparl/v1/system"
GUARD = 30  # seconds: a guard against a hanging test, not a measurement


@dataclass
class Council:
    bot: Bot
    engine: CouncilEngine
    server: OParlTestServer
    sent: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    async def ask(self, text: str, room: str = TEAM, now: datetime = NOW) -> str:
        outcome = await asyncio.to_thread(
            self.bot.router.handle, text, sender=COORDINATOR, room_id=room, now=now
        )
        assert outcome is not None
        return outcome.reply.body

    def notices(self, room: str) -> list[str]:
        return [content["body"] for _, to, content in self.sent if to == room]

    def theme(self, name: str = "Sporthalle") -> ThemeView:
        view = self.bot.store.theme(name)
        assert view is not None
        return view

    def due(self, key: str, name: str = "Sporthalle") -> date:
        step = self.theme(name).step(key)
        assert step is not None
        return step.due

    async def read(self, now: datetime = NOW) -> bool:
        return await asyncio.wait_for(self.engine.read(now), GUARD)


@pytest_asyncio.fixture
async def council(
    tmp_path: Path, database_url: str, oparl_server: OParlTestServer, make_client
) -> AsyncIterator[Council]:
    found = await start(tmp_path, database_url, oparl_server, make_client)
    yield found
    found.bot.store.close()


async def start(
    tmp_path: Path,
    database_url: str,
    server: OParlTestServer,
    make_client: Callable[..., Any],
    **limits: Any,
) -> Council:
    """The bot's services as `zt-bot run` builds them (no homeserver needed), its engine
    with quick client limits, what it sends collected."""
    rest = f'[rooms]\nkoordination = "{KOORDINATION}"\n[council]\noparl = "{server.entry}"'
    text = config_text(tmp_path, rest, database_url=database_url)
    config = parse_config(text, tmp_path, environ={})
    bot = build_bot(config, Clock(config.bot.zone))
    engine = bot.council
    assert engine is not None
    await engine.client.aclose()
    engine.client = make_client(**limits)
    found = Council(bot, engine, server)
    matrix = RecordingMatrix()
    matrix.recorded = found.sent  # what the engine sends is what the test reads
    engine.matrix = matrix
    await engine.start()
    return found


async def test_meetings_are_read_kept_and_step_6_falls_on_them(council: Council) -> None:
    await council.ask("!zt neu Sporthalle 15.03.2027")
    assert council.due("6") == date(2027, 4, 12)  # Z2 + 4 weeks: no meeting known yet
    assert await council.read()
    # The first council meeting on or after 12.04.2027 is the one of 15.04.2027.
    assert council.due("6") == date(2027, 4, 15) and council.due("7") == date(2027, 4, 22)
    days = [m.day for m in CouncilStore(council.bot.store).read_meetings()]
    assert len(days) == 7 and date(2027, 9, 2) not in days  # the cancelled one is skipped
    [notice] = council.notices(KOORDINATION)
    assert "Ratssitzungen aus dem Ratsinformationssystem übernommen: 7" in notice
    assert "Sporthalle: Schritt 6 jetzt am 15.04.2027 (KW 15), Schritt 7 jetzt am 22.04.2027" in (
        notice
    )
    # The theme's team room hears what moved, old → new, once.
    [moved] = council.notices(TEAM)
    assert moved.startswith(
        "📆 Neue Termine für „Sporthalle“: das Ratsinformationssystem meldet geänderte "
        "Sitzungstermine."
    )
    assert "• Schritt 6 „Ratsentscheidung“: 12.04.2027 → 15.04.2027 (KW 15)" in moved
    assert "• Schritt 7 „Evaluation & KVP“: 19.04.2027 → 22.04.2027 (KW 16)" in moved
    # Nothing changed: nothing to tell.
    assert await council.read(NOW + timedelta(days=1))
    assert len(council.sent) == 2

    listing = await council.ask("!zt ratssitzung")
    assert (
        "• 15.04.2027 (KW 15/2027), vorbei, Ratsinformationssystem: "
        "3. Sitzung des Rates der Stadt Musterstadt 2027" in listing
    )
    assert "• 08.07.2027 (KW 27/2027), Ratsinformationssystem" in listing
    assert "02.09.2027" not in listing
    assert "21.01.2027" not in listing  # longer ago than the list looks back
    assert "(2 frühere nicht gezeigt)" in listing
    assert (
        "Ratsinformationssystem (OParl): Rat der Stadt Musterstadt (Stadt Musterstadt), "
        "zuletzt gelesen am 16.06.2027 09:00 Uhr" in listing
    )
    status = await council.ask("!zt status Sporthalle")
    assert "15.04.2027" in line_of(status, "6") and "Ratssitzung" in line_of(status, "6")


def _all_meetings(server: OParlTestServer) -> list[dict[str, Any]]:
    return server.document(MEETINGS)["data"] + server.document(MEETINGS_2)["data"]


def _serve_meetings(server: OParlTestServer, meetings: list[dict[str, Any]]) -> None:
    """The council's meetings as one page (a changed list)."""
    server.override(MEETINGS, Reply(body={"data": meetings, "pagination": {}, "links": {}}))


async def test_a_moved_and_a_cancelled_meeting_replan_and_are_told_once(
    council: Council,
) -> None:
    await council.ask("!zt neu Sporthalle 15.03.2027")
    await council.ask("!zt neu Radwege 15.04.2027")  # step 6 on 27.05.2027
    assert await council.read()
    assert council.due("6", "Radwege") == date(2027, 5, 27)
    meetings = _all_meetings(council.server)
    meetings[2]["start"] = "2027-04-22T17:00:00+02:00"  # 15.04. → 22.04.
    meetings[3]["cancelled"] = True  # 27.05. cancelled
    _serve_meetings(council.server, meetings)
    assert await council.read(NOW + timedelta(days=1))
    assert council.due("6") == date(2027, 4, 22) and council.due("7") == date(2027, 4, 29)
    assert council.due("6", "Radwege") == date(2027, 7, 8)
    _, update = council.notices(KOORDINATION)
    assert "Das Ratsinformationssystem meldet Änderungen:" in update
    assert "• Ratssitzung vom 15.04.2027 verlegt auf 22.04.2027 (KW 16/2027)" in update
    assert "• Ratssitzung am 27.05.2027 entfällt" in update
    assert "• Sporthalle: Schritt 6 jetzt am 22.04.2027 (KW 16), Schritt 7 jetzt am 29.04.2027" in (
        update
    )
    assert "• Radwege: Schritt 6 jetzt am 08.07.2027 (KW 27)" in update
    # The same data again: told once, not on every poll.
    assert await council.read(NOW + timedelta(days=2))
    assert len(council.notices(KOORDINATION)) == 2
    history = await council.ask("!zt verlauf Sporthalle")
    assert "Termine an Ratssitzungen angepasst" in history


async def test_meetings_entered_by_hand_win(council: Council) -> None:
    await council.ask("!zt ratssitzung 15.04.2027", room=KOORDINATION)
    await council.ask("!zt neu Sporthalle 15.03.2027")
    assert await council.read()
    listing = await council.ask("!zt ratssitzung")
    assert (
        "• 15.04.2027 (KW 15/2027), vorbei, von Hand eingetragen (auch im Ratsinformationssystem)"
        in listing
    )
    meetings = _all_meetings(council.server)
    meetings[2]["cancelled"] = True
    _serve_meetings(council.server, meetings)
    assert await council.read(NOW + timedelta(days=1))
    assert council.due("6") == date(2027, 4, 15)  # still a meeting: entered by hand
    update = council.notices(KOORDINATION)[-1]
    assert (
        "• Ratssitzung am 15.04.2027 entfällt laut Ratsinformationssystem; sie bleibt, "
        "weil sie von Hand eingetragen ist" in update
    )
    assert "Kein laufendes Thema ändert sich dadurch." in update
    # A day only the council information system knows is not removed in chat.
    refused = await council.ask("!zt ratssitzung entfernen 08.07.2027", room=KOORDINATION)
    assert "kommt aus dem Ratsinformationssystem und kann nur dort abgesagt werden" in refused
    removed = await council.ask("!zt ratssitzung entfernen 15.04.2027", room=KOORDINATION)
    assert "Sporthalle: Schritt 6 jetzt am 27.05.2027" in removed


def line_of(body: str, key: str) -> str:
    return next(line for line in body.splitlines() if line[2:].startswith(f"{key} "))


async def test_a_decided_paper_marks_step_6_done_and_starts_step_7(council: Council) -> None:
    await council.ask("!zt neu Sporthalle 15.03.2027")
    for step in ("1", "2", "3", "4", "5"):
        await council.ask(f"!zt erledigt Sporthalle {step}")
    await council.ask("!zt überspringen Sporthalle 3a")
    assert await council.read()
    reply = await council.ask("!zt vorlage Sporthalle BV/2027/0012", room=KOORDINATION)
    assert "📎 „Sporthalle“ ist mit der Beschlussvorlage BV/2027/0012 verknüpft: Neubau" in reply
    assert "Stand: Unverändert beschlossen am 15.04.2027" in reply
    assert "• ohne Termin: Ausschuss für Stadtentwicklung und Umwelt (Vorberatung)" in reply
    assert (
        "• 15.04.2027: Rat der Stadt Musterstadt (Entscheidung, entscheidet) – "
        "Unverändert beschlossen" in reply
    )
    assert "Schritt 6 „Ratsentscheidung“ wird damit erledigt" in reply
    await asyncio.wait_for(council.engine.tick(NOW), GUARD)
    view = council.theme()
    six, seven = view.step("6"), view.step("7")
    assert six is not None and seven is not None
    assert (six.state, six.done_on, six.done_by) == ("done", date(2027, 4, 15), "Bot")
    assert six.note == "Unverändert beschlossen am 15.04.2027"
    assert (seven.state, seven.due) == ("open", date(2027, 4, 22))
    for room in (TEAM, KOORDINATION):
        [told] = [n for n in council.notices(room) if "Entschieden" in n]
        assert "🏛️ Entschieden: Beschlussvorlage BV/2027/0012" in told
        assert "zu Sporthalle: Unverändert beschlossen am 15.04.2027." in told
        assert "Schritt 6 „Ratsentscheidung“ ist damit erledigt." in told
        assert "Jetzt beginnt Schritt 7 „Evaluation & KVP“ (ab 22.04.2027, KW 16)." in told
    # Once: neither the next tick nor the next read tells it again.
    sent = len(council.sent)
    await council.engine.tick(NOW)
    assert await council.read(NOW + timedelta(days=1))
    assert len(council.sent) == sent

    status = await council.ask("!zt status Sporthalle")
    assert "erledigt am 15.04.2027 von Bot" in line_of(status, "6")
    assert "Unverändert beschlossen am 15.04.2027" in line_of(status, "6")
    seven = line_of(status, "7")
    assert seven.startswith("▶ 7") and "läuft seit 22.04.2027" in seven
    file_url = council.server.url("/files/BV-2027-0012.pdf")
    assert f"Vorlage BV/2027/0012: {file_url}" in line_of(status, "5")
    assert "Beschlussvorlage BV/2027/0012 „Neubau einer Dreifeldsporthalle" in status
    assert "  • 15.04.2027: Rat der Stadt Musterstadt (Entscheidung, entscheidet)" in status


async def test_a_pending_paper_moves_step_6_and_its_decision_comes_later(
    council: Council,
) -> None:
    await council.ask("!zt neu Parken 15.03.2027")
    assert await council.read()
    reply = await council.ask("!zt vorlage Parken BV/2027/0031", room=KOORDINATION)
    assert "Stand: beraten am 08.07.2027" in reply
    assert "Schritt 6 jetzt am 08.07.2027 (KW 27)" in reply
    assert "Schritt 7 jetzt am 15.07.2027 (KW 28)" in reply
    assert "sobald das Ratsinformationssystem ihn meldet" in reply
    status = await council.ask("!zt status Parken")
    assert "beraten am 08.07.2027" in line_of(status, "6")
    # The meeting moves by a day: the step follows, the coordination room hears it once.
    meeting = council.server.document("/oparl/v1/meeting/5")
    meeting["start"] = "2027-07-09T17:00:00+02:00"
    council.server.override("/oparl/v1/meeting/5", Reply(body=meeting))
    meetings = _all_meetings(council.server)
    meetings[4]["start"] = meeting["start"]
    _serve_meetings(council.server, meetings)
    assert await council.read(NOW + timedelta(days=1))
    assert council.due("6", "Parken") == date(2027, 7, 9)
    update = council.notices(KOORDINATION)[-1]
    assert "• Beschlussvorlage BV/2027/0031 (Parken): Beratung jetzt am 09.07.2027" in update
    assert "(bisher 08.07.2027)" in update
    # The council decides: the next read brings the result.
    meeting["agendaItem"][1]["result"] = "Mit Änderungen beschlossen"
    council.server.override("/oparl/v1/meeting/5", Reply(body=meeting))
    later = datetime(2027, 7, 10, 9, 0, tzinfo=BERLIN)
    assert await council.read(later)
    six = council.theme("Parken").step("6")
    assert six is not None and six.state == "done"
    assert six.note == "Mit Änderungen beschlossen am 09.07.2027"
    assert council.due("7", "Parken") == date(2027, 7, 16)
    told = council.notices(KOORDINATION)
    assert any("Mit Änderungen beschlossen am 09.07.2027" in notice for notice in told)


async def test_the_paper_s_web_page_is_its_link(council: Council) -> None:
    papers = council.server.document("/oparl/v1/body/1/papers")
    papers["data"][0]["web"] = "https://ris.musterstadt.example/vorlage/12"
    council.server.override("/oparl/v1/body/1/papers", Reply(body=papers))
    await council.ask("!zt neu Sporthalle 15.03.2027")
    reply = await council.ask("!zt vorlage Sporthalle bv/2027/0012", room=KOORDINATION)
    assert "Vorlage: https://ris.musterstadt.example/vorlage/12" in reply
    status = await council.ask("!zt status Sporthalle")
    web = "https://ris.musterstadt.example/vorlage/12"
    assert f"Vorlage BV/2027/0012: {web}" in line_of(status, "5")


async def test_vorlage_refusals_change_nothing(council: Council) -> None:
    await council.ask("!zt neu Sporthalle 15.03.2027")
    unknown = await council.ask("!zt vorlage Sporthalle BV/2027/9999", room=KOORDINATION)
    assert "Eine Vorlage „BV/2027/9999“ findet das Ratsinformationssystem nicht." in unknown
    missing = await council.ask("!zt vorlage Sporthalle", room=KOORDINATION)
    assert "Die Nummer der Vorlage fehlt. So geht es: !zt vorlage <Thema> <Nummer>" in missing
    council.server.override(SYSTEM, Reply(500, {"type": "https://schema.oparl.org/1.1/Error"}))
    down = await council.ask("!zt vorlage Sporthalle BV/2027/0012", room=KOORDINATION)
    assert "Das Ratsinformationssystem gibt gerade keine Auskunft (OParl-Server antwortet mit" in (
        down
    )
    assert council.theme().paper is None
    await council.ask("!zt neu Klima Q4/2027")
    idea = await council.ask("!zt vorlage Klima BV/2027/0012", room=KOORDINATION)
    assert "noch eine Idee ohne Z2-Termin" in idea


# Faults: each injected through the server after a good read ---------------------------------


def _wrongly_typed(server: OParlTestServer) -> Reply:
    page = server.document(MEETINGS_2)
    page["data"][1]["start"] = 5
    return Reply(body=page)


FAULTS: dict[str, tuple[str, Callable[[OParlTestServer], Any], str]] = {
    # Three times the read timeout of FAST: slow on any machine, however busy.
    "slow": (SYSTEM, lambda s: Reply(body=s.document(SYSTEM), delay=6), "antwortet nicht"),
    "not-json": (
        MEETINGS_2,
        lambda s: Reply(body="<html>Wartung</html>", headers={"Content-Type": "text/html"}),
        "ist kein JSON",
    ),
    "wrongly-typed": (MEETINGS_2, _wrongly_typed, "data[1].start: kein Zeitpunkt"),
    "endless-pages": (MEETINGS, _endless_pages, "hat mehr als 5 Seiten"),
    "http-error": (MEETINGS, lambda s: Reply(503, b""), "HTTP 503"),
}


@pytest.mark.parametrize("fault", FAULTS, ids=list(FAULTS))
async def test_a_fault_keeps_the_last_good_data_and_is_told_once(
    tmp_path: Path, database_url: str, oparl_server: OParlTestServer, make_client, fault: str
) -> None:
    limits = {"max_pages": 5}  # and FAST's timeouts, which a good read never reaches
    council = await start(tmp_path, database_url, oparl_server, make_client, **limits)
    try:
        await council.ask("!zt neu Sporthalle 15.03.2027")
        assert await council.read()
        path, reply, reason = FAULTS[fault]
        oparl_server.override(path, reply(oparl_server))
        await _the_fault_is_told_once(council, reason)
        # A restart while the fault lasts does not tell it again.
        council.bot.store.close()
        council = await start(tmp_path, database_url, oparl_server, make_client, **limits)
        assert not await council.read(NOW + timedelta(hours=3))
        assert council.sent == []
        oparl_server.restore(path)
        await _back_is_told_once(council)
    finally:
        council.bot.store.close()


async def _the_fault_is_told_once(council: Council, reason: str) -> None:
    assert not await council.read(NOW + timedelta(days=1))
    [stale] = council.notices(KOORDINATION)[1:]
    assert stale.startswith("⚠️ Die Ratsdaten sind veraltet: Das Ratsinformationssystem")
    assert reason in stale
    assert "Bis es wieder geht, gilt der Stand vom 15.06.2027 09:00 Uhr" in stale
    # The last good data stays: the meetings, and step 6 where they put it.
    assert len(CouncilStore(council.bot.store).read_meetings()) == 7
    assert council.due("6") == date(2027, 4, 15)
    assert not await council.read(NOW + timedelta(days=1, hours=1))
    assert len(council.notices(KOORDINATION)) == 2
    listing = await council.ask("!zt ratssitzung")
    assert "⚠ Ratsinformationssystem (OParl): Daten veraltet seit 16.06.2027 09:00 Uhr" in listing
    assert "• 15.04.2027 (KW 15/2027), vorbei, Ratsinformationssystem" in listing


async def _back_is_told_once(council: Council) -> None:
    assert await council.read(NOW + timedelta(days=2))
    [back] = council.notices(KOORDINATION)
    assert back.startswith("✅ Die Ratsdaten sind wieder aktuell")
    assert "nicht lesbar seit 16.06.2027 09:00 Uhr" in back
    assert await council.read(NOW + timedelta(days=3))
    assert len(council.sent) == 1
    assert council.due("6") == date(2027, 4, 15)


async def test_an_unreachable_server_is_told_once_and_its_return(
    tmp_path: Path, database_url: str, oparl_server: OParlTestServer, make_client
) -> None:
    council = await start(tmp_path, database_url, oparl_server, make_client)
    try:
        await council.ask("!zt neu Sporthalle 15.03.2027")
        assert await council.read()
        port = int(oparl_server.base.rsplit(":", 1)[1])
        oparl_server.close()
        await _the_fault_is_told_once(council, "nicht erreichbar")
        council.sent.clear()
        again = OParlTestServer(port)
        again.start()
        try:
            await _back_is_told_once(council)
        finally:
            again.close()
    finally:
        council.bot.store.close()


async def test_a_slow_read_never_holds_up_the_tick(
    tmp_path: Path, database_url: str, oparl_server: OParlTestServer, make_client
) -> None:
    council = await start(
        tmp_path, database_url, oparl_server, make_client, read_timeout=10, request_deadline=10
    )
    try:
        # The engine pokes the bot's scheduler once the read changed something.
        oparl_server.override(SYSTEM, Reply(body=oparl_server.document(SYSTEM), delay=2))
        await asyncio.wait_for(council.engine.tick(NOW), GUARD)
        # The tick came back while the server still sits on its answer.
        assert council.engine.reading and council.sent == []
        assert council.engine.next_wakeup(NOW) is None
        await asyncio.wait_for(council.engine.wake.wait(), GUARD)
        assert not council.engine.reading
        assert council.engine.next_wakeup(NOW) == NOW + timedelta(days=1)
        assert len(CouncilStore(council.bot.store).read_meetings()) == 7
    finally:
        council.bot.store.close()


async def test_a_failed_read_is_tried_again_within_the_hour(council: Council) -> None:
    council.server.override(SYSTEM, Reply(500, b""))
    assert not await council.read()
    assert council.engine.next_wakeup(NOW) == NOW + timedelta(hours=1)
    [stale] = council.notices(KOORDINATION)
    assert "Bisher konnte es noch nie gelesen werden" in stale
