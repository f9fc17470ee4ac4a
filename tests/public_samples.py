"""The concept's three example themes as a citizen sees them (issue 24), and one theme
full of internal data that must never reach the public page. Shared by the HTTP tests,
the view model's tests and the browser test (which takes the screenshots)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from bot.domain.evaluation import INTERNAL_KIND
from bot.domain.papers import LinkedPaper, PaperConsultation
from bot.domain.process import load_template
from bot.domain.questionnaire import INTERNAL, load_questionnaire
from bot.domain.themes import StepState
from bot.domain.timeline import plan
from bot.store.council import CouncilStore
from bot.store.evaluations import EvaluationStore, ResultRow
from bot.store.themes import Store

# A day in the participation of Mobilität, after the council decided on Digitale Ethik.
TODAY = date(2027, 5, 20)
NOW = datetime(2027, 5, 20, 8, 0, tzinfo=UTC)
ACTOR = "@koordination:stadt.example"
PARTICIPATION = "https://beteiligung.stadt.example/mobilitaet"
PAPER_LINK = "https://ris.stadt.example/vorlage/BV-2027-0012"
# Values only the administration knows: none may appear on any public page.
SECRETS = (
    "@anna.intern:stadt.example",
    "@ratsfrau.geheim:stadt.example",
    "!geheimraum:stadt.example",
    "Notiz-nur-fuer-intern-4711",
    "Sitzungsraum 3.14 Geheimflur",
    "KVP-Idee-Kaffeemaschine",
    "Antwort-aus-der-Evaluation-0815",
    "Anna Intern, Tel. 0815-4711",
)

# A published evaluation: an open answer (given often enough for `!zt auswertung`) and a
# question below the threshold, neither of which may reach the public page.
OPEN_ANSWER = "Offene-Antwort-nur-fuer-die-Auswertung-2342"
BELOW_THRESHOLD = "Das Ziel des Zukunftstischs war mir klar."
SHOWN_QUESTION = "Wie zufrieden sind Sie insgesamt"


def _create(store: Store, name: str, z2: date | None, quarter: str | None = None) -> int:
    template = load_template()
    view = store.create_theme(
        name=name, z2=z2, planned_quarter=quarter, team_room=None, template=template,
        planned=plan(template, z2) if z2 else (), created_by=ACTOR,
        now=datetime(2027, 1, 5, 9, 0, tzinfo=UTC),
    )  # fmt: skip
    store.set_public(view.id, True, actor=ACTOR, now=NOW)
    return view.id


def concept_themes(store: Store) -> None:
    """Digitale Ethik with a council decision, Mobilität running, Regenwasser an idea."""
    ethik = _create(store, "Digitale Ethik", date(2027, 3, 18))
    store.set_department(ethik, "Stabsstelle Digitalisierung", actor=ACTOR, now=NOW)
    for key in ("1", "2", "3", "4", "5"):
        store.set_step_state(ethik, key, state=StepState.done, actor=ACTOR, now=NOW, action="done")
    paper = LinkedPaper(
        key="https://ris.stadt.example/oparl/paper/12",
        reference="BV/2027/0012",
        name="Leitlinien Digitale Ethik",
        link=PAPER_LINK,
        consultations=(
            PaperConsultation("Rat der Stadt", "Entscheidung", True, date(2027, 4, 29), None,
                              "Unverändert beschlossen"),
        ),
        decided=True,
        result="Unverändert beschlossen",
        result_day=date(2027, 4, 29),
    )  # fmt: skip
    CouncilStore(store).link_paper(ethik, paper, configured=(), actor=ACTOR, now=NOW)
    store.set_step_state(ethik, "6", state=StepState.done, actor=ACTOR, now=NOW, action="done")
    mobil = _create(store, "Mobilität", date(2027, 6, 17))
    store.set_department(mobil, "Amt für Verkehrsplanung", actor=ACTOR, now=NOW)
    store.set_participation_link(mobil, PARTICIPATION, actor=ACTOR, now=NOW)
    store.set_step_state(mobil, "1", state=StepState.done, actor=ACTOR, now=NOW, action="done")
    _create(store, "Regenwasserbewirtschaftung", None, "Q4/2027")


def leaky_theme(store: Store) -> int:
    """A public theme carrying every kind of internal value the bot keeps."""
    theme = _create(store, "Klimaanpassung", date(2027, 9, 9))
    anna, council_member, room, note, place, idea, answer, contact = SECRETS
    store.set_contact(theme, contact, actor=anna, now=NOW)
    store.add_core_team(theme, [anna], actor=anna, now=NOW)
    store.add_participants(theme, [council_member], actor=anna, now=NOW)
    store.bind_room(theme, "team", room, actor=anna, now=NOW)
    store.set_responsible(theme, "1", [anna], actor=anna, now=NOW)
    store.set_step_state(
        theme, "1", state=StepState.done, actor=anna, now=NOW, note=note, action="done"
    )
    store.set_meeting_place(theme, "2", place, actor=anna, now=NOW)
    ideas = EvaluationStore(store)
    ideas.add_idea(theme, idea, anna, NOW)
    ideas.add_idea(theme, answer, None, NOW)
    return theme


def published_evaluation(store: Store, theme: int) -> int:
    """A closed participants' evaluation of `theme` a coordinator made public: `gesamt`
    answered by 5 (3× a1, 2× a2), `ziel` by 2 (below the threshold of 3), the open
    question 4 times; and a closed internal evaluation whose flag is set by hand (the
    page must still leave it out)."""
    evaluations = EvaluationStore(store)
    found = evaluations.create(
        theme_id=theme, mode="anonym", room_id=None,
        questionnaire_json=load_questionnaire().to_json(), min_answers=3,
        started_by=ACTOR, now=NOW, closes_at=NOW,
    )  # fmt: skip
    assert found.id is not None
    for number in range(4):
        chat = f"!chat{number}:stadt.example"
        evaluations.ask_open(found.id, chat, "open")
        evaluations.answer_open(found.id, chat, "open", OPEN_ANSWER, None)
    rows = [ResultRow("gesamt", None, 5), ResultRow("gesamt", "a1", 3)]
    rows += [ResultRow("gesamt", "a2", 2), ResultRow("ziel", None, 2), ResultRow("ziel", "a1", 2)]
    evaluations.close(found.id, rows, NOW)
    evaluations.set_public(theme, found.id, actor=ACTOR, now=NOW)
    internal = evaluations.create(
        theme_id=theme, mode="anonym", room_id=None, kind=INTERNAL_KIND,
        questionnaire_json=load_questionnaire(None, default=INTERNAL).to_json(), min_answers=3,
        started_by=ACTOR, now=NOW, closes_at=NOW,
    )  # fmt: skip
    assert internal.id is not None
    first = load_questionnaire(None, default=INTERNAL).polls[0].key
    evaluations.close(internal.id, [ResultRow(first, None, 9), ResultRow(first, "a1", 9)], NOW)
    evaluations.update(internal.id, public=True)
    return found.id


def internal_question() -> str:
    """The internal questionnaire's first poll question (never on the public page)."""
    return load_questionnaire(None, default=INTERNAL).polls[0].text
