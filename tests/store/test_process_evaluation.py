"""The process evaluation on both backends, through the router as a chat command arrives:
open answers by a plain reply in a direct chat (kept without author or chat), the internal
evaluation, the offer once step 6 is done, `!zt jahresbericht`, and `zt-bot report`."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.app import Bot, build_bot
from bot.cli import main
from bot.clock import Clock
from bot.config import parse_config
from bot.engines.evaluation import EvaluationEngine
from bot.router import Outcome
from bot.store.evaluations import ResultRow
from tests.conftest import COORDINATOR, config_text
from tests.matrix_port import BOT_USER, RecordingMatrix

NOW = datetime(2027, 6, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ROOM = "!koordination:stadt.example"
TEAM = "!team:stadt.example"
ANNA_DM, BEN_DM, CEM_DM = "!anna-dm:stadt.example", "!ben-dm:stadt.example", "!cem-dm:stadt.example"


@pytest.fixture
def config_file(tmp_path: Path, database_url: str) -> Path:
    path = tmp_path / "config.toml"
    rest = f'[rooms]\nkoordination = "{ROOM}"\n[evaluation]\nmin_answers = 2'
    path.write_text(config_text(tmp_path / "data", rest, database_url=database_url), "utf-8")
    return path


@pytest.fixture
def bot(config_file: Path) -> Iterator[Bot]:
    config = parse_config(config_file.read_text("utf-8"), config_file.parent, environ={})
    bot = build_bot(config, Clock(config.bot.zone))
    yield bot
    bot.store.close()


def say(bot: Bot, text: str, room: str = ROOM, sender: str = COORDINATOR) -> Outcome:
    outcome = bot.router.handle(f"!zt {text}", sender=sender, room_id=room, now=NOW)
    assert outcome is not None
    return outcome


def reply(bot: Bot, body: str, room: str, *, direct: bool = True) -> Outcome | None:
    return bot.router.handle(body, sender="@anna:stadt.example", room_id=room, now=NOW,
                             is_direct=direct)  # fmt: skip


def open_internal(bot: Bot) -> int:
    """`umfrage Mobilität intern` started and opened as the engine would, with the open
    question waiting in three direct chats."""
    started = say(bot, "umfrage Mobilität intern")
    assert "Die interne Evaluation von „Mobilität“ startet jetzt" in started.reply.body
    (evaluation,) = bot.router.services.evaluations.with_status("starting")
    assert evaluation.kind == "intern" and evaluation.room_id == TEAM
    bot.router.services.evaluations.update(evaluation.id, status="open")
    for room in (ANNA_DM, BEN_DM, CEM_DM):
        assert bot.router.services.evaluations.ask_open(evaluation.id, room, "aendern")
    assert not bot.router.services.evaluations.ask_open(evaluation.id, ANNA_DM, "aendern")
    return evaluation.id


def test_a_plain_reply_in_the_direct_chat_answers_the_open_question_without_author(
    bot: Bot,
) -> None:
    say(bot, "neu Mobilität 12.04.2027")
    say(bot, "raum Mobilität team", room=TEAM)
    # Nothing pending yet: a plain message in a direct chat is not for the bot.
    assert reply(bot, "Hallo?", ANNA_DM) is None
    evaluation_id = open_internal(bot)

    stored = reply(bot, "  Unterlagen   zwei Wochen vorher  ", ANNA_DM)
    assert stored is not None and stored.result == "ok"
    assert stored.reply.body == "Danke, Ihre Antwort ist gespeichert – ohne Ihren Namen."
    # Answered: the next plain message is not taken as a second answer.
    assert reply(bot, "Und noch etwas", ANNA_DM) is None
    # Not a direct chat: never an answer, even with a question pending for that room.
    assert reply(bot, "Im Teamraum gesagt", BEN_DM, direct=False) is None
    assert reply(bot, "Mehr Vorlauf für Z1", BEN_DM) is not None

    engine = sa.create_engine(bot.config.database_url)
    with engine.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("evaluation_open_answer")}
        answers = connection.execute(
            sa.text("SELECT question_key, text FROM evaluation_open_answer ORDER BY id")
        ).all()
        waiting = connection.execute(sa.text("SELECT room_id FROM evaluation_open_prompt")).all()
    assert columns == {"id", "evaluation_id", "question_key", "text"}  # no author, no chat
    assert [tuple(a) for a in answers] == [
        ("aendern", "Unterlagen zwei Wochen vorher"),
        ("aendern", "Mehr Vorlauf für Z1"),
    ]
    assert [w[0] for w in waiting] == [CEM_DM]

    # The close forgets which chat still waited; the results list the answers.
    bot.router.services.evaluations.close(evaluation_id, [ResultRow("zeitplan", None, 0)], NOW)
    with engine.connect() as connection:
        assert (
            connection.execute(sa.text("SELECT count(*) FROM evaluation_open_prompt")).scalar() == 0
        )
    engine.dispose()
    assert reply(bot, "zu spät", CEM_DM) is None
    results = say(bot, "auswertung Mobilität intern").reply.body
    assert results.startswith("Interne Evaluation „Mobilität“")
    assert (
        "Was sollten wir beim nächsten Thema anders machen? – 2 Antworten (ohne Namen):" in results
    )
    assert "   – Unterlagen zwei Wochen vorher\n   – Mehr Vorlauf für Z1" in results
    assert "@anna" not in results
    # The participants' evaluation is another one: none closed for it yet.
    assert "keine abgeschlossene Umfrage" in say(bot, "auswertung Mobilität").reply.body


def test_internal_and_participants_evaluations_run_side_by_side(bot: Bot) -> None:
    say(bot, "neu Mobilität 12.04.2027")
    nobody = "ist niemand da, den die Evaluation fragen kann"
    assert nobody in say(bot, "umfrage Mobilität").reply.body  # no Z2 room, nobody named
    say(bot, "raum Mobilität team", room=TEAM)
    # The department's team room is not Z2: still nobody to ask.
    assert nobody in say(bot, "umfrage Mobilität").reply.body
    say(bot, "raum Mobilität z2", room=Z2_ROOM)
    assert "startet jetzt" in say(bot, "umfrage Mobilität").reply.body
    assert "interne Evaluation" in say(bot, "umfrage Mobilität intern raum").reply.body
    again = say(bot, "umfrage Mobilität intern").reply.body
    assert again == (
        "Zu „Mobilität“ läuft schon eine interne Evaluation. "
        "„!zt umfrage beenden Mobilität intern“ beendet sie."
    )
    kinds = {(e.kind, e.mode) for e in bot.router.services.evaluations.with_status("starting")}
    assert kinds == {("teilnehmende", "anonym"), ("intern", "raum")}
    assert "wird beendet" in say(bot, "umfrage beenden Mobilität intern").reply.body
    statuses = {e.kind: e.status for e in bot.router.services.evaluations.for_theme(1)}
    assert statuses == {"intern": "closing", "teilnehmende": "starting"}
    refused = say(bot, "umfrage beenden Mobilität intern").reply.body
    assert refused == "Zu „Mobilität“ läuft keine interne Evaluation."


def test_the_internal_evaluation_is_offered_once(bot: Bot) -> None:
    evaluations = bot.router.services.evaluations
    say(bot, "neu Mobilität 12.04.2027")
    assert evaluations.offer_once(1, "intern", NOW)
    assert not evaluations.offer_once(1, "intern", NOW)
    assert evaluations.offer_once(1, "teilnehmende", NOW)


def test_jahresbericht_in_chat_and_zt_bot_report_in_three_formats(
    bot: Bot, config_file: Path, tmp_path: Path
) -> None:
    say(bot, "neu Mobilität 12.04.2027")
    say(bot, "neu Klima 20.05.2027")
    say(bot, "neu Vorjahr 07.12.2026")
    say(bot, "erledigt Mobilität 1")  # due 01.02.2027, done 01.06.2027: 120 days late
    say(bot, "raum Mobilität z2", room=Z2_ROOM)
    say(bot, "umfrage Mobilität")
    evaluations = bot.router.services.evaluations
    (evaluation,) = evaluations.with_status("starting")
    rows = [ResultRow("gesamt", None, 3), ResultRow("gesamt", "a1", 2)]
    rows += [ResultRow("gesamt", "a2", 1), ResultRow("ziel", None, 1), ResultRow("ziel", "a1", 1)]
    evaluations.close(evaluation.id, rows, NOW)
    say(bot, "kvp Mobilität Einladungen früher verschicken")
    say(bot, "kvp Mobilität Mehr Kaffee")
    say(bot, "kvp übernommen 1")
    say(bot, "kvp verworfen 2 kein Budget")

    short = say(bot, "jahresbericht 2027").reply.body
    assert short.startswith("Jahresbericht 2027: 2 Themen mit Z2")
    assert "KVP: 1 übernommen (davon 1 noch nicht umgesetzt), 1 verworfen" in short
    assert "• Mobilität (Z2 12.04.2027):" in short and "• Klima (Z2 20.05.2027):" in short
    assert "Vorjahr" not in short
    assert "Evaluation: 1 von 9 Fragen mit genug Antworten" in short
    assert "Wie zufrieden sind Sie insgesamt mit dem Zukunftstisch?: 4,7 (–)" in short
    assert "Das Ziel des Zukunftstischs" not in short  # one answer: never shown
    assert "!zt jahresbericht 2027 datei" in short
    assert say(bot, "jahresbericht").reply.body == short  # without a year: the current one
    # The whole report as a file, for a coordinator (issue 21): the same HTML as the CLI's.
    whole = say(bot, "jahresbericht 2027 datei").reply
    assert whole.body.startswith("📄 Jahresbericht 2027 als HTML-Datei: 2 Themen mit Z2")
    assert whole.attachment is not None and whole.attachment.mimetype == "text/html"
    assert whole.attachment.filename == "jahresbericht-2027.html"
    page = whole.attachment.data.decode("utf-8")
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<h2>Mobilität – Z2 am 12.04.2027 (KW 15)</h2>" in page and "Klima" in page
    refused = say(bot, "jahresbericht 2027 datei", sender="@gast:stadt.example").reply.body
    assert "Koordinator" in refused
    assert say(bot, "jahresbericht 2026").reply.body.startswith("Jahresbericht 2026: 1 Thema")
    refused = say(bot, "jahresbericht 27").reply.body
    assert refused == (
        "Das Jahr 27 liegt außerhalb von 2000 bis 2100. Bitte eine vierstellige Jahreszahl "
        "angeben, z. B. !zt jahresbericht 2027."
    )
    refused = say(bot, "jahresbericht nächstes").reply.body
    assert refused.startswith("„nächstes“ ist keine Jahreszahl. So geht es: !zt jahresbericht")

    outputs = {}
    for form in ("md", "html", "csv"):
        out = tmp_path / f"bericht.{form}"
        code = main(["report", "--config", str(config_file), "--year", "2027",
                     "--format", form, "--out", str(out)])  # fmt: skip
        assert code == 0
        outputs[form] = out.read_text("utf-8-sig")
    markdown, html, table = outputs["md"], outputs["html"], outputs["csv"]
    assert markdown.startswith("# Jahresbericht Zukunftstische 2027")
    assert "| 1 Vorbereitung | 01.02.2027 | 120 Tage verspätet (erledigt 01.06.2027) |" in markdown
    assert "| Wie zufrieden sind Sie insgesamt mit dem Zukunftstisch? | 3 | 4,7 |" in markdown
    assert "| Das Ziel des Zukunftstischs war mir klar. | 1 | zu wenige Antworten |" in markdown
    assert "- übernommen: Einladungen früher verschicken – noch nicht umgesetzt" in markdown
    assert "- verworfen: Mehr Kaffee (Grund: kein Budget)" in markdown
    assert "Vorjahr" not in markdown
    assert html.startswith("<!DOCTYPE html>") and "<style>" in html and "http" not in html
    assert "<h2>Mobilität – Z2 am 12.04.2027 (KW 15)</h2>" in html
    parsed = list(csv.reader(io.StringIO(table), delimiter=";"))
    assert parsed[0][0] == "Teil"
    assert ["Schritt", "Mobilität", "2027-04-12", "1", "Vorbereitung", "2027-02-01",
            "verspätet (Tage)", "120"] in parsed  # fmt: skip
    assert ["KVP-Idee", "Mobilität", "2027-04-12", "", "Mehr Kaffee", "", "verworfen",
            "kein Budget"] in parsed  # fmt: skip

    with pytest.raises(SystemExit):
        main(["report", "--config", str(config_file), "--year", "27"])


Z2_ROOM = "!z2:stadt.example"


def engine_of(bot: Bot) -> tuple[EvaluationEngine, RecordingMatrix]:
    """The evaluation engine, its Matrix recorded; the rooms' members as the test needs."""
    services = bot.router.services
    user = BOT_USER
    transport = RecordingMatrix(
        rooms={
            ROOM: [COORDINATOR, user],
            TEAM: ["@rita:stadt.example", "@sven:stadt.example", user],
            Z2_ROOM: ["@olga:stadt.example", "@paul:stadt.example", user],
        },
        names={Z2_ROOM: "Z2 Mobilität"},
    )
    engine = EvaluationEngine(
        bot.config, bot.store, services.evaluations, services.renderer, services.calendar,
        matrix=transport,
    )  # fmt: skip
    return engine, transport


async def test_the_offer_of_the_internal_evaluation_goes_out_once_after_step_6(bot: Bot) -> None:
    engine, transport = engine_of(bot)
    say(bot, "neu Mobilität 12.04.2027")
    say(bot, "raum Mobilität team", room=TEAM)
    say(bot, "neu Klima 20.05.2027")
    await engine.tick(NOW)
    # Step 6 still open: no offer. (Klima's Z2 is over and nobody is there to ask.)
    (nobody,) = transport.notices(ROOM)
    assert nobody.startswith("Für „Klima“ ist niemand da, den die Evaluation fragen kann")
    say(bot, "erledigt Mobilität 6")
    say(bot, "erledigt Klima 6")
    say(bot, "erledigt Klima 7")  # step 7 done already: too late to offer it
    await engine.tick(NOW)
    offer = transport.notices(ROOM)[-1]
    assert offer.startswith("Der Rat hat über „Mobilität“ entschieden (Schritt 6 erledigt).")
    assert transport.notices(TEAM) == [offer]
    await engine.tick(NOW)
    assert len(transport.sent) == 3  # each once, not at every tick


async def test_internal_evaluation_asks_team_and_coordination_in_direct_chats(bot: Bot) -> None:
    engine, transport = engine_of(bot)
    say(bot, "neu Mobilität 12.04.2027")
    say(bot, "raum Mobilität team", room=TEAM)
    say(bot, "umfrage Mobilität intern")
    await engine.tick(NOW)
    polls = [(room, c) for room, kind, c in transport.sent if kind.endswith("poll.start")]
    asked = {room for room, _ in polls}
    assert asked == {
        "!dm-rita:stadt.example",
        "!dm-sven:stadt.example",
        "!dm-koordination:stadt.example",
    }
    assert len(polls) == 3 * 3  # three scale questions each
    for room in asked:
        notices = transport.notices(room)
        assert notices[0].startswith("Interne Evaluation „Mobilität“")
        assert notices[-1].startswith("Offene Frage: Was sollten wir beim nächsten Thema anders")
    assert not any("von selbst" in body for body in transport.notices(ROOM))  # started by hand
    (evaluation,) = bot.router.services.evaluations.for_theme(1)
    assert (evaluation.status, evaluation.participants) == ("open", 3)


async def test_an_automatic_start_is_told_in_the_coordination_room(bot: Bot) -> None:
    engine, transport = engine_of(bot)
    say(bot, "neu Garten 25.05.2027")  # a week before NOW: due since the day after
    say(bot, "raum Garten z2", room=Z2_ROOM)
    await engine.tick(NOW)
    (told,) = transport.notices(ROOM)
    assert told.startswith("Die Evaluation von „Garten“ hat von selbst begonnen")
    assert "2 Personen werden im Direktchat gefragt" in told
    assert "Sie endet am 08.06.2027; früher beenden: !zt umfrage beenden Garten" in told
    for person in ("olga", "paul"):
        assert transport.notices(f"!dm-{person}:stadt.example")[-1].startswith("Offene Frage:")
    await engine.tick(NOW)
    assert len(transport.notices(ROOM)) == 1


async def test_the_participants_are_the_z2_room_and_the_named_never_the_team(bot: Bot) -> None:
    engine, transport = engine_of(bot)
    say(bot, "neu Garten 25.05.2027")
    say(bot, "raum Garten team", room=TEAM)
    say(bot, "raum Garten z2", room=Z2_ROOM)
    named = say(bot, "teilnehmende Garten @ratsfrau:stadt.example @olga:stadt.example")
    assert named.reply.body.startswith(
        "Als Z2-Teilnehmende von „Garten“ benannt: @ratsfrau:stadt.example, @olga:stadt.example."
    )
    await engine.tick(NOW)
    polled = {room for room, kind, _ in transport.sent if kind.endswith("poll.start")}
    # The Z2 room's members and the named ones, once each; not rita and sven of the team.
    assert polled == {
        "!dm-olga:stadt.example",
        "!dm-paul:stadt.example",
        "!dm-ratsfrau:stadt.example",
    }
    (told,) = transport.notices(ROOM)
    assert "3 Personen werden im Direktchat gefragt" in told
    assert "Z2-Raums „Z2 Mobilität“ (https://matrix.to/#/!z2:stadt.example)" in told


async def test_named_participants_alone_are_asked_and_nobody_is_told_once(bot: Bot) -> None:
    engine, transport = engine_of(bot)
    say(bot, "neu Garten 25.05.2027")
    say(bot, "neu Wald 26.05.2027")
    say(bot, "teilnehmende Garten @ratsfrau:stadt.example")
    await engine.tick(NOW)
    await engine.tick(NOW)
    polled = {room for room, kind, _ in transport.sent if kind.endswith("poll.start")}
    assert polled == {"!dm-ratsfrau:stadt.example"}
    notices = transport.notices(ROOM)
    assert len(notices) == 2
    assert notices[0].startswith("Für „Wald“ ist niemand da")  # once, whatever the ticks
    assert "1 Person wird im Direktchat gefragt (die benannten Teilnehmenden)" in notices[1]
    # Asked by hand with the same words; a room poll needs a Z2 room.
    assert say(bot, "umfrage Wald").reply.body == notices[0]
    refused = say(bot, "umfrage Garten raum").reply.body
    assert refused.startswith("Eine Umfrage im Raum braucht einen Z2-Raum")


def test_before_z2_the_start_is_refused_with_the_date_unless_confirmed(bot: Bot) -> None:
    say(bot, "neu Herbst 14.10.2027")
    say(bot, "raum Herbst z2", room=Z2_ROOM)
    refused = say(bot, "umfrage Herbst").reply.body
    assert refused.startswith("Z2 von „Herbst“ ist am 14.10.2027 und hat noch nicht stattgefunden")
    assert refused.endswith("!zt umfrage Herbst trotzdem")
    assert bot.router.services.evaluations.for_theme(1) == []
    started = say(bot, "umfrage Herbst trotzdem").reply.body
    assert started.startswith("Die Evaluation von „Herbst“ startet jetzt")
    assert "Z2-Raums „!z2:stadt.example“" in started  # the bot here knows no room names
