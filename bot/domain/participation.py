"""The digital participation window: a visible, movable part of its step (issue 12).

The concept: "digitale Beteiligung 6 W vorher starten, Dauer 4 W" (step 2). The process
file gives the window as two milestones of a step (roles "participation_start" and
"participation_end"); a theme follows them from its Z2 until someone moves the window by
hand (`!zt termin <Thema> beteiligung <Start> [<Ende>]`), which stores both dates. Pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.process import MilestoneRole, ProcessTemplate
from bot.domain.themes import ThemeView
from bot.domain.timeline import milestone_dates

# The concept's duration, where a process names only one end of the window.
DEFAULT_LENGTH = timedelta(weeks=4)


class WindowState(StrEnum):
    """What `status` shows (the German words live in the templates)."""

    planned = "geplant"
    running = "laeuft"
    ended = "beendet"


@dataclass(frozen=True)
class Window:
    step_key: str  # the step the window belongs to (2)
    opens: date
    closes: date
    moved: bool = False  # set by hand: it no longer follows Z2

    def state(self, today: date) -> WindowState:
        if today < self.opens:
            return WindowState.planned
        if today <= self.closes:
            return WindowState.running
        return WindowState.ended


def planned_window(template: ProcessTemplate, z2: date) -> Window | None:
    """The window as the process places it around this Z2 (None: the process has none)."""
    opens = template.milestone_with_role(MilestoneRole.participation_start)
    closes = template.milestone_with_role(MilestoneRole.participation_end)
    found = opens or closes
    if found is None:
        return None
    dates = milestone_dates(template, z2)
    start = dates[opens[1].key] if opens else None
    end = dates[closes[1].key] if closes else None
    start = start if start is not None else end - DEFAULT_LENGTH  # type: ignore[operator]
    end = end if end is not None else start + DEFAULT_LENGTH
    return Window(found[0].key, start, end)


def length(template: ProcessTemplate) -> timedelta:
    """How long the process lets the window run (4 weeks in the shipped process)."""
    window = planned_window(template, date(2000, 1, 3))
    return DEFAULT_LENGTH if window is None else window.closes - window.opens


def window(view: ThemeView) -> Window | None:
    """The theme's window: moved by hand, else from Z2; None without Z2 or without a
    window in the theme's process."""
    theme = view.theme
    if theme.z2 is None:
        return None
    planned = planned_window(view.template, theme.z2)
    if planned is None:
        return None
    if theme.participation_start is not None and theme.participation_end is not None:
        return Window(planned.step_key, theme.participation_start, theme.participation_end, True)
    return planned
