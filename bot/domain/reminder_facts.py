"""What the reminder policy knows of a theme and its steps (bot.domain.reminder_policy):
plain facts, built from the step definitions, their dates and states. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from bot.domain.process import Z2_ANCHOR, Lead, StepDefinition, StepKind, StepRole
from bot.domain.themes import StepState


@dataclass(frozen=True)
class StepFacts:
    key: str
    kind: StepKind
    leads: tuple[Lead, ...]
    due: date
    # For a phase: the next step's date, by which it must be done; otherwise `due`.
    deadline: date
    state: str = StepState.open
    # An optional step lapses when nobody marks it ("entfallen"), instead of nagging.
    optional: bool = False
    # Its own advance notices in days before `due` (None: the config's `lead_days`).
    lead_days: tuple[int, ...] | None = None
    # Notices counted from another step's date: (days before, that step's date), for
    # steps still to come.
    tasks: tuple[tuple[int, date], ...] = ()


@dataclass(frozen=True)
class ThemeFacts:
    theme_id: int
    name: str
    # False for paused, archived and idea themes: they get no reminders.
    active: bool
    steps: tuple[StepFacts, ...]
    participation_opens: date | None = None
    participation_closes: date | None = None
    # The step whose milestones the participation window is (skipping it silences them).
    participation_step: str | None = None
    # When the theme was created or imported: nothing scheduled before it is caught up.
    created_at: datetime | None = None


def facts_for_steps(steps: Sequence[tuple[StepDefinition, date, str]]) -> tuple[StepFacts, ...]:
    """StepFacts from (definition, date, state) in template order.

    A phase runs until the next step's date; the last step's deadline is its own date.
    """
    facts = []
    for position, (definition, due, state) in enumerate(steps):
        deadline = due
        if definition.kind == StepKind.phase and position + 1 < len(steps):
            deadline = steps[position + 1][1]
        own = definition.own_notices()
        facts.append(
            StepFacts(
                definition.key,
                definition.kind,
                definition.leads,
                due,
                deadline,
                state,
                definition.optional,
                lead_days=tuple(lead.days for lead in own) if own is not None else None,
                tasks=_tasks(definition, steps),
            )
        )
    return tuple(facts)


def _tasks(
    definition: StepDefinition, steps: Sequence[tuple[StepDefinition, date, str]]
) -> tuple[tuple[int, date], ...]:
    """(days, date) of the step's notices before other steps that are still open."""
    found = []
    for lead in definition.notices_before_others():
        wanted = lead.before or ""
        target = next(
            (
                (due, state)
                for other, due, state in steps
                if other.named(wanted)
                or (wanted.casefold() == Z2_ANCHOR and other.role == StepRole.z2)
            ),
            None,
        )
        if target is not None and target[1] == StepState.open:
            found.append((lead.days, target[0]))
    return tuple(found)
