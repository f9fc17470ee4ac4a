"""Where a theme stands: each step's state as people read it, and what comes next. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.domain.process import ProcessTemplate, StepDefinition, StepKind
from bot.domain.themes import StepRecord, StepState, ThemeView
from bot.domain.timeline import iso_week


class Shown(StrEnum):
    """The states `status` shows (German words live in the templates)."""

    open = "offen"
    due = "faellig"
    overdue = "ueberfaellig"
    done = "erledigt"
    skipped = "uebersprungen"
    lapsed = "entfallen"


@dataclass(frozen=True)
class StepStatus:
    definition: StepDefinition
    step: StepRecord
    shown: Shown
    # Days since the step became overdue (0 unless overdue); days until it (negative: past).
    overdue_days: int
    days_until: int
    is_current: bool = False

    @property
    def key(self) -> str:
        return self.definition.key

    @property
    def due(self) -> date:
        return self.step.due


def _end_of(position: int, steps: Sequence[StepRecord]) -> date:
    """A phase must be done by the next step's date."""
    return steps[position + 1].due if position + 1 < len(steps) else steps[position].due


def shown_state(
    definition: StepDefinition, step: StepRecord, deadline: date, today: date
) -> tuple[Shown, int]:
    """(state, days overdue) of one step on `today`."""
    if step.state == StepState.done:
        return Shown.done, 0
    if step.state == StepState.skipped:
        return Shown.skipped, 0
    if step.state == StepState.lapsed:
        return Shown.lapsed, 0
    if definition.kind == StepKind.continuous:
        return (Shown.due if step.due <= today else Shown.open), 0
    if deadline < today:
        return Shown.overdue, (today - deadline).days
    if iso_week(step.due) == iso_week(today) or step.due <= today:
        return Shown.due, 0
    return Shown.open, 0


def theme_progress(
    template: ProcessTemplate, steps: Sequence[StepRecord], today: date
) -> list[StepStatus]:
    """Every step's state; the first step that is still pending (not done, skipped or
    lapsed) is current."""
    definitions = {d.key: d for d in template.steps}
    result: list[StepStatus] = []
    current_found = False
    for position, step in enumerate(steps):
        definition = definitions[step.key]
        deadline = _end_of(position, steps) if definition.kind == StepKind.phase else step.due
        shown, overdue = shown_state(definition, step, deadline, today)
        pending = shown not in (Shown.done, Shown.skipped, Shown.lapsed)
        is_current = pending and not current_found
        current_found = current_found or is_current
        result.append(
            StepStatus(definition, step, shown, overdue, (step.due - today).days, is_current)
        )
    return result


def next_step(progress: Sequence[StepStatus]) -> StepStatus | None:
    return next((status for status in progress if status.is_current), None)


def steps_in_the_past(view: ThemeView, today: date) -> list[StepStatus]:
    """The steps whose time is over when a theme is created (or an idea gets its Z2): no
    reminder tells of them, as the theme did not exist, so the answer does (issue 12). A
    phase is over when the next step is reached; a continuous step once it has begun."""
    if not view.steps:
        return []
    return [
        status
        for status in theme_progress(view.template, view.steps, today)
        if (
            status.due < today
            if status.definition.kind == StepKind.continuous
            else status.shown == Shown.overdue
        )
    ]
