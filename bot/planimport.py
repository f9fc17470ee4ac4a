"""Applying a validated annual plan (bot.planfile) to the store: all or nothing, idempotent.

First every row is compared with the themes that exist (pure, `decide`); only when the
whole file is valid is anything written, and then in one transaction, so that a bad
row or a crash half-way never leaves half a plan behind. A row that matches its theme
is no change, so importing the same file twice changes nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TextIO

import sqlalchemy as sa
from sqlmodel import Session

from bot.dates import Quarter, format_date
from bot.models import HistoryEntry, Step, StepState, Theme, ThemeStatus
from bot.names import fold
from bot.planfile import ParsedPlan, PlanError, PlanRow, spec_matches
from bot.process import ProcessTemplate
from bot.schedule import PlannedStep, plan
from bot.store import Store, ThemeExists, ThemeGone, ThemeView

Progress = Callable[[int, int], None]


class Action(StrEnum):
    create = "create"
    update = "update"  # an idea gets its Z2, or a theme without team room gets one
    unchanged = "unchanged"
    skipped = "skipped"  # the theme exists with another Z2 or team room


@dataclass(frozen=True)
class RowResult:
    row: PlanRow
    action: Action
    theme_id: int | None = None
    # For `update`: the idea's new Z2 and/or the team room to bind.
    z2: date | None = None
    team_room: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class ImportReport:
    results: tuple[RowResult, ...] = ()
    errors: tuple[PlanError, ...] = ()
    applied: bool = False

    def of(self, action: Action) -> tuple[RowResult, ...]:
        return tuple(result for result in self.results if result.action == action)

    def count(self, action: Action) -> int:
        return len(self.of(action))

    @property
    def changes(self) -> tuple[RowResult, ...]:
        return tuple(r for r in self.results if r.action in (Action.create, Action.update))


# Deciding (pure) ----------------------------------------------------------------------


def decide(rows: Iterable[PlanRow], existing: Iterable[ThemeView]) -> list[RowResult]:
    """What each row would do to the themes that exist now."""
    by_key = {view.theme.name_key: view for view in existing}
    return [_decide_row(row, by_key.get(fold(row.name))) for row in rows]


def _decide_row(row: PlanRow, view: ThemeView | None) -> RowResult:
    if view is None:
        return RowResult(row, Action.create)
    theme = view.theme
    z2: date | None = None
    if not spec_matches(row.spec, theme.z2, theme.planned_quarter):
        if theme.z2 is not None:
            reason = f"Thema existiert mit anderem Z2 ({format_date(theme.z2)})"
            return RowResult(row, Action.skipped, view.id, reason=reason)
        if isinstance(row.spec, Quarter):
            reason = f"Thema existiert mit anderem Quartal ({theme.planned_quarter})"
            return RowResult(row, Action.skipped, view.id, reason=reason)
        z2 = row.spec.first_day  # an idea gets its Z2, as `verschieben` would give it
    room = row.team_room if row.team_room != theme.team_room else None
    if room is not None and theme.team_room is not None:
        reason = f"Thema existiert mit anderem Teamraum ({theme.team_room})"
        return RowResult(row, Action.skipped, view.id, reason=reason)
    if z2 is None and room is None:
        return RowResult(row, Action.unchanged, view.id)
    return RowResult(row, Action.update, view.id, z2=z2, team_room=room)


# Applying (the edge) ------------------------------------------------------------------


def import_plan(
    store: Store,
    parsed: ParsedPlan,
    *,
    template: ProcessTemplate,
    council_meetings: Iterable[date] = (),
    actor: str,
    now: datetime,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate, compare and (unless `dry_run`) apply the plan in one transaction.

    Raises ThemeExists or ThemeGone when someone changed the themes between the
    comparison and the write; nothing is written then.
    """
    if parsed.errors:
        return ImportReport(errors=parsed.errors)
    existing = store.themes(include_archived=True)
    results = tuple(decide(parsed.rows, existing))
    report = ImportReport(results)
    if dry_run or not report.changes:
        return report
    templates = {view.id: view.template for view in existing}
    _apply_in_one_transaction(
        store,
        report.changes,
        template=template,
        templates=templates,
        council_meetings=tuple(council_meetings),
        actor=actor,
        now=now,
        progress=progress or _no_progress,
    )
    return ImportReport(results, applied=True)


def _no_progress(_done: int, _total: int) -> None:
    return None


def text_progress(stream: TextIO | None = None, every: int = 50) -> Progress:
    """A progress bar on stderr for long files: a line every `every` rows and at the end."""

    def report(done: int, total: int) -> None:
        if total < every or (done % every and done != total):
            return
        width = 30
        filled = width * done // total
        bar = "#" * filled + "-" * (width - filled)
        print(f"[{bar}] {done}/{total}", file=stream or sys.stderr, flush=True)

    return report


# --- TEMPORARY: belongs in bot/store.py (the only code that speaks SQL) ------------------
# Store.create_theme commits one theme at a time; an all-or-nothing import needs every
# creation and update in one transaction. Until the store has such a method (proposed:
# `Store.apply_plan(creates, updates, *, actor, now)`), it is written here against
# `store.session()`, mirroring Store.create_theme, Store.schedule_idea and
# Store.bind_room row for row.


def _apply_in_one_transaction(
    store: Store,
    changes: Sequence[RowResult],
    *,
    template: ProcessTemplate,
    templates: dict[int, ProcessTemplate],
    council_meetings: tuple[date, ...],
    actor: str,
    now: datetime,
    progress: Progress,
) -> None:
    with store.session() as session:  # leaving without commit rolls everything back
        for done, change in enumerate(changes, start=1):
            if change.action == Action.create:
                _create(session, change.row, template, council_meetings, actor, now)
            else:
                assert change.theme_id is not None
                theme_template = templates.get(change.theme_id, template)
                _update(session, change, theme_template, council_meetings, actor, now)
            progress(done, len(changes))
        session.commit()


def _history(
    session: Session, theme_id: int, actor: str, now: datetime, action: str, **detail: object
) -> None:
    session.add(
        HistoryEntry(
            theme_id=theme_id,
            at=now,
            actor=actor,
            action=action,
            detail=json.dumps(detail, ensure_ascii=False, default=str),
        )
    )


def _add_steps(session: Session, theme_id: int, planned: Sequence[PlannedStep]) -> None:
    for position, step in enumerate(planned):
        session.add(
            Step(
                theme_id=theme_id,
                key=step.key,
                position=position,
                due=step.due,
                state=StepState.open,
            )
        )


def _create(
    session: Session,
    row: PlanRow,
    template: ProcessTemplate,
    council_meetings: tuple[date, ...],
    actor: str,
    now: datetime,
) -> None:
    is_idea = isinstance(row.spec, Quarter)
    z2 = None if is_idea else row.spec.first_day
    quarter = str(row.spec) if is_idea else None
    theme = Theme(
        name=row.name,
        name_key=fold(row.name),
        z2=z2,
        planned_quarter=quarter,
        status=ThemeStatus.idea if is_idea else ThemeStatus.active,
        team_room=row.team_room,
        process_json=template.to_json(),
        created_by=actor,
        created_at=now,
    )
    session.add(theme)
    try:
        session.flush()
    except sa.exc.IntegrityError as err:  # created in chat since the comparison
        raise ThemeExists(row.name) from err
    assert theme.id is not None
    if z2 is not None:
        _add_steps(session, theme.id, plan(template, z2, council_meetings))
    _history(session, theme.id, actor, now, "created", z2=z2, quarter=quarter, source="import")


def _update(
    session: Session,
    change: RowResult,
    template: ProcessTemplate,
    council_meetings: tuple[date, ...],
    actor: str,
    now: datetime,
) -> None:
    theme = session.get(Theme, change.theme_id)
    if theme is None:
        raise ThemeGone(change.theme_id)
    assert theme.id is not None
    if change.z2 is not None:
        theme.z2 = change.z2
        if theme.status == ThemeStatus.idea:  # a paused or archived theme stays so
            theme.status = ThemeStatus.active
        _add_steps(session, theme.id, plan(template, change.z2, council_meetings))
        _history(session, theme.id, actor, now, "scheduled", z2=change.z2, source="import")
    if change.team_room is not None:
        theme.team_room = change.team_room
        _history(session, theme.id, actor, now, "room_bound", role="team", room=change.team_room)
    session.add(theme)


# --- end TEMPORARY -------------------------------------------------------------------------
