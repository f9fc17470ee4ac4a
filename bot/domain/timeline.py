"""Schedule math: a theme's step dates from its Z2 date. Pure functions over dates.

A step's date is its anchor's date + offset × 7 days (same weekday); the anchor is Z2
or an earlier step. A step with `after_step` is never earlier than `after_weeks` after
that step's date (step 7: Z2 + 5 weeks, or a week after a council decision that moved
later). Dates, never week numbers: ISO years have 52 or 53 weeks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from bot.domain.process import Z2_ANCHOR, ProcessTemplate, StepDefinition


class StepLike(Protocol):
    """What re-planning needs to know of a stored step."""

    @property
    def key(self) -> str: ...
    @property
    def due(self) -> date: ...
    @property
    def pinned(self) -> bool: ...
    @property
    def state(self) -> str: ...


@dataclass(frozen=True)
class PlannedStep:
    definition: StepDefinition
    due: date
    # The date before a council snap moved it (None where no snap applied).
    planned: date | None = None

    @property
    def key(self) -> str:
        return self.definition.key


def first_council_on_or_after(day: date, council_meetings: Iterable[date]) -> date | None:
    later = [meeting for meeting in council_meetings if meeting >= day]
    return min(later) if later else None


def step_date(
    definition: StepDefinition,
    z2: date,
    known: Mapping[str, date],
    council_meetings: Iterable[date] = (),
) -> tuple[date, date | None]:
    """(date, planned date before a council snap or None) of one step."""
    anchor = z2 if definition.anchor == Z2_ANCHOR else known[definition.anchor.casefold()]
    planned = anchor + timedelta(weeks=definition.offset_weeks)
    if definition.after_step is not None:
        earliest = known[definition.after_step.casefold()] + timedelta(weeks=definition.after_weeks)
        planned = max(planned, earliest)
    if definition.snap == "council":
        meeting = first_council_on_or_after(planned, council_meetings)
        if meeting is not None and meeting != planned:
            return meeting, planned
    return planned, None


def plan(
    template: ProcessTemplate,
    z2: date,
    council_meetings: Iterable[date] = (),
    pinned: Mapping[str, date] | None = None,
) -> list[PlannedStep]:
    """Every step's date for a theme with this Z2.

    `pinned` holds steps fixed to a date by hand (keys case-folded); steps anchored on a
    pinned step follow the pinned date.
    """
    meetings = tuple(council_meetings)
    pins = {key.casefold(): day for key, day in (pinned or {}).items()}
    known: dict[str, date] = {}
    result: list[PlannedStep] = []
    for definition in template.steps:
        folded = definition.key.casefold()
        if folded in pins:
            due, planned = pins[folded], None
        else:
            due, planned = step_date(definition, z2, known, meetings)
        known[folded] = due
        result.append(PlannedStep(definition, due, planned))
    return result


def milestone_dates(template: ProcessTemplate, z2: date) -> dict[str, date]:
    """Dates of the sub-milestones (e.g. digital participation opens and closes)."""
    steps = {step.key.casefold(): step.due for step in plan(template, z2)}
    dates: dict[str, date] = {}
    for definition in template.steps:
        for milestone in definition.milestones:
            anchor = z2 if milestone.anchor == Z2_ANCHOR else steps[milestone.anchor.casefold()]
            dates[milestone.key] = anchor + timedelta(weeks=milestone.offset_weeks)
    return dates


def iso_week(day: date) -> tuple[int, int]:
    """(ISO year, ISO week) of a date."""
    iso = day.isocalendar()
    return iso.year, iso.week


def replan(
    template: ProcessTemplate,
    z2: date,
    council_meetings: Iterable[date],
    steps: Iterable[StepLike],
    pins: Mapping[str, date] | None = None,
) -> dict[str, date]:
    """New dates for the open, unpinned steps after a change of Z2, a pin or the council.

    Done, skipped and pinned steps keep their dates; steps anchored on them follow them.
    Returns only the dates that change (for `pins`, the pinned dates themselves too).
    """
    steps = list(steps)
    current = {step.key: step.due for step in steps}
    fixed = {step.key: step.due for step in steps if step.pinned or step.state != "open"} | dict(
        pins or {}
    )
    result = {}
    for planned in plan(template, z2, council_meetings, pinned=fixed):
        if planned.key in current and planned.due != current[planned.key]:
            result[planned.key] = planned.due
    return result
