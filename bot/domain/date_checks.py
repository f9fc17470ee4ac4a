"""Whether a theme's dates are consistent: the steps in the process's order, and no step
closer to its reference (Z2 or another step) than the concept's minimum distances
("Zeitabstände (min.)", `min_weeks_before` / `min_weeks_after` in the process file). Pure.

Only conflicts that involve a date the change touches are reported, so that one accepted
exception (`trotzdem`) does not block every later change of the theme.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.process import Z2_ANCHOR, ProcessTemplate, StepDefinition
from bot.domain.themes import StepState, ThemeView


class ConflictKind(StrEnum):
    order = "order"  # the step would come before an earlier step (or after a later one)
    too_close_before = "too_close_before"  # less than the minimum before its reference
    too_close_after = "too_close_after"  # less than the minimum after its reference


@dataclass(frozen=True)
class Conflict:
    kind: ConflictKind
    step: StepDefinition
    day: date
    # The other step (None: Z2) and its date.
    other: StepDefinition | None
    other_day: date
    weeks: int = 0  # the minimum, for the distance conflicts

    @property
    def days_apart(self) -> int:
        return abs((self.other_day - self.day).days)


def conflicts(
    template: ProcessTemplate,
    dates: Mapping[str, date],
    z2: date,
    *,
    changed: Collection[str],
    ignored: Collection[str] = (),
) -> list[Conflict]:
    """The conflicts among `dates` (every step's date after the change) that involve a
    step in `changed` (or Z2, when "z2" is in it). `ignored` steps (skipped) count not."""
    touched = {key.casefold() for key in changed}
    skip = {key.casefold() for key in ignored}
    steps = [d for d in template.steps if d.key in dates and d.key.casefold() not in skip]
    found: list[Conflict] = []
    for earlier_index, earlier in enumerate(steps):
        for later in steps[earlier_index + 1 :]:
            if not ({earlier.key.casefold(), later.key.casefold()} & touched):
                continue
            if dates[later.key] < dates[earlier.key]:
                found.append(
                    Conflict(
                        ConflictKind.order,
                        later,
                        dates[later.key],
                        earlier,
                        dates[earlier.key],
                    )
                )
    by_key = {d.key.casefold(): d for d in steps}
    for step in steps:
        reference_key = step.gap_to.casefold()
        if reference_key == Z2_ANCHOR:
            other, other_day = None, z2
        elif reference_key in by_key:
            other = by_key[reference_key]
            other_day = dates[other.key]
        else:
            continue
        if not ({step.key.casefold(), reference_key} & touched):
            continue
        day = dates[step.key]
        # (A step after its reference: an order conflict says it already.)
        before = step.min_weeks_before
        if before is not None and day <= other_day and other_day - day < timedelta(weeks=before):
            found.append(
                Conflict(
                    ConflictKind.too_close_before,
                    step,
                    day,
                    other,
                    other_day,
                    step.min_weeks_before,
                )
            )
        if step.min_weeks_after is not None and day - other_day < timedelta(
            weeks=step.min_weeks_after
        ):
            kind = ConflictKind.too_close_after if day >= other_day else ConflictKind.order
            found.append(Conflict(kind, step, day, other, other_day, step.min_weeks_after))
    return found


def theme_conflicts(
    view: ThemeView, changes: Mapping[str, date], *, z2: date | None = None
) -> list[Conflict]:
    """The conflicts a change of dates (and of Z2) would bring into a theme."""
    new_z2 = z2 or view.theme.z2
    if new_z2 is None:
        return []
    dates = {step.key: step.due for step in view.steps} | dict(changes)
    changed = set(changes) | ({Z2_ANCHOR} if z2 is not None and z2 != view.theme.z2 else set())
    called_off = (StepState.skipped, StepState.lapsed)
    skipped = [step.key for step in view.steps if step.state in called_off]
    return conflicts(view.template, dates, new_z2, changed=changed, ignored=skipped)
