"""The chat side of pictures and feeds, through the router on a real store: `zeitplan`,
the picture `jahresplan` and `auswertung` attach, their alt texts, `status` offering the
picture, and `kalender … abo [neu]` with and without `[web]`."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.app import Bot
from bot.domain.questionnaire import VERSION_1, load_questionnaire
from bot.router import Outcome, Router
from bot.store.evaluations import ResultRow
from tests.conftest import COORDINATOR

NOW = datetime(2027, 3, 18, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ROOM = "!koordination:stadt.example"


@pytest.fixture
def router(make_bot) -> Router:
    return make_bot('[web]\nlisten = "127.0.0.1:0"\npublic_url = "https://zt.stadt.example"').router


def say(router: Router, text: str, sender: str = COORDINATOR) -> Outcome:
    outcome = router.handle(f"!zt {text}", sender=sender, room_id=ROOM, now=NOW)
    assert outcome is not None
    return outcome


def test_zeitplan_answers_with_a_picture_and_its_alt_text(router: Router) -> None:
    assert say(router, "neu Digitale Ethik KW 15/2027").result == "ok"
    assert say(router, "ratssitzung 20.05.2027").result == "ok"
    outcome = say(router, "zeitplan digitale")
    assert outcome.result == "ok"
    attachment = outcome.reply.attachment
    assert attachment is not None and attachment.is_image
    assert attachment.mimetype == "image/png"
    image = Image.open(io.BytesIO(attachment.data))
    assert image.size == (attachment.width, attachment.height)
    alt = attachment.alt
    assert alt.startswith("Zeitplan „Digitale Ethik“ als Bild: 8 Schritte von KW 5/2027")
    assert "Heute ist der 18.03.2027, zwischen Schritt 2 (15.03.2027) und Schritt 3" in alt
    assert "Schritt 6 Ratsentscheidung: 20.05.2027, offen, Ratssitzung" in alt
    assert "Digitale Beteiligung vom 01.03.2027 bis 29.03.2027" in alt
    assert attachment.thumbnail is not None
    assert "Zeitplan „Digitale Ethik“ als Bild" in outcome.reply.body


def test_status_offers_the_picture_and_an_idea_has_none(router: Router) -> None:
    say(router, "neu Mobilität 12.04.2027")
    assert "Als Bild: !zt zeitplan Mobilität" in say(router, "status Mobilität").reply.body
    say(router, "neu Wärmeplanung Q4/2027")
    refused = say(router, "zeitplan Wärmeplanung")
    assert refused.result == "refused" and "noch eine Idee" in refused.reply.body
    assert "Da fehlt noch etwas" in say(router, "zeitplan").reply.body


def test_the_year_plan_attaches_a_picture(router: Router) -> None:
    say(router, "neu Mobilität 12.04.2027")
    say(router, "neu Klima 14.04.2027")
    say(router, "neu Wärmeplanung Q4/2027")
    outcome = say(router, "jahresplan 2027")
    attachment = outcome.reply.attachment
    assert attachment is not None and attachment.is_image
    assert "Jahresplan 2027 als Bild: 2 Themen mit Z2 und 1 Idee ohne Z2" in attachment.alt
    assert "Wochen mit zwei Z2: KW 15 (Mobilität, Klima)" in attachment.alt
    assert say(router, "jahresplan 2030").reply.attachment is None  # nothing planned


def test_results_attach_a_chart_that_says_too_few_answers(router: Router) -> None:
    say(router, "neu Mobilität 12.04.2027")
    services = router.services
    view = services.store.theme("Mobilität")
    assert view is not None
    evaluation = services.evaluations.create(
        theme_id=view.id, mode="raum", room_id=ROOM,
        questionnaire_json=load_questionnaire(None, default=VERSION_1).to_json(), min_answers=3,
        started_by=COORDINATOR, now=NOW, closes_at=NOW,
    )  # fmt: skip
    assert evaluation.id is not None
    rows = [ResultRow("q1", None, 4), ResultRow("q1", "a1", 3), ResultRow("q1", "a2", 1)]
    rows += [ResultRow("q2", None, 2), ResultRow("q2", "a1", 2)]
    services.evaluations.close(evaluation.id, rows, NOW)
    outcome = say(router, "auswertung Mobilität")
    attachment = outcome.reply.attachment
    assert attachment is not None and attachment.is_image
    assert "Mittelwert 4,8 von 5: sehr zufrieden 3, zufrieden 1" in attachment.alt
    assert "2. Waren Ziel und Rahmen klar? 2 Antworten, zu wenige Antworten" in attachment.alt
    overview = say(router, "auswertung").reply.attachment
    assert overview is not None and "Mobilität: Mittelwert 4,8" in overview.alt


def test_kalender_abo_answers_with_the_feed_url_and_abo_neu_replaces_it(router: Router) -> None:
    say(router, "neu Mobilität 12.04.2027")
    first = say(router, "kalender Mobilität abo")
    assert first.result == "ok"
    url = next(w for w in first.reply.body.split() if w.startswith("https://"))
    assert url.startswith("https://zt.stadt.example/kalender/") and url.endswith(".ics")
    assert url in say(router, "kalender mobil abo").reply.body  # the same until renewed
    renewed = say(router, "kalender Mobilität abo neu")
    assert "der bisherige gilt ab sofort nicht mehr" in renewed.reply.body
    assert url not in renewed.reply.body
    every = say(router, "kalender abo")
    assert "Kalender-Abo für alle Themen" in every.reply.body
    assert "abo neu" in every.reply.body
    assert say(router, "kalender abo neu").result == "ok"
    wrong = say(router, "kalender abo morgen")
    assert wrong.result == "refused" and "So geht es: !zt kalender abo" in wrong.reply.body
    # The .ics file is still there, and `hilfe kalender` lists every form.
    assert say(router, "kalender Mobilität").reply.attachment is not None
    help_text = say(router, "hilfe kalender").reply.body
    for form in ("kalender <Thema> abo neu", "kalender <Thema> abo", "kalender abo neu"):
        assert form in help_text


def test_without_web_kalender_abo_says_how_to_switch_it_on(bot: Bot) -> None:
    router = bot.router
    say(router, "neu Mobilität 12.04.2027")
    outcome = say(router, "kalender Mobilität abo")
    assert outcome.result == "refused"
    assert "[web] listen" in outcome.reply.body
