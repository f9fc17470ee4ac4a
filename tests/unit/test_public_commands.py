"""`öffentlich <Thema> an|aus` and `beteiligung <Thema> link <URL>` (issue 24): what they
store, and their German refusals for bad input and a missing right."""

from __future__ import annotations

from bot.domain.evaluation import INTERNAL_KIND
from bot.domain.questionnaire import INTERNAL, load_questionnaire
from bot.router import Router
from tests.conftest import COORDINATOR
from tests.public_samples import published_evaluation

ROOM = "!team:stadt.example"
MEMBER = "@fachbereich:stadt.example"


def ask(router: Router, text: str, now, result: str = "ok", sender: str = COORDINATOR) -> str:
    outcome = router.handle(text, sender=sender, room_id=ROOM, now=now)
    assert outcome is not None
    assert outcome.result == result, outcome.reply.body
    return outcome.reply.body


def test_a_coordinator_makes_a_theme_public_and_private_again(make_bot, now) -> None:
    bot = make_bot(
        '[web]\nlisten = "127.0.0.1:0"\npublic = true\npublic_url = "https://zt.stadt.example"'
    )
    ask(bot.router, "!zt neu Mobilität 15.06.2027", now)
    assert bot.store.theme("Mobilität").theme.public is False  # the default
    answer = ask(bot.router, "!zt öffentlich Mobilität an", now)
    assert "ist jetzt öffentlich" in answer and "https://zt.stadt.example/" in answer
    assert bot.store.theme("Mobilität").theme.public is True
    assert [v.theme.name for v in bot.store.public_themes()] == ["Mobilität"]
    assert "war schon öffentlich" in ask(bot.router, "!zt oeffentlich mobilitaet an", now)
    assert "nicht mehr öffentlich" in ask(bot.router, "!zt öffentlich Mobilität aus", now)
    assert bot.store.public_themes() == []


def test_an_idea_can_be_public_and_the_answer_says_when_the_page_is_off(make_bot, now) -> None:
    bot = make_bot()
    ask(bot.router, "!zt neu Regenwasserbewirtschaftung Q4/2027", now)
    answer = ask(bot.router, "!zt öffentlich Regenwasserbewirtschaftung an", now)
    assert "[web] public = true" in answer


def test_oeffentlich_refuses_bad_input_and_non_coordinators(make_bot, now) -> None:
    bot = make_bot()
    ask(bot.router, "!zt neu Mobilität 15.06.2027", now)
    assert "kenne ich nicht" in ask(bot.router, "!zt öffentlich Klima an", now, "refused")
    missing = ask(bot.router, "!zt öffentlich Mobilität", now, "refused")
    assert "!zt öffentlich <Thema> [auswertung] an|aus" in missing
    usage = ask(bot.router, "!zt öffentlich", now, "refused")
    assert "!zt öffentlich <Thema> [auswertung] an|aus" in usage
    refused = ask(bot.router, "!zt öffentlich Mobilität an", now, "refused", sender=MEMBER)
    assert "nur Koordinator*innen" in refused
    assert bot.store.theme("Mobilität").theme.public is False


def test_beteiligung_sets_and_removes_the_link(make_bot, now) -> None:
    bot = make_bot()
    ask(bot.router, "!zt neu Digitale Ethik 15.06.2027", now)
    link = "https://beteiligung.stadt.example/ethik?x=1"
    answer = ask(bot.router, f"!zt beteiligung Digitale Ethik link {link}", now)
    assert link in answer
    assert bot.store.theme("Digitale Ethik").theme.participation_link == link
    assert "entfernt" in ask(bot.router, "!zt beteiligung Digitale Ethik link entfernen", now)
    assert bot.store.theme("Digitale Ethik").theme.participation_link is None
    again = ask(bot.router, "!zt beteiligung Digitale Ethik link entfernen", now, "refused")
    assert "keinen Link" in again


def test_beteiligung_refuses_bad_links_missing_words_and_non_coordinators(make_bot, now) -> None:
    bot = make_bot()
    ask(bot.router, "!zt neu Mobilität 15.06.2027", now)
    for bad in ("javascript:alert(1)", "ftp://server/x", "mxc://stadt.example/abc"):
        refused = ask(bot.router, f"!zt beteiligung Mobilität link {bad}", now, "refused")
        assert "nur Links mit https:// oder http://" in refused, bad
    for bad in ("https://", "https://host/a<b", "beteiligung.stadt.example"):
        refused = ask(bot.router, f"!zt beteiligung Mobilität link {bad}", now, "refused")
        assert "kein Link" in refused or "nur Links" in refused, bad
    usage = "!zt beteiligung <Thema> link <URL|entfernen>"
    assert usage in ask(bot.router, "!zt beteiligung Mobilität link", now, "refused")
    assert usage in ask(bot.router, "!zt beteiligung Mobilität https://x.example", now, "refused")
    unknown = ask(bot.router, "!zt beteiligung Klima link https://x.example", now, "refused")
    assert "kenne ich nicht" in unknown
    refused = ask(
        bot.router, "!zt beteiligung Mobilität link https://x.example", now, "refused", MEMBER
    )
    assert "nur Koordinator*innen" in refused
    assert bot.store.theme("Mobilität").theme.participation_link is None


def test_a_coordinator_publishes_a_closed_participants_evaluation(make_bot, now) -> None:
    bot = make_bot(
        '[web]\nlisten = "127.0.0.1:0"\npublic = true\npublic_url = "https://zt.stadt.example"'
    )
    ask(bot.router, "!zt neu Digitale Ethik 15.06.2027", now)
    view = bot.store.theme("Digitale Ethik")
    evaluation = published_evaluation(bot.store, view.id)
    bot.router.services.evaluations.set_public(view.id, None, actor=COORDINATOR, now=now)
    answer = ask(bot.router, "!zt öffentlich Digitale Ethik auswertung an", now)
    assert "steht jetzt auf der öffentlichen Seite" in answer
    assert "mindestens 3 Antworten" in answer and "keine offenen Antworten" in answer
    assert "sobald das Thema öffentlich ist (!zt öffentlich Digitale Ethik an)" in answer
    evaluations = bot.router.services.evaluations
    assert [e.id for e in evaluations.published([view.id]).values()] == [evaluation]
    ask(bot.router, "!zt öffentlich Digitale Ethik an", now)
    again = ask(bot.router, "!zt öffentlich digitale ethik auswertung an", now)
    assert "stand schon" in again and "https://zt.stadt.example/thema/digitale-ethik" in again
    off = ask(bot.router, "!zt öffentlich Digitale Ethik auswertung aus", now)
    assert "steht nicht mehr auf der öffentlichen Seite" in off
    assert evaluations.published([view.id]) == {}
    assert bot.store.theme("Digitale Ethik").theme.public is True  # the theme stays public
    history = [e.action for e in bot.store.history(view.id)]
    assert history.count("results_public") >= 3


def test_publishing_results_refuses_running_internal_and_missing_evaluations(make_bot, now) -> None:
    bot = make_bot()
    ask(bot.router, "!zt neu Mobilität 15.06.2027", now)
    view = bot.store.theme("Mobilität")
    none = ask(bot.router, "!zt öffentlich Mobilität auswertung an", now, "refused")
    assert "noch keine Auswertung der Teilnehmenden" in none
    evaluations = bot.router.services.evaluations
    internal = evaluations.create(
        theme_id=view.id, mode="anonym", room_id=None, kind=INTERNAL_KIND,
        questionnaire_json=load_questionnaire(None, default=INTERNAL).to_json(), min_answers=3,
        started_by=COORDINATOR, now=now, closes_at=now,
    )  # fmt: skip
    evaluations.close(internal.id, [], now)
    only_internal = ask(bot.router, "!zt öffentlich Mobilität auswertung an", now, "refused")
    assert "nur eine interne Auswertung" in only_internal and "bleibt intern" in only_internal
    evaluations.create(
        theme_id=view.id, mode="anonym", room_id=None,
        questionnaire_json=load_questionnaire().to_json(), min_answers=3,
        started_by=COORDINATOR, now=now, closes_at=now,
    )  # fmt: skip
    running = ask(bot.router, "!zt öffentlich Mobilität auswertung an", now, "refused")
    assert "noch nicht abgeschlossen" in running and "!zt umfrage beenden Mobilität" in running
    refused = ask(
        bot.router, "!zt öffentlich Mobilität auswertung an", now, "refused", sender=MEMBER
    )
    assert "nur Koordinator*innen" in refused
    missing = ask(bot.router, "!zt öffentlich Mobilität auswertung", now, "refused")
    assert "!zt öffentlich <Thema> [auswertung] an|aus" in missing
    assert evaluations.published([view.id]) == {}
