"""A theme's Beschlussvorlage (draft resolution) as the bot keeps it: which paper of the
council information system, its consultations, and what has become of it. Plain values.

The council package reads them from OParl; the store keeps the last good copy per theme;
status, the council decision step and the notices read them from here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class PaperConsultation:
    """One Beratung of the paper: which body, in what role, on which day, with what result."""

    organization: str  # e.g. "Rat der Stadt Musterstadt"
    role: str | None  # e.g. "Vorberatung", "Entscheidung"
    authoritative: bool  # this consultation decides (OParl `authoritative`)
    day: date | None  # the meeting's day in the city's time zone; None: not scheduled yet
    meeting_name: str | None
    result: str | None  # the agenda item's result, e.g. "Unverändert beschlossen"
    cancelled: bool = False  # the meeting was cancelled


@dataclass(frozen=True, kw_only=True)
class LinkedPaper:
    """The paper a theme is linked to (`!zt vorlage`), as last read."""

    key: str  # the paper's OParl id (its URL), to read it again
    reference: str  # e.g. "BV/2027/0012"
    name: str | None = None
    link: str | None = None  # where people read it: its web page, else its main file
    consultations: tuple[PaperConsultation, ...] = ()
    # The authoritative consultation's agenda item carries a decision.
    decided: bool = False
    result: str | None = None  # that agenda item's result (also "vertagt", which decides nothing)
    result_day: date | None = None  # the day of the authoritative consultation's meeting
    pending_day: date | None = None  # scheduled for that day, no result yet
    checked_at: datetime | None = None
    applied: bool = False  # the decision was carried into the theme's steps

    @property
    def council_day(self) -> date | None:
        """The day the council decided or will decide: where the decision step belongs."""
        return self.result_day if self.decided else self.pending_day
