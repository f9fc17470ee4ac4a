"""What the bot keeps of a read: the OParl models turned into the domain's plain values
(domain.council.ReadMeeting, domain.papers.LinkedPaper), days in the city's time zone."""

from __future__ import annotations

from datetime import datetime, tzinfo

from bot.council.reading import BERLIN, CouncilData, PaperState, local_date
from bot.domain.council import ReadMeeting
from bot.domain.papers import LinkedPaper, PaperConsultation


def source_of(entry: str, body: str | None, organization: str | None) -> str:
    """Which council the data is of: another entry point, body or organization is another
    source, whose first read is not compared with the copy of the old one."""
    return "\n".join((entry, body or "", organization or ""))


def read_meetings(data: CouncilData, zone: tzinfo = BERLIN) -> tuple[ReadMeeting, ...]:
    """The meetings that take place (the reading dropped cancelled ones), in order."""
    return tuple(
        ReadMeeting(m.id, m.name, m.start, local_date(m.start, zone))
        for m in data.meetings
        if m.start is not None
    )


def council_label(data: CouncilData) -> tuple[str, str]:
    """(body, organization) as people call them."""
    body, organization = data.body, data.organization
    return (
        body.name or body.short_name or body.id,
        organization.name or organization.short_name or organization.id,
    )


def linked_paper(state: PaperState, *, checked_at: datetime, zone: tzinfo = BERLIN) -> LinkedPaper:
    """The paper as the theme keeps it."""
    authoritative = state.authoritative
    return LinkedPaper(
        key=state.id,
        reference=state.reference or state.id,
        name=state.name,
        link=state.link,
        consultations=tuple(
            PaperConsultation(
                organization=c.organization,
                role=c.role,
                authoritative=c.authoritative,
                day=local_date(c.meeting_start, zone) if c.meeting_start else None,
                meeting_name=c.meeting_name,
                result=c.result,
                cancelled=c.meeting_cancelled,
            )
            for c in state.consultations
        ),
        decided=state.decided,
        result=state.result,
        result_day=(
            local_date(authoritative.meeting_start, zone)
            if authoritative and authoritative.meeting_start
            else None
        ),
        pending_day=local_date(state.pending_at, zone) if state.pending_at else None,
        checked_at=checked_at,
    )
