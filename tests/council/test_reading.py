"""council.reading: the facts of the Musterstadt test system, read without any HTTP."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from bot.council.models import (
    AgendaItem,
    Body,
    Consultation,
    ListPage,
    Meeting,
    Organization,
    Paper,
)
from bot.council.reading import (
    BERLIN,
    OParlLookupError,
    choose_body,
    choose_organization,
    council_meetings,
    next_meeting,
    paper_by_reference,
    paper_state,
)
from tests.council import load, summary


def _page(model: type, *files: str) -> list:
    return [item for file in files for item in ListPage[model].model_validate(load(file)).data]


@pytest.fixture(scope="module")
def body() -> Body:
    return choose_body(_page(Body, "bodies.json"))


@pytest.fixture(scope="module")
def organizations() -> list[Organization]:
    return _page(Organization, "organizations.json")


@pytest.fixture(scope="module")
def council(body: Body, organizations: list[Organization]) -> Organization:
    return choose_organization(organizations, body)


@pytest.fixture(scope="module")
def meetings() -> list[Meeting]:
    return _page(Meeting, "meetings-page1.json", "meetings-page2.json")


@pytest.fixture(scope="module")
def papers() -> list[Paper]:
    return _page(Paper, "papers.json")


def _state(paper: Paper, meetings: list[Meeting], organizations: list[Organization]):
    return paper_state(
        paper,
        agenda_items=_page(AgendaItem, "agendaitems.json"),
        meetings=meetings,
        organizations=organizations,
    )


def test_the_only_body_is_chosen_by_default_or_by_id_or_name(body: Body) -> None:
    assert body.name == "Stadt Musterstadt"
    bodies = _page(Body, "bodies.json")
    assert choose_body(bodies, body.id) == body
    assert choose_body(bodies, "  stadt   musterstadt ") == body
    assert choose_body(bodies, "Musterstadt") == body  # the short name


def test_several_or_no_bodies_ask_for_the_configuration(body: Body) -> None:
    other = body.model_copy(update={"id": body.id + "0", "name": "Kreis Musterland"})
    with pytest.raises(OParlLookupError) as info:
        choose_body([body, other])
    assert str(info.value) == (
        "OParl: 2 Körperschaften gefunden (Stadt Musterstadt, Kreis Musterland); "
        "bitte [council] body setzen"
    )
    with pytest.raises(OParlLookupError, match="„Stadt Nirgendwo“ nicht gefunden"):
        choose_body([body, other], "Stadt Nirgendwo")
    with pytest.raises(OParlLookupError, match="keine Körperschaft"):
        choose_body([])
    deleted = body.model_copy(update={"deleted": True})
    assert choose_body([deleted, other]) == other


def test_the_council_is_the_organization_classified_parlament(
    body: Body, organizations: list[Organization], council: Organization
) -> None:
    assert council.name == "Rat der Stadt Musterstadt"
    assert council.id == body.main_organization
    committee = choose_organization(organizations, body, "Stadtentwicklungsausschuss")
    assert committee.classification == "Ausschuss"
    assert choose_organization(organizations, body, committee.id) == committee
    with pytest.raises(OParlLookupError, match="Gremium „Jugendhilfeausschuss“"):
        choose_organization(organizations, body, "Jugendhilfeausschuss")


def test_without_parlament_the_main_organization_is_the_council(
    body: Body, organizations: list[Organization], council: Organization
) -> None:
    unclassified = [o.model_copy(update={"classification": None}) for o in organizations]
    assert choose_organization(unclassified, body).id == council.id
    orphan = body.model_copy(update={"main_organization": None})
    with pytest.raises(OParlLookupError, match="bitte \\[council\\] organization setzen"):
        choose_organization(unclassified, orphan)


def test_a_council_of_an_earlier_term_drops_out_with_today(
    body: Body, council: Organization
) -> None:
    old = council.model_copy(update={"id": council.id + "0", "end_date": date(2026, 4, 30)})
    with pytest.raises(OParlLookupError, match="2 Gremien mit Klassifikation „Parlament“"):
        choose_organization([old, council], body.model_copy(update={"main_organization": None}))
    assert choose_organization([old, council], body, today=date(2027, 6, 15)) == council


def test_seven_council_meetings_take_place_in_2027(
    meetings: list[Meeting], council: Organization
) -> None:
    kept = council_meetings(meetings, council)
    days = [m.start.astimezone(BERLIN).date() for m in kept if m.start]
    assert days == [
        date(2027, 1, 21),
        date(2027, 3, 4),
        date(2027, 4, 15),
        date(2027, 5, 27),
        date(2027, 7, 8),
        date(2027, 10, 14),
        date(2027, 11, 25),
    ]
    assert date(2027, 9, 2) not in days  # cancelled
    for meeting in kept:
        assert meeting.start is not None
        assert meeting.start.astimezone(BERLIN).time() == time(17, 0)
        winter = meeting.start.month in (1, 2, 3, 11, 12)
        assert meeting.start.utcoffset() == timedelta(hours=1 if winter else 2)


def test_meetings_of_other_organizations_and_repeated_ones_count_once(
    meetings: list[Meeting], organizations: list[Organization], council: Organization
) -> None:
    committee = next(o for o in organizations if o.id != council.id)
    assert council_meetings(meetings, committee) == ()
    again = meetings[0].model_copy(update={"name": "verlegt"})
    kept = council_meetings([*meetings, again], council)
    assert len(kept) == 7 and kept[0].name == "verlegt"
    cancelled_later = meetings[0].model_copy(update={"cancelled": True})
    assert len(council_meetings([*meetings, cancelled_later], council)) == 6
    anonymous = [m.model_copy(update={"organization": ()}) for m in meetings]
    assert council_meetings(anonymous, council) == ()
    assert len(council_meetings(anonymous, council, from_organization_list=True)) == 7


def test_step_6_falls_on_the_first_meeting_four_weeks_after_z2(
    meetings: list[Meeting], council: Organization
) -> None:
    kept = council_meetings(meetings, council)
    z2 = date(2027, 3, 15)
    meeting = next_meeting(kept, z2 + timedelta(weeks=4))
    assert meeting is not None and meeting.start is not None
    assert meeting.start.astimezone(BERLIN).date() == date(2027, 4, 15)
    assert next_meeting(kept, date(2027, 4, 15)) == meeting  # on the day counts
    assert next_meeting(kept, date(2027, 11, 26)) is None


def test_a_decided_paper(
    papers: list[Paper], meetings: list[Meeting], organizations: list[Organization]
) -> None:
    paper = paper_by_reference(papers, "BV/2027/0012")
    assert paper is not None
    state = _state(paper, meetings, organizations)
    assert state.decided
    assert state.result == "Unverändert beschlossen"
    assert state.resolution_text and "Dreifeldsporthalle" in state.resolution_text
    assert state.decision_date == date(2027, 4, 15)
    assert state.pending_at is None
    assert summary(state) == "Unverändert beschlossen am 15.04.2027"
    committee, council = state.consultations
    assert committee.organization == "Ausschuss für Stadtentwicklung und Umwelt"
    assert (committee.authoritative, committee.meeting_date, committee.role) == (
        False,
        None,
        "Vorberatung",
    )
    assert council.organization == "Rat der Stadt Musterstadt"
    assert council.authoritative and council.meeting_date == date(2027, 4, 15)
    assert council.agenda_number == "3"
    assert state.authoritative == council
    assert state.link == state.file_url and state.link.endswith("/files/BV-2027-0012.pdf")


def test_a_pending_paper(
    papers: list[Paper], meetings: list[Meeting], organizations: list[Organization]
) -> None:
    paper = paper_by_reference(papers, "bv/2027/0031")
    assert paper is not None
    state = _state(paper, meetings, organizations)
    assert not state.decided and state.result is None
    assert state.pending_date == date(2027, 7, 8)
    assert summary(state) == "beraten am 08.07.2027"
    assert [c.organization for c in state.consultations] == [
        "Ausschuss für Stadtentwicklung und Umwelt",
        "Rat der Stadt Musterstadt",
    ]


def test_an_unknown_reference_is_none(papers: list[Paper]) -> None:
    assert paper_by_reference(papers, "BV/2027/9999") is None
    assert paper_by_reference([], "BV/2027/0012") is None


def test_agenda_items_embedded_in_meetings_are_enough(
    papers: list[Paper], meetings: list[Meeting]
) -> None:
    paper = paper_by_reference(papers, "BV/2027/0012")
    assert paper is not None
    state = paper_state(paper, meetings=meetings)
    assert state.decided and state.decision_date == date(2027, 4, 15)
    # Without organizations their URLs stand in for the names.
    assert state.consultations[0].organization.endswith("/organization/2")


def _with_result(meetings: list[Meeting], result: str | None, **changes) -> list[Meeting]:
    """The meetings with agenda item 8 (BV/2027/0012 in the council) changed."""
    changed = []
    for meeting in meetings:
        items = tuple(
            item.model_copy(update={"result": result, **changes})
            if item.id.endswith("/agendaItem/8")
            else item
            for item in meeting.agenda_item
        )
        changed.append(meeting.model_copy(update={"agenda_item": items}))
    return changed


def test_a_postponed_paper_is_not_decided(papers: list[Paper], meetings: list[Meeting]) -> None:
    paper = paper_by_reference(papers, "BV/2027/0012")
    assert paper is not None
    state = paper_state(paper, meetings=_with_result(meetings, "Vertagt"))
    assert not state.decided and state.result == "Vertagt"
    assert summary(state) == "Vertagt am 15.04.2027"
    only_text = _with_result(meetings, None, resolution_text="Der Rat beschließt …")
    decided = paper_state(paper, meetings=only_text)
    assert decided.decided and summary(decided) == "Beschlossen am 15.04.2027"


def test_a_cancelled_meeting_leaves_the_paper_unscheduled(
    papers: list[Paper], meetings: list[Meeting]
) -> None:
    paper = paper_by_reference(papers, "BV/2027/0031")
    assert paper is not None
    cancelled = [m.model_copy(update={"cancelled": m.id.endswith("/5")}) for m in meetings]
    state = paper_state(paper, meetings=cancelled)
    assert state.pending_at is None and state.authoritative is not None
    assert state.authoritative.meeting_cancelled
    assert summary(state) == "noch keine Beratung terminiert"


def test_consultations_can_be_given_apart_from_the_paper(
    papers: list[Paper], meetings: list[Meeting]
) -> None:
    paper = paper_by_reference(papers, "BV/2027/0031")
    assert paper is not None
    listed = [c for c in _page(Consultation, "consultations.json") if c.paper == paper.id]
    bare = paper.model_copy(update={"consultation": ()})
    assert paper_state(bare, meetings=meetings).authoritative is None
    state = paper_state(bare, consultations=listed, meetings=meetings)
    assert state.pending_date == date(2027, 7, 8)
    web = paper.model_copy(update={"web": "https://ris.musterstadt.example/vo020?id=2"})
    assert paper_state(web, meetings=meetings).link == web.web
