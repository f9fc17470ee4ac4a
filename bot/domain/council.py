"""The council's meetings and decisions as the process uses them. Pure.

Council meetings come from three places: the configuration, chat (`!zt ratssitzung`),
and the council information system (OParl, read daily). Step "council_decision" falls on
the first of them on or after its planned date, unless the theme's Beschlussvorlage is
scheduled (or decided) in a meeting: then on that meeting's day. Every re-planning that
involves the council goes through `replan_theme`, so that no path forgets the paper.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from bot.domain.papers import LinkedPaper
from bot.domain.process import StepRole
from bot.domain.themes import StepState, ThemeView
from bot.domain.timeline import replan


@dataclass(frozen=True)
class ReadMeeting:
    """A council meeting as the council information system lists it (not cancelled)."""

    key: str  # its OParl id
    name: str | None
    start: datetime  # timezone-aware
    day: date  # in the city's time zone


class MeetingSource(StrEnum):
    config = "config"  # [council] meetings
    chat = "chat"  # !zt ratssitzung <Datum>
    oparl = "oparl"  # the council information system


@dataclass(frozen=True)
class MeetingEntry:
    """One day with a council meeting and where it is known from."""

    day: date
    sources: frozenset[MeetingSource]
    name: str | None = None  # the meeting's name in the council information system

    @property
    def by_hand(self) -> bool:
        """Entered by hand (config or chat): it stays even if OParl drops it."""
        return bool(self.sources & {MeetingSource.config, MeetingSource.chat})


def meeting_entries(
    configured: Iterable[date], entered: Iterable[date], read: Iterable[ReadMeeting]
) -> list[MeetingEntry]:
    """Every day with a council meeting, in order, with its sources."""
    sources: dict[date, set[MeetingSource]] = {}
    names: dict[date, str | None] = {}
    for source, days in ((MeetingSource.config, configured), (MeetingSource.chat, entered)):
        for day in days:
            sources.setdefault(day, set()).add(source)
    for meeting in read:
        sources.setdefault(meeting.day, set()).add(MeetingSource.oparl)
        names.setdefault(meeting.day, meeting.name)
    return [
        MeetingEntry(day, frozenset(found), names.get(day))
        for day, found in sorted(sources.items())
    ]


def meeting_days(
    configured: Iterable[date], entered: Iterable[date], read: Iterable[ReadMeeting]
) -> list[date]:
    """The council meeting days step "council_decision" may fall on."""
    return sorted({*configured, *entered, *(meeting.day for meeting in read)})


@dataclass(frozen=True)
class MeetingDiff:
    """What changed in the council information system between two reads."""

    moved: tuple[tuple[ReadMeeting, ReadMeeting], ...] = ()  # (before, after), another day
    cancelled: tuple[ReadMeeting, ...] = ()  # cancelled or gone
    added: tuple[ReadMeeting, ...] = ()

    @property
    def changed(self) -> bool:
        """A meeting moved to another day or was cancelled (a new one changes nothing known)."""
        return bool(self.moved or self.cancelled)


def compare_meetings(before: Iterable[ReadMeeting], after: Iterable[ReadMeeting]) -> MeetingDiff:
    """Meetings (by OParl id) that moved to another day, went, or came. A new time on the
    same day is no change: the process plans in days."""
    old = {meeting.key: meeting for meeting in before}
    new = {meeting.key: meeting for meeting in after}
    moved = tuple(
        (old[key], new[key]) for key in sorted(old.keys() & new.keys(), key=lambda k: new[k].day)
        if old[key].day != new[key].day
    )  # fmt: skip
    cancelled = tuple(sorted((old[k] for k in old.keys() - new.keys()), key=lambda m: m.day))
    added = tuple(sorted((new[k] for k in new.keys() - old.keys()), key=lambda m: m.day))
    return MeetingDiff(moved, cancelled, added)


def council_pins(view: ThemeView) -> dict[str, date]:
    """The decision step on the day of the theme's paper's authoritative consultation.

    Only while that step is open and not fixed by hand (`!zt termin` wins).
    """
    paper = view.paper
    definition = view.template.step_with_role(StepRole.council_decision)
    if paper is None or paper.council_day is None or definition is None:
        return {}
    step = view.step(definition.key)
    if step is None or step.pinned or step.state != StepState.open:
        return {}
    return {step.key: paper.council_day}


def replan_theme(
    view: ThemeView,
    council_meetings: Iterable[date],
    *,
    z2: date | None = None,
    pins: Mapping[str, date] | None = None,
) -> dict[str, date]:
    """New dates for a theme's open, unpinned steps (domain.timeline.replan) with the
    council meetings and the theme's paper; `z2` a new Z2, `pins` steps fixed by hand."""
    new_z2 = z2 or view.theme.z2
    assert new_z2 is not None, "a theme with steps has a Z2"
    return replan(
        view.template, new_z2, council_meetings, view.steps, {**council_pins(view), **(pins or {})}
    )


def decision_step(view: ThemeView) -> str | None:
    """The key of the theme's step with role "council_decision", if it has one."""
    definition = view.template.step_with_role(StepRole.council_decision)
    return None if definition is None or view.step(definition.key) is None else definition.key


# What a read of the council information system brings, and what it changed ------------------


@dataclass(frozen=True)
class CouncilRead:
    """One good read: the council chosen, its meetings, and the linked papers again."""

    source: str  # entry point, body and organization as configured: another source, a new copy
    body: str
    organization: str
    meetings: tuple[ReadMeeting, ...]
    papers: Mapping[int, LinkedPaper] = field(default_factory=dict)  # by theme id


@dataclass(frozen=True)
class PaperChange:
    """A linked paper whose council day changed."""

    theme: str
    reference: str
    before: date | None
    after: date | None


@dataclass(frozen=True)
class Moved:
    """A running theme whose steps followed a change of council dates."""

    before: ThemeView  # as it was
    changes: dict[str, date]  # step key → new date

    @property
    def name(self) -> str:
        return self.before.theme.name


@dataclass(frozen=True)
class CouncilUpdate:
    """What a good read changed, for the coordination room."""

    first: bool  # the first read from this source: everything is new
    meetings: int  # meetings now known from the council information system
    diff: MeetingDiff
    papers: tuple[PaperChange, ...]
    moved: tuple[Moved, ...]
    # Days the council information system dropped or moved away from that stay, because
    # someone entered them by hand.
    kept_by_hand: frozenset[date] = frozenset()

    @property
    def worth_telling(self) -> bool:
        """The first read, a moved or cancelled meeting, a paper rescheduled, a theme moved."""
        return self.first or self.diff.changed or bool(self.papers) or bool(self.moved)


def paper_changes(
    names: Mapping[int, str],
    before: Mapping[int, LinkedPaper],
    after: Mapping[int, LinkedPaper],
) -> tuple[PaperChange, ...]:
    """Linked papers (by theme id) whose council day moved between two reads."""
    changes = []
    for theme_id, paper in sorted(after.items()):
        old = before.get(theme_id)
        if old is not None and old.key == paper.key and old.council_day != paper.council_day:
            changes.append(
                PaperChange(names[theme_id], paper.reference, old.council_day, paper.council_day)
            )
    return tuple(changes)


def kept_by_hand(diff: MeetingDiff, by_hand: Sequence[date]) -> frozenset[date]:
    gone = [m.day for m in diff.cancelled] + [before.day for before, _ in diff.moved]
    return frozenset(day for day in gone if day in set(by_hand))
