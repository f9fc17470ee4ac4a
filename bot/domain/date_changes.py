"""What changed when a theme's dates moved, and which of its rooms hear of it. Pure.

Z2 moved (`verschieben`, `termin` on Z2), a step pinned (`termin`), the participation
window moved, a council meeting entered, moved or cancelled (by hand or from the council
information system), a paper's new council date, a meeting's new time or place: each
tells the theme's other rooms once what moved, old → new. The room where the change was
typed has its answer already."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, time

from bot.domain.lead_rooms import RoomSetup, theme_rooms
from bot.domain.participation import Window, window
from bot.domain.process import Lead
from bot.domain.themes import StepRecord, ThemeView
from bot.domain.working_days import WorkingCalendar


@dataclass(frozen=True)
class MovedDate:
    key: str  # the step's key
    old: date
    new: date


@dataclass(frozen=True)
class MovedMeeting:
    """A meeting's new time or place (issue 21): its step as it was and as it is."""

    key: str
    old: StepRecord
    new: StepRecord

    @property
    def time_changed(self) -> bool:
        return (self.old.starts_at, self.old.ends_at) != (self.new.starts_at, self.new.ends_at)

    @property
    def place_changed(self) -> bool:
        return self.old.place != self.new.place


def _times(step: StepRecord) -> tuple[time | None, time | None, str | None]:
    return step.starts_at, step.ends_at, step.place


@dataclass(frozen=True)
class DateChange:
    """A theme's dates before and after one change."""

    view: ThemeView  # as it was before
    steps: tuple[MovedDate, ...]
    z2: tuple[date, date] | None = None
    window: tuple[Window, Window] | None = None
    meetings: tuple[MovedMeeting, ...] = ()

    @property
    def concerns_citizen_dialogue(self) -> bool:
        """The Bürgerdialog leads a moved step, or the participation window moved."""
        template = self.view.template
        keys = [moved.key for moved in self.steps] + [m.key for m in self.meetings]
        leads = {
            lead
            for key in keys
            if (definition := template.step(key)) is not None
            for lead in definition.leads
        }
        return self.window is not None or Lead.buergerdialog in leads

    @property
    def labels(self) -> dict[str, str]:
        """The moved steps' names as people read them."""
        template = self.view.template
        keys = [moved.key for moved in self.steps] + [m.key for m in self.meetings]
        return {
            key: definition.label if (definition := template.step(key)) else key for key in keys
        }

    def holidays(self, calendar: WorkingCalendar) -> dict[date, str]:
        """Public holidays on the new dates: said, not moved."""
        days = [moved.new for moved in self.steps] + ([self.z2[1]] if self.z2 else [])
        return {day: name for day in days if (name := calendar.holiday_name(day))}


def date_change(
    before: ThemeView,
    changes: Mapping[str, date],
    *,
    z2: date | None = None,
    after_window: Window | None = None,
    after: ThemeView | None = None,
) -> DateChange | None:
    """The change that `changes` (step key → new date), a new Z2, the participation
    window and the meetings' times and places as they are afterwards (`after`) make to
    `before`; None when nothing moved."""
    steps = tuple(
        MovedDate(step.key, step.due, changes[step.key])
        for step in before.steps
        if step.key in changes and changes[step.key] != step.due
    )
    old_z2 = before.theme.z2
    moved_z2 = (old_z2, z2) if z2 is not None and old_z2 is not None and z2 != old_z2 else None
    old_window = window(before)
    moved_window = None
    if (
        old_window is not None
        and after_window is not None
        and (old_window.opens, old_window.closes) != (after_window.opens, after_window.closes)
    ):
        moved_window = (old_window, after_window)
    meetings = _moved_meetings(before, after) if after is not None else ()
    if not steps and moved_z2 is None and moved_window is None and not meetings:
        return None
    return DateChange(before, steps, moved_z2, moved_window, meetings)


def _moved_meetings(before: ThemeView, after: ThemeView) -> tuple[MovedMeeting, ...]:
    found = []
    for old in before.steps:
        new = after.step(old.key)
        if new is not None and _times(new) != _times(old):
            found.append(MovedMeeting(old.key, old, new))
    return tuple(found)


def rooms_to_tell(
    change: DateChange, rooms: RoomSetup, *, told_already: Collection[str]
) -> list[str]:
    """The theme's rooms that hear of the change: team rooms, Z2 room, the coordination
    room and, where it is concerned, the Bürgerdialog's; not those that know already."""
    found = theme_rooms(rooms, citizen_dialogue=change.concerns_citizen_dialogue)
    return [room for room in found if room not in told_already]
