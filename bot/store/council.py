"""The store's part for the council: meetings from the council information system (the
last good read), how the reads went, each theme's Beschlussvorlage, and the one way the
running themes follow a change of council meetings.

Whatever the coordination room must hear of a change is recorded in the outbox
(`handled_event`, keyed by a notice key instead of a command's event id) in the same
transaction as the change: a crash between the two can neither lose the notice nor, after
a restart, repeat it (the adapter sends what is recorded and not confirmed, under the same
transaction id). The sentences themselves come from the caller (`CouncilWords`): the store
renders nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.domain.council import (
    CouncilRead,
    CouncilUpdate,
    MeetingEntry,
    Moved,
    ReadMeeting,
    compare_meetings,
    decision_step,
    kept_by_hand,
    meeting_days,
    meeting_entries,
    paper_changes,
    replan_theme,
)
from bot.domain.papers import LinkedPaper
from bot.domain.themes import StepState, ThemeStatus, ThemeView
from bot.store.database import utc
from bot.store.tables import (
    CouncilMeeting,
    CouncilSync,
    HandledEvent,
    OParlMeeting,
    Step,
    Theme,
    ThemePaper,
)
from bot.store.theme_queries import views_of
from bot.store.theme_records import (
    ThemeGone,
    consultations_json,
    paper_record,
    record_history,
)
from bot.store.themes import Store

SYNC_ROW = 1
# Who changes a theme when the council information system says so.
BOT = "Bot"


@dataclass(frozen=True)
class Notice:
    """A message to a room, recorded with the change it tells of."""

    key: str  # unique; the outbox key and (derived) the Matrix transaction id
    room_id: str
    content: dict[str, Any]


@dataclass(frozen=True)
class SyncState:
    """How the reads of the council information system went."""

    body: str | None
    organization: str | None
    last_success: datetime | None
    failing_since: datetime | None
    failure: str | None

    @property
    def stale(self) -> bool:
        return self.failing_since is not None


class CouncilWords(Protocol):
    """The notices of council changes (the engine renders them and picks the rooms)."""

    def update(self, update: CouncilUpdate, now: datetime) -> list[Notice]: ...

    def stale(self, reason: str, last_success: datetime | None, now: datetime) -> list[Notice]: ...

    def back(self, failing_since: datetime, now: datetime) -> list[Notice]: ...

    def decision_note(self, paper: LinkedPaper) -> str: ...

    def decision(self, view: ThemeView, paper: LinkedPaper, marked: bool) -> list[Notice]: ...


_ENTERED_DAYS = sa.select(CouncilMeeting.__table__.c.day)  # type: ignore[attr-defined]
_MEETING_TABLE: sa.Table = OParlMeeting.__table__  # type: ignore[attr-defined]
_READ_MEETINGS = sa.select(
    _MEETING_TABLE.c.key, _MEETING_TABLE.c.name, _MEETING_TABLE.c.start, _MEETING_TABLE.c.day
).order_by(_MEETING_TABLE.c.start)


def _read_meeting(row: OParlMeeting) -> ReadMeeting:
    return ReadMeeting(row.key, row.name, utc(row.start), row.day)


class CouncilStore:
    def __init__(self, store: Store) -> None:
        self._store = store

    # Reading -----------------------------------------------------------------------------

    def read_meetings(self) -> list[ReadMeeting]:
        with self._store.reading() as session:
            return self._read(session)

    @staticmethod
    def _read(session: Session) -> list[ReadMeeting]:
        rows = session.exec(select(OParlMeeting).order_by(OParlMeeting.start))
        return [_read_meeting(row) for row in rows]

    @staticmethod
    def _entered(session: Session) -> list[date]:
        return list(session.exec(select(CouncilMeeting.day)))

    def days(self, configured: Iterable[date]) -> list[date]:
        """Every council meeting day: configured, entered in chat, read from OParl (what
        every status and re-planning asks: two Core statements built once)."""
        with self._store.reading() as session:
            connection = session.connection()
            entered = list(connection.execute(_ENTERED_DAYS).scalars())
            read = [
                ReadMeeting(key, name, utc(start), day)
                for key, name, start, day in connection.execute(_READ_MEETINGS)
            ]
            return meeting_days(configured, entered, read)

    def entries(self, configured: Iterable[date]) -> list[MeetingEntry]:
        """Every council meeting day with where it is known from (`!zt ratssitzung`)."""
        with self._store.reading() as session:
            return meeting_entries(configured, self._entered(session), self._read(session))

    def sync_state(self) -> SyncState | None:
        """None until the council information system was first asked."""
        with self._store.reading() as session:
            row = session.get(CouncilSync, SYNC_ROW)
            if row is None:
                return None
            return SyncState(
                row.body,
                row.organization,
                utc(row.last_success) if row.last_success else None,
                utc(row.failing_since) if row.failing_since else None,
                row.failure,
            )

    def papers_to_read(self) -> dict[int, str]:
        """Theme id → paper id of the linked papers whose decision is still to come."""
        with self._store.reading() as session:
            rows = session.exec(
                select(ThemePaper.theme_id, ThemePaper.key)
                .join(Theme, Theme.id == ThemePaper.theme_id)  # type: ignore[arg-type]
                .where(
                    ThemePaper.applied == False,  # noqa: E712 (SQL, not Python)
                    Theme.status.in_([ThemeStatus.active, ThemeStatus.paused]),  # type: ignore[attr-defined]
                )
            )
            return {theme_id: key for theme_id, key in rows}

    # Following the council -----------------------------------------------------------------

    def follow(self, configured: Iterable[date], *, actor: str, now: datetime) -> list[Moved]:
        """Re-plan every running theme against the council meetings as they are now."""
        with self._store.session() as session:
            moved = self._replan_all(session, configured, actor, now)
            session.commit()
            return moved

    def _replan_all(
        self, session: Session, configured: Iterable[date], actor: str, now: datetime
    ) -> list[Moved]:
        """The one re-planning after a change of council meetings or papers (chat and OParl
        alike): open, unpinned steps of every active theme, in the session's transaction."""
        days = meeting_days(configured, self._entered(session), self._read(session))
        themes = session.exec(
            select(Theme)
            .where(Theme.status == ThemeStatus.active, Theme.z2.is_not(None))  # type: ignore[union-attr]
            .order_by(Theme.z2, Theme.name)
        ).all()
        moved: list[Moved] = []
        for view in views_of(session, themes):
            if not view.steps:
                continue
            changes = replan_theme(view, days)
            if changes:
                _set_dates(session, view.id, changes)
                record_history(session, view.id, actor, now, "council")
                moved.append(Moved(view, changes))
        return moved

    def apply_read(
        self,
        read: CouncilRead,
        *,
        configured: Sequence[date],
        now: datetime,
        words: CouncilWords,
        recorded_at: datetime | None = None,
    ) -> list[Notice]:
        """Keep a good read as the last good copy, follow it, and tell what it changed."""
        with self._store.session() as session:
            sync = session.get(CouncilSync, SYNC_ROW) or CouncilSync(id=SYNC_ROW)
            first = sync.last_success is None or sync.source != read.source
            before = self._read(session)
            before_papers = self._papers(session, read.papers.keys())
            self._replace_meetings(session, read.meetings)
            self._update_papers(session, read.papers, now)
            session.flush()
            moved = self._replan_all(session, configured, BOT, now)
            diff = compare_meetings(() if first else before, read.meetings)
            by_hand = [*configured, *self._entered(session)]
            update = CouncilUpdate(
                first=first,
                meetings=len(read.meetings),
                diff=diff,
                papers=paper_changes(
                    self._theme_names(session, read.papers.keys()), before_papers, read.papers
                ),
                moved=tuple(moved),
                kept_by_hand=kept_by_hand(diff, by_hand),
            )
            notices = words.update(update, now) if update.worth_telling else []
            if sync.failing_since is not None:
                notices += words.back(utc(sync.failing_since), now)
            sync.source, sync.body, sync.organization = read.source, read.body, read.organization
            sync.last_success, sync.failing_since, sync.failure = utc(now), None, None
            session.add(sync)
            _record(session, notices, recorded_at or now)
            session.commit()
            return notices

    def record_failure(
        self,
        reason: str,
        *,
        now: datetime,
        words: CouncilWords,
        recorded_at: datetime | None = None,
    ) -> list[Notice]:
        """A read failed: the last good copy stays; the first failure in a row is told."""
        with self._store.session() as session:
            sync = session.get(CouncilSync, SYNC_ROW) or CouncilSync(id=SYNC_ROW)
            notices: list[Notice] = []
            if sync.failing_since is None:
                last = utc(sync.last_success) if sync.last_success else None
                notices = words.stale(reason, last, now)
                sync.failing_since = utc(now)
            sync.failure = reason[:1000]
            session.add(sync)
            _record(session, notices, recorded_at or now)
            session.commit()
            return notices

    @staticmethod
    def _replace_meetings(session: Session, meetings: Sequence[ReadMeeting]) -> None:
        rows = {row.key: row for row in session.exec(select(OParlMeeting))}
        for meeting in meetings:
            row = rows.pop(meeting.key, None) or OParlMeeting(key=meeting.key, start=meeting.start)
            row.name = meeting.name[:500] if meeting.name else None
            row.start, row.day = utc(meeting.start), meeting.day
            session.add(row)
        for gone in rows.values():
            session.delete(gone)

    # Papers ----------------------------------------------------------------------------------

    @staticmethod
    def _papers(session: Session, theme_ids: Iterable[int]) -> dict[int, LinkedPaper]:
        ids = list(theme_ids)
        if not ids:
            return {}
        rows = session.exec(select(ThemePaper).where(ThemePaper.theme_id.in_(ids)))  # type: ignore[attr-defined]
        return {row.theme_id: paper_record(row) for row in rows}

    @staticmethod
    def _theme_names(session: Session, theme_ids: Iterable[int]) -> dict[int, str]:
        ids = list(theme_ids)
        if not ids:
            return {}
        rows = session.exec(select(Theme.id, Theme.name).where(Theme.id.in_(ids)))  # type: ignore[union-attr]
        return {theme_id: name for theme_id, name in rows if theme_id is not None}

    @staticmethod
    def _update_papers(session: Session, papers: Mapping[int, LinkedPaper], now: datetime) -> None:
        """A new read of linked papers; one linked anew meanwhile keeps its new link."""
        for theme_id, paper in papers.items():
            row = session.exec(select(ThemePaper).where(ThemePaper.theme_id == theme_id)).first()
            if row is not None and row.key == paper.key:
                _fill(row, paper, now)
                session.add(row)

    def link_paper(
        self,
        theme_id: int,
        paper: LinkedPaper,
        *,
        configured: Sequence[date],
        actor: str,
        now: datetime,
    ) -> dict[str, date]:
        """Link the theme to its paper and put its decision step on the paper's council day;
        the dates that changed. Linking the same paper again keeps whether its decision was
        carried over."""
        with self._store.session() as session:
            theme = session.get(Theme, theme_id)
            if theme is None:
                raise ThemeGone(theme_id)
            row = session.exec(select(ThemePaper).where(ThemePaper.theme_id == theme_id)).first()
            if row is None or row.key != paper.key:
                if row is not None:
                    session.delete(row)
                    session.flush()
                row = ThemePaper(
                    theme_id=theme_id,
                    key=paper.key,
                    reference=paper.reference,
                    checked_at=utc(now),
                    linked_by=actor,
                    linked_at=utc(now),
                )
            _fill(row, paper, now)
            session.add(row)
            session.flush()
            view = Store.view_in(session, theme)
            days = meeting_days(configured, self._entered(session), self._read(session))
            changes = replan_theme(view, days) if view.steps and view.theme.z2 else {}
            _set_dates(session, theme_id, changes)
            record_history(session, theme_id, actor, now, "paper_linked", reference=paper.reference)
            session.commit()
            return changes

    def apply_decisions(
        self,
        *,
        configured: Sequence[date],
        now: datetime,
        words: CouncilWords,
        recorded_at: datetime | None = None,
    ) -> list[Notice]:
        """Carry every decided, not yet carried paper into its theme: the decision step done
        on the day of the decision with the result as its note, the steps after it following
        that day, the rooms told. Once."""
        with self._store.session() as session:
            rows = session.exec(
                select(ThemePaper).where(
                    ThemePaper.decided == True,  # noqa: E712 (SQL, not Python)
                    ThemePaper.applied == False,  # noqa: E712
                )
            ).all()
            notices: list[Notice] = []
            for row in rows:
                theme = session.get(Theme, row.theme_id)
                if theme is None or theme.status not in (ThemeStatus.active, ThemeStatus.paused):
                    continue
                paper = paper_record(row)
                view = Store.view_in(session, theme)
                marked = self._mark_decided(session, view, paper, now, words)
                row.applied = True
                session.add(row)
                session.flush()
                view = Store.view_in(session, theme)
                if marked and view.theme.z2 is not None:
                    days = meeting_days(configured, self._entered(session), self._read(session))
                    _set_dates(session, view.id, replan_theme(view, days))
                    session.flush()
                    view = Store.view_in(session, theme)
                notices += words.decision(view, paper, marked)
            _record(session, notices, recorded_at or now)
            session.commit()
            return notices

    @staticmethod
    def _mark_decided(
        session: Session, view: ThemeView, paper: LinkedPaper, now: datetime, words: CouncilWords
    ) -> bool:
        """The decision step done, if it is still open; True when it was marked."""
        key = decision_step(view)
        if key is None:
            return False
        step = session.exec(select(Step).where(Step.theme_id == view.id, Step.key == key)).one()
        if step.state != StepState.open:
            return False
        note = words.decision_note(paper)[:500]
        step.state = StepState.done
        step.done_on = paper.result_day or now.date()
        step.done_by = BOT
        step.note = note
        if paper.result_day is not None:
            step.due = paper.result_day
        session.add(step)
        record_history(
            session, view.id, BOT, now, "done", step=key, note=note, reference=paper.reference
        )
        return True


def _fill(row: ThemePaper, paper: LinkedPaper, now: datetime) -> None:
    row.reference = paper.reference[:100]
    row.name = paper.name
    row.link = paper.link[:1000] if paper.link else None
    row.consultations = consultations_json(paper.consultations)
    row.decided = paper.decided
    row.result = paper.result[:500] if paper.result else None
    row.result_day = paper.result_day
    row.pending_day = paper.pending_day
    row.checked_at = utc(now)


def _set_dates(session: Session, theme_id: int, changes: Mapping[str, date]) -> None:
    if not changes:
        return
    steps = session.exec(select(Step).where(Step.theme_id == theme_id)).all()
    for step in steps:
        if step.key in changes:
            step.due = changes[step.key]
            session.add(step)


def _record(session: Session, notices: Sequence[Notice], at: datetime) -> None:
    """The notices in the outbox, in the transaction of the change they tell of; `at` is
    the wall time (the outbox compares it with the homeserver's deduplication window)."""
    for notice in notices:
        known = session.exec(
            select(HandledEvent.id).where(HandledEvent.event_id == notice.key)
        ).first()
        if known is None:
            session.add(
                HandledEvent(
                    event_id=notice.key,
                    room_id=notice.room_id,
                    handled_at=utc(at),
                    reply_json=json.dumps(notice.content, ensure_ascii=False),
                )
            )
