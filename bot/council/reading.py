"""Pure reading logic over parsed OParl models: which body, which council, which meetings,
which paper, and what has become of it.

No I/O and no clock: whatever depends on "today" takes it as a parameter. Errors a person
can fix in the configuration raise `OParlLookupError` (a code and values, failures.py).

How a client finds things (OParl has no filter on meeting dates): System → bodies → Body →
its organizations → the one with `classification` "Parlament" (or `Body.mainOrganization`)
→ the meetings of that organization that are not cancelled. A paper's decision: its
consultation with `authoritative: true` → that consultation's agenda item → `result`
(and `resolutionText`); no result means pending, scheduled for that meeting.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

from bot.council.failures import OParlLookupError
from bot.council.models import (
    AgendaItem,
    Body,
    Consultation,
    Meeting,
    Organization,
    Paper,
)

BERLIN = ZoneInfo("Europe/Berlin")
PARLIAMENT = "Parlament"
# Results that record an agenda item as handled without a decision on the paper.
_NO_DECISION = ("vertagt", "zurückgestellt", "abgesetzt", "verschoben", "nicht behandelt")
_LISTED_NAMES = 5


@dataclass(frozen=True)
class CouncilData:
    """The chosen body and organization, and that organization's meetings (sorted)."""

    body: Body
    organization: Organization
    meetings: tuple[Meeting, ...]


@dataclass(frozen=True)
class ConsultationState:
    """One Beratung of a paper, resolved against its meeting, agenda item and organizations."""

    id: str
    organizations: tuple[str, ...]  # names; the URL where the organization is unknown
    role: str | None
    authoritative: bool
    meeting: str | None  # meeting id
    meeting_name: str | None
    meeting_start: datetime | None  # timezone-aware, the server's offset
    meeting_cancelled: bool
    agenda_number: str | None
    result: str | None
    resolution_text: str | None

    @property
    def organization(self) -> str:
        return ", ".join(self.organizations)

    @property
    def meeting_date(self) -> date | None:
        return local_date(self.meeting_start) if self.meeting_start else None


@dataclass(frozen=True)
class PaperState:
    """What has become of a paper: its consultations and the authoritative one's outcome.

    `decided` is true when the authoritative consultation's agenda item carries a result
    (or a resolution text) that is a decision; `decided_at` is then that meeting's start.
    Otherwise `pending_at` is the start of the authoritative consultation's meeting when
    one is scheduled and not cancelled.
    """

    id: str
    reference: str | None
    name: str | None
    paper_type: str | None
    web: str | None  # the paper's page in the council information system
    file_url: str | None  # its main file (the PDF), where the server has no web page
    consultations: tuple[ConsultationState, ...]
    authoritative: ConsultationState | None
    decided: bool
    result: str | None
    resolution_text: str | None
    decided_at: datetime | None
    pending_at: datetime | None

    @property
    def link(self) -> str | None:
        """Where people can read the paper: its web page, else its main file."""
        return self.web or self.file_url

    @property
    def decision_date(self) -> date | None:
        return local_date(self.decided_at) if self.decided_at else None

    @property
    def pending_date(self) -> date | None:
        return local_date(self.pending_at) if self.pending_at else None


def local_date(moment: datetime, zone: tzinfo = BERLIN) -> date:
    """The calendar day of an aware datetime in the city's time zone."""
    return moment.astimezone(zone).date()


def _normalized(text: str) -> str:
    return " ".join(text.split()).casefold()


def _label(item: Body | Organization) -> str:
    return item.name or item.short_name or item.id


def _labels(items: Sequence[Body | Organization]) -> list[str]:
    """The first few names, for a sentence that lists them (an ellipsis when cut)."""
    names = [_label(item) for item in items[:_LISTED_NAMES]]
    if len(items) > _LISTED_NAMES:
        names.append("…")
    return names


def _matching(items: Sequence[Body | Organization], wanted: str) -> list:
    """Items whose id is `wanted`, else those whose name or short name is (case-insensitive)."""
    by_id = [item for item in items if item.id == wanted.strip()]
    if by_id:
        return by_id
    key = _normalized(wanted)
    return [
        item
        for item in items
        if key in {_normalized(n) for n in (item.name, item.short_name) if n is not None}
    ]


def choose_body(bodies: Iterable[Body], wanted: str | None = None) -> Body:
    """The body named by `wanted` (id or name), else the only body of the system."""
    live = [body for body in bodies if not body.deleted]
    if wanted:
        found = _matching(live, wanted)
        if len(found) == 1:
            return found[0]
        if not found:
            raise OParlLookupError("body_not_found", wanted=wanted, names=_labels(live))
        raise OParlLookupError(
            "bodies_same_name", count=len(found), wanted=wanted, names=_labels(found)
        )
    if len(live) == 1:
        return live[0]
    if not live:
        raise OParlLookupError("no_body")
    raise OParlLookupError("several_bodies", count=len(live), names=_labels(live))


def choose_organization(
    organizations: Iterable[Organization],
    body: Body,
    wanted: str | None = None,
    *,
    today: date | None = None,
) -> Organization:
    """The organization named by `wanted` (id or name; a committee is fine), else the council.

    The council is the organization with classification "Parlament", else the body's
    `mainOrganization`. With `today`, organizations that ended before it are ignored (some
    systems keep one council per legislative term).
    """
    live = [org for org in organizations if not org.deleted]
    if wanted:
        found = _matching(live, wanted)
        if len(found) == 1:
            return found[0]
        if not found:
            raise OParlLookupError("organization_not_found", wanted=wanted, body=_label(body))
        raise OParlLookupError(
            "organizations_same_name", count=len(found), wanted=wanted, names=_labels(found)
        )
    current = [o for o in live if today is None or o.end_date is None or o.end_date >= today]
    parliaments = [
        org for org in current if _normalized(org.classification or "") == PARLIAMENT.casefold()
    ]
    if len(parliaments) == 1:
        return parliaments[0]
    for org in parliaments or current:
        if org.id == body.main_organization:
            return org
    if parliaments:
        raise OParlLookupError(
            "several_parliaments",
            count=len(parliaments),
            classification=PARLIAMENT,
            names=_labels(parliaments),
        )
    raise OParlLookupError("no_parliament", classification=PARLIAMENT, body=_label(body))


def council_meetings(
    meetings: Iterable[Meeting],
    organization: Organization,
    *,
    from_organization_list: bool = False,
) -> tuple[Meeting, ...]:
    """The organization's meetings that take place: not cancelled, not deleted, with a start.

    `from_organization_list`: the meetings come from the organization's own list, so a
    meeting that names no organization belongs to it. Sorted by start; a meeting seen
    twice (pages shift while a list is read) counts once, in its last version.
    """
    kept: dict[str, Meeting] = {}
    for meeting in meetings:
        mine = organization.id in meeting.organization or (
            from_organization_list and not meeting.organization
        )
        if mine and not meeting.deleted and not meeting.cancelled and meeting.start:
            kept[meeting.id] = meeting
        else:
            kept.pop(meeting.id, None)
    return tuple(sorted(kept.values(), key=lambda m: (m.start, m.id)))


def next_meeting(
    meetings: Iterable[Meeting], on_or_after: date, *, zone: tzinfo = BERLIN
) -> Meeting | None:
    """The earliest meeting whose day (in the city's time zone) is on or after the date."""
    upcoming = [m for m in meetings if m.start and local_date(m.start, zone) >= on_or_after]
    return min(upcoming, key=lambda m: m.start, default=None)


def paper_by_reference(papers: Iterable[Paper], reference: str) -> Paper | None:
    """The paper with this `reference` ("BV/2027/0012"); case and spaces do not matter."""
    key = _reference_key(reference)
    for paper in papers:
        if not paper.deleted and paper.reference and _reference_key(paper.reference) == key:
            return paper
    return None


def _reference_key(reference: str) -> str:
    return "".join(reference.split()).casefold()


def _is_decision(result: str | None, resolution_text: str | None) -> bool:
    if result and result.strip():
        return not any(word in result.casefold() for word in _NO_DECISION)
    return bool(resolution_text and resolution_text.strip())


def _consultation_state(
    consultation: Consultation,
    agenda_items: dict[str, AgendaItem],
    meetings: dict[str, Meeting],
    organizations: dict[str, Organization],
) -> ConsultationState:
    item = agenda_items.get(consultation.agenda_item or "")
    if item is None:  # the agenda item may point back to the consultation instead
        item = next((i for i in agenda_items.values() if i.consultation == consultation.id), None)
    meeting_id = consultation.meeting or (item.meeting if item else None)
    meeting = meetings.get(meeting_id or "")
    names = tuple(
        _label(organizations[url]) if url in organizations else url
        for url in consultation.organization
    )
    return ConsultationState(
        id=consultation.id,
        organizations=names,
        role=consultation.role,
        authoritative=bool(consultation.authoritative),
        meeting=meeting_id,
        meeting_name=meeting.name if meeting else None,
        meeting_start=meeting.start if meeting else None,
        meeting_cancelled=bool(meeting and meeting.cancelled),
        agenda_number=item.number if item else None,
        result=item.result if item else None,
        resolution_text=item.resolution_text if item else None,
    )


def _deciding(states: Sequence[ConsultationState]) -> ConsultationState | None:
    """The authoritative consultation; of several, one with a decision, else the latest."""
    authoritative = [s for s in states if s.authoritative]
    if not authoritative:
        return None
    return max(
        authoritative,
        key=lambda s: (
            _is_decision(s.result, s.resolution_text),
            not s.meeting_cancelled,
            s.meeting_start is not None,
            s.meeting_start.timestamp() if s.meeting_start else 0.0,
        ),
    )


def paper_state(
    paper: Paper,
    *,
    consultations: Iterable[Consultation] | None = None,
    agenda_items: Iterable[AgendaItem] = (),
    meetings: Iterable[Meeting] = (),
    organizations: Iterable[Organization] = (),
) -> PaperState:
    """Resolve a paper's consultations (default: those embedded in the paper).

    Agenda items are looked up among `agenda_items` and those embedded in `meetings`.
    """
    meeting_map = {m.id: m for m in meetings if not m.deleted}
    item_map = {i.id: i for m in meeting_map.values() for i in m.agenda_item}
    item_map.update({i.id: i for i in agenda_items if not i.deleted})
    org_map = {o.id: o for o in organizations if not o.deleted}
    chosen = paper.consultation if consultations is None else tuple(consultations)
    states = [
        _consultation_state(c, item_map, meeting_map, org_map) for c in chosen if not c.deleted
    ]
    # Chronological, undated consultations (e.g. a committee not yet scheduled) first.
    states.sort(key=lambda s: s.meeting_start.timestamp() if s.meeting_start else float("-inf"))
    deciding = _deciding(states)
    decided = bool(deciding and _is_decision(deciding.result, deciding.resolution_text))
    scheduled = deciding and not decided and not deciding.result and not deciding.meeting_cancelled
    return PaperState(
        id=paper.id,
        reference=paper.reference,
        name=paper.name,
        paper_type=paper.paper_type,
        web=paper.web,
        file_url=paper.main_file.access_url if paper.main_file else None,
        consultations=tuple(states),
        authoritative=deciding,
        decided=decided,
        result=deciding.result if deciding else None,
        resolution_text=deciding.resolution_text if deciding else None,
        decided_at=deciding.meeting_start if decided and deciding else None,
        pending_at=deciding.meeting_start if scheduled and deciding else None,
    )
