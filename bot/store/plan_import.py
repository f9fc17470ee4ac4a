"""Applying a validated annual plan (domain.plan_file) to the store: all or nothing, idempotent.

First every row is compared with the themes that exist (pure, `decide`); only when the
whole file is valid is anything written, and then in one transaction, so that a bad
row or a crash half-way never leaves half a plan behind. A row that matches its theme
is no change, so importing the same file twice changes nothing.

A problem or a skipped row is a code and its values (`PlanProblem`); its words come from
templates/<lang>/plan_file.j2 here, at the edge (`problem_text`, `error_text`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import TextIO

from bot.domain.dates import Quarter, format_date
from bot.domain.milestones import Milestone, milestone_span
from bot.domain.plan_file import ParsedPlan, PlanError, PlanProblem, PlanRow, spec_matches
from bot.domain.process import ProcessTemplate
from bot.domain.theme_names import fold
from bot.domain.themes import ThemeView
from bot.domain.timeline import plan
from bot.rendering import Renderer, shared_renderer
from bot.store.theme_records import NewTheme, ThemeUpdate
from bot.store.themes import Store

Progress = Callable[[int, int], None]


class Action(StrEnum):
    create = "create"
    # An idea gets its Z2, or a theme gets a team room, department, contact or Kernteam it
    # has none of yet.
    update = "update"
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
    department: str | None = None
    contact: str | None = None
    core_team: tuple[str, ...] = ()
    # Named Z2 participants the theme does not have yet.
    participants: tuple[str, ...] = ()
    # Why a row is skipped (or, for a milestone's `update`, where it stood before).
    why: PlanProblem | None = None

    @property
    def reason(self) -> str:
        """`why` in German, for logs and tests ("" when there is nothing to say)."""
        return problem_text(self.why) if self.why else ""


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


# Words (the edge) ---------------------------------------------------------------------


def problem_text(problem: PlanProblem, renderer: Renderer | None = None) -> str:
    """A problem of the plan in words, e.g. `Thema fehlt`."""
    words = renderer or shared_renderer()
    return words.sentence("plan_file", problem.code, **problem.values).body


def error_text(error: PlanError, renderer: Renderer | None = None) -> str:
    """A problem with its line, e.g. `Zeile 4: Thema fehlt` (line 0: the whole file)."""
    words = renderer or shared_renderer()
    reason = problem_text(error.problem, words)
    return words.sentence("plan_file", "error", line=error.line, reason=reason).body


# Deciding (pure) ----------------------------------------------------------------------


def decide(
    rows: Iterable[PlanRow],
    existing: Iterable[ThemeView],
    participants: Mapping[int, Sequence[str]] | None = None,
) -> list[RowResult]:
    """What each row would do to the themes that exist now (`participants`: their named
    Z2 participants by theme id)."""
    by_key = {view.theme.name_key: view for view in existing}
    named = participants or {}
    results = []
    for row in rows:
        view = by_key.get(fold(row.name))
        results.append(_decide_row(row, view, named.get(view.id, ()) if view else ()))
    return results


def _decide_row(row: PlanRow, view: ThemeView | None, named: Sequence[str] = ()) -> RowResult:
    if view is None:
        return RowResult(row, Action.create)
    theme = view.theme
    z2: date | None = None
    if not spec_matches(row.spec, theme.z2, theme.planned_quarter):
        if theme.z2 is not None:
            why = PlanProblem("other_z2", {"z2": format_date(theme.z2)})
            return RowResult(row, Action.skipped, view.id, why=why)
        if isinstance(row.spec, Quarter):
            why = PlanProblem("other_quarter", {"quarter": theme.planned_quarter})
            return RowResult(row, Action.skipped, view.id, why=why)
        z2 = row.spec.first_day  # an idea gets its Z2, as `verschieben` would give it
    room = row.team_room if row.team_room not in theme.team_rooms else None
    if room is not None and theme.team_room is not None:
        why = PlanProblem("other_room", {"room": theme.team_room})
        return RowResult(row, Action.skipped, view.id, why=why)
    # Department, contact and Kernteam fill what the theme lacks; what was set in chat wins.
    department = row.department if row.department and not theme.department else None
    contact = row.contact if row.contact and not theme.contact else None
    core_team = row.core_team if not theme.core_team else ()
    participants = tuple(p for p in row.participants if p not in named)
    if z2 is None and room is None and not (department or contact or core_team or participants):
        return RowResult(row, Action.unchanged, view.id)
    return RowResult(
        row,
        Action.update,
        view.id,
        z2=z2,
        team_room=room,
        department=department,
        contact=contact,
        core_team=core_team,
        participants=participants,
    )


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
    named = store.participants_of([v.id for v in existing])
    themes = decide(parsed.themes, existing, named)
    milestones = decide_milestones(parsed.milestones, store.milestones())
    results = tuple(sorted([*themes, *milestones], key=lambda r: r.row.line))
    report = ImportReport(results)
    if dry_run or not report.changes:
        return report
    templates = {view.id: view.template for view in existing}
    # Themes and milestones commit together: a clash half-way leaves neither behind.
    with store.unit_of_work():
        theme_changes = [c for c in report.changes if not c.row.is_milestone]
        if theme_changes:
            _apply(
                store,
                theme_changes,
                template=template,
                templates=templates,
                council_meetings=tuple(council_meetings),
                actor=actor,
                now=now,
                progress=progress or _no_progress,
            )
        for change in report.changes:
            if change.row.is_milestone:
                store.set_milestone(milestone_of(change.row), actor=actor, now=now)
    return ImportReport(results, applied=True)


def milestone_of(row: PlanRow) -> Milestone:
    first, last, written, precision = milestone_span(row.spec)
    return Milestone(row.name, first, last, written, precision)


def decide_milestones(rows: Iterable[PlanRow], existing: Iterable[Milestone]) -> list[RowResult]:
    """A milestone row adds its milestone, moves the one of that name, or matches it."""
    by_key = {fold(m.name): m for m in existing}
    results = []
    for row in rows:
        found = by_key.get(fold(row.name))
        wanted = milestone_of(row)
        if found is None:
            results.append(RowResult(row, Action.create))
        elif (found.first_day, found.last_day) == (wanted.first_day, wanted.last_day):
            results.append(RowResult(row, Action.unchanged))
        else:
            moved = PlanProblem("moved", {"written": found.written})
            results.append(RowResult(row, Action.update, why=moved))
    return results


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


def _apply(
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
    """Plan every change (pure), then hand them to the store as one transaction."""
    creates: list[NewTheme] = []
    updates: list[ThemeUpdate] = []
    for change in changes:
        if change.action == Action.create:
            creates.append(_new_theme(change.row, template, council_meetings))
        else:
            assert change.theme_id is not None
            theme_template = templates.get(change.theme_id, template)
            planned = plan(theme_template, change.z2, council_meetings) if change.z2 else ()
            updates.append(
                ThemeUpdate(
                    change.theme_id,
                    change.z2,
                    tuple(planned),
                    change.team_room,
                    department=change.department,
                    contact=change.contact,
                    core_team=change.core_team,
                    participants=change.participants,
                )
            )
    store.apply_plan(creates, updates, actor=actor, now=now, progress=progress)


def _new_theme(
    row: PlanRow, template: ProcessTemplate, council_meetings: tuple[date, ...]
) -> NewTheme:
    is_idea = isinstance(row.spec, Quarter)
    z2 = None if is_idea else row.spec.first_day
    return NewTheme(
        name=row.name,
        z2=z2,
        planned_quarter=str(row.spec) if is_idea else None,
        team_room=row.team_room,
        department=row.department,
        contact=row.contact,
        core_team=row.core_team,
        participants=row.participants,
        template=template,
        planned=tuple(plan(template, z2, council_meetings)) if z2 else (),
    )
