"""The store's records of themes: what goes in (a new theme, an update from the plan
file), what a change leaves (the history entry), and the errors a change can meet."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from bot.domain.documents import StepDocument
from bot.domain.papers import LinkedPaper, PaperConsultation
from bot.domain.process import ProcessTemplate
from bot.domain.timeline import PlannedStep
from bot.store.database import utc
from bot.store.tables import (
    HistoryEntry,
    StepDocumentRow,
    ThemePaper,
)


class ThemeExists(ValueError):
    def __init__(self, existing: str) -> None:
        super().__init__(existing)
        self.existing = existing


class ThemeGone(LookupError):
    """The theme was deleted between lookup and change."""


@dataclass(frozen=True)
class NewTheme:
    """A theme to create, with its steps planned already (domain.timeline.plan)."""

    name: str
    z2: date | None
    planned_quarter: str | None
    team_room: str | None
    template: ProcessTemplate
    planned: Sequence[PlannedStep] = ()
    # From the plan file: the leading department, the contact, the Kernteam.
    department: str | None = None
    contact: str | None = None
    core_team: Sequence[str] = ()
    # The named Z2 participants (`!zt teilnehmende`).
    participants: Sequence[str] = ()


@dataclass(frozen=True)
class ThemeUpdate:
    """An idea that gets its Z2 (and steps), and/or a theme that gets a team room."""

    theme_id: int
    z2: date | None = None
    planned: Sequence[PlannedStep] = ()
    team_room: str | None = None
    # From the plan file, where the theme has none yet.
    department: str | None = None
    contact: str | None = None
    core_team: Sequence[str] = ()
    # The named Z2 participants (`!zt teilnehmende`).
    participants: Sequence[str] = ()


@dataclass(frozen=True)
class History:
    at: datetime
    actor: str
    action: str
    detail: dict


def record_history(
    session: Session, theme_id: int, actor: str, now: datetime, action: str, **detail: object
) -> None:
    """A history entry, written in the same transaction as the change it records."""
    session.add(
        HistoryEntry(
            theme_id=theme_id,
            at=utc(now),
            actor=actor,
            action=action,
            detail=json.dumps(detail, ensure_ascii=False, default=str),
        )
    )


# Rows per IN (...) list: far below SQLite's and PostgreSQL's parameter limits.
CHUNK = 500


def chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def consultations_json(consultations: Sequence[PaperConsultation]) -> str:
    return json.dumps(
        [{**c.__dict__, "day": c.day.isoformat() if c.day else None} for c in consultations],
        ensure_ascii=False,
    )


def paper_record(row: ThemePaper) -> LinkedPaper:
    consultations = tuple(
        PaperConsultation(**{**c, "day": date.fromisoformat(c["day"]) if c["day"] else None})
        for c in json.loads(row.consultations)
    )
    return LinkedPaper(
        key=row.key,
        reference=row.reference,
        name=row.name,
        link=row.link,
        consultations=consultations,
        decided=row.decided,
        result=row.result,
        result_day=row.result_day,
        pending_day=row.pending_day,
        checked_at=utc(row.checked_at),
        applied=row.applied,
    )


def document_record(row: StepDocumentRow) -> StepDocument:
    return StepDocument(
        theme_id=row.theme_id,
        step_key=row.step_key,
        url=row.url,
        title=row.title,
        added_by=row.added_by,
        added_at=utc(row.added_at),
        id=row.id,
    )
