"""The weekly digest's content (the coordinator's Monday overview): which open steps are
overdue, due this week or next. Pure; the reminder policy decides when it is sent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from bot.domain.process import StepKind
from bot.domain.reminder_facts import StepFacts, ThemeFacts
from bot.domain.themes import StepState


class DigestWhen(StrEnum):
    overdue = "overdue"
    this_week = "this_week"
    next_week = "next_week"


@dataclass(frozen=True)
class DigestItem:
    """One line of the coordinator's weekly digest: a step that needs doing (or marking)
    this week or next, or that is overdue since `day`."""

    theme_id: int
    step_key: str
    when: DigestWhen
    day: date  # the date it is due by (a phase: the next step's date); overdue: since
    starts: bool = False  # a phase or continuous step that begins then


def _digest_item(
    theme: ThemeFacts, step: StepFacts, today: date, this_end: date, next_end: date
) -> DigestItem | None:
    if step.kind == StepKind.continuous or (step.kind == StepKind.phase and step.due > today):
        # Something that begins: worth a line in the week it begins, never overdue.
        if step.due < today or step.due > next_end:
            return None
        when = DigestWhen.this_week if step.due <= this_end else DigestWhen.next_week
        return DigestItem(theme.theme_id, step.key, when, step.due, starts=True)
    if step.deadline < today:
        return DigestItem(theme.theme_id, step.key, DigestWhen.overdue, step.deadline)
    if step.deadline <= this_end:
        return DigestItem(theme.theme_id, step.key, DigestWhen.this_week, step.deadline)
    if step.deadline <= next_end:
        return DigestItem(theme.theme_id, step.key, DigestWhen.next_week, step.deadline)
    return None


def digest_items(themes: Iterable[ThemeFacts], today: date) -> list[DigestItem]:
    """What the digest of the week of `today` lists, theme by theme in their order: open
    steps overdue, due this week and due next week (a phase by the next step's date)."""
    monday = today - timedelta(days=today.weekday())
    this_end, next_end = monday + timedelta(days=6), monday + timedelta(days=13)
    items = []
    for theme in themes:
        if not theme.active:
            continue
        for step in (s for s in theme.steps if s.state == StepState.open):
            item = _digest_item(theme, step, today, this_end, next_end)
            if item is not None:
                items.append(item)
    return items
