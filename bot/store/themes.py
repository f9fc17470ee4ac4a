"""The store: the only code that speaks SQL. The database is the source of truth."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.domain.papers import LinkedPaper, PaperConsultation
from bot.domain.process import ProcessTemplate
from bot.domain.reminder_policy import Near
from bot.domain.theme_names import fold
from bot.domain.themes import (
    ROOM_FIELDS,
    StepRecord,
    StepState,
    ThemeRecord,
    ThemeStatus,
    ThemeView,
)
from bot.domain.timeline import PlannedStep
from bot.store.database import Database, utc
from bot.store.name_index import StoredNames
from bot.store.tables import (
    CoreTeamMember,
    CouncilMeeting,
    HistoryEntry,
    ReminderLog,
    Responsibility,
    Step,
    TeamRoom,
    Theme,
    ThemePaper,
    ThemeParticipant,
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
_CHUNK = 500
# Z2 dates within this distance of a year can put a theme into that year's plan (an ISO
# week at the turn of the year belongs to both).
_YEAR_SPILL = timedelta(days=7)


def _chunks(ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def views_of(session: Session, themes: Iterable[Theme]) -> list[ThemeView]:
    """The views of many themes in a few queries (steps, people, papers, Kernteam and team
    rooms in batches), instead of five queries per theme."""
    return _views(session, [{name: getattr(t, name) for name in _THEME_FIELDS} for t in themes])


def _views(session: Session, themes: Sequence[dict[str, Any]]) -> list[ThemeView]:
    """The views of themes given as their rows' fields (ThemeRecord's, in a dict)."""
    ids = [theme["id"] for theme in themes if theme["id"] is not None]
    steps: dict[int, list[StepRecord]] = defaultdict(list)
    people: dict[int, list[Responsibility]] = defaultdict(list)
    papers: dict[int, ThemePaper] = {}
    core_team: dict[int, list[str]] = defaultdict(list)
    team_rooms: dict[int, list[str]] = defaultdict(list)
    for chunk in _chunks(ids):
        in_chunk = Step.theme_id.in_(chunk)  # type: ignore[attr-defined]
        # Columns, not ORM objects: building ~9 mapped objects per theme was most of the
        # time of reading a year's themes.
        for row in session.exec(select(*_STEP_COLUMNS).where(in_chunk).order_by(Step.position)):
            step = StepRecord(**dict(zip(_STEP_FIELDS, row, strict=True)))
            steps[step.theme_id].append(step)
        rows = session.exec(
            select(Responsibility, Step.theme_id)
            .join(Step, Responsibility.step_id == Step.id)  # type: ignore[arg-type]
            .where(in_chunk)
            .order_by(Responsibility.id)
        )
        for row, theme_id in rows:
            people[theme_id].append(row)
        for paper in session.exec(
            select(ThemePaper).where(ThemePaper.theme_id.in_(chunk))  # type: ignore[attr-defined]
        ):
            papers[paper.theme_id] = paper
        for theme_id, user_id in session.exec(
            select(CoreTeamMember.theme_id, CoreTeamMember.user_id)
            .where(CoreTeamMember.theme_id.in_(chunk))  # type: ignore[attr-defined]
            .order_by(CoreTeamMember.id)  # type: ignore[arg-type]
        ):
            core_team[theme_id].append(user_id)
        for theme_id, room_id in session.exec(
            select(TeamRoom.theme_id, TeamRoom.room_id)
            .where(TeamRoom.theme_id.in_(chunk))  # type: ignore[attr-defined]
            .order_by(TeamRoom.id)  # type: ignore[arg-type]
        ):
            team_rooms[theme_id].append(room_id)
    return [
        _view(
            ThemeRecord(
                **theme,
                core_team=tuple(core_team[theme["id"]]),
                extra_team_rooms=tuple(team_rooms[theme["id"]]),
            ),
            steps[theme["id"]],
            people[theme["id"]],
            papers.get(theme["id"]),
        )
        for theme in themes
    ]


def process_digest(process_json: str) -> str:
    return hashlib.sha256(process_json.encode("utf-8")).hexdigest()


def _add_process_texts(session: Session, themes: list[dict[str, Any]]) -> None:
    """Put each theme's template copy in place of its digest: one query per distinct copy
    (usually one), by id for a row without a digest (written by hand, not by the store).
    Themes with one copy share one string: thousands of views, not thousands of ~5 KB."""
    texts: dict[str, str] = {}
    for digest in {theme["process_digest"] for theme in themes} - {None}:
        query = select(Theme.process_json).where(Theme.process_digest == digest).limit(1)
        texts[digest] = session.exec(query).one()
    for theme in themes:
        digest = theme.pop("process_digest")
        if digest is None:
            theme["process_json"] = session.exec(
                select(Theme.process_json).where(Theme.id == theme["id"])
            ).one()
        else:
            theme["process_json"] = texts[digest]


def _view(
    theme: ThemeRecord,
    steps: Sequence[StepRecord],
    responsible: Sequence[Responsibility],
    paper: ThemePaper | None,
) -> ThemeView:
    keys = {step.id: step.key for step in steps}
    people: dict[str, list[str]] = {}
    for row in responsible:
        people.setdefault(keys[row.step_id], []).append(row.user_id)
    return ThemeView(
        theme,
        tuple(steps),
        {k: tuple(v) for k, v in people.items()},
        paper_record(paper) if paper is not None else None,
    )


# The records' fields, read straight off the rows: pydantic's model_dump was most of
# the time of reading a year's themes.
# (The theme's Kernteam and further team rooms live in tables of their own.)
_THEME_FIELDS = tuple(
    field.name
    for field in fields(ThemeRecord)
    if field.name not in {"core_team", "extra_team_rooms"}
)
# A list reads the digest of each theme's template copy, and each distinct copy once.
_LISTED_FIELDS = (*(name for name in _THEME_FIELDS if name != "process_json"), "process_digest")
_LISTED_COLUMNS = tuple(getattr(Theme, name) for name in _LISTED_FIELDS)
_STEP_FIELDS = tuple(field.name for field in fields(StepRecord))
_STEP_COLUMNS = tuple(getattr(Step, name) for name in _STEP_FIELDS)  # in StepRecord's order


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


_UNARCHIVED = frozenset(ThemeStatus) - {ThemeStatus.archived}


def _with_status(statuses: Collection[ThemeStatus] | None) -> sa.ColumnElement[bool]:
    if statuses is None:
        return sa.true()
    return Theme.status.in_([str(status) for status in statuses])  # type: ignore[attr-defined]


class Store(Database):
    """Themes, steps, council meetings and the reminders' sent-log."""

    # Themes -----------------------------------------------------------------------------

    @property
    def names(self) -> StoredNames:
        """The themes' names for lookups as people type them (indexed queries)."""
        return StoredNames(self)

    def theme_names(self) -> list[str]:
        with self.reading() as session:
            return list(session.exec(select(Theme.name).order_by(Theme.name)))

    def themes(self, *, include_archived: bool = False) -> list[ThemeView]:
        """Every theme (for exports and files; answers in chat ask for less)."""
        statuses = None if include_archived else _UNARCHIVED
        return self.views_where(_with_status(statuses))

    def themes_page(self, statuses: Collection[ThemeStatus] | None, limit: int) -> list[ThemeView]:
        """The first `limit` themes in these states (None: in any), by Z2 and name."""
        return self.views_where(_with_status(statuses), limit=limit)

    def theme_count(self, statuses: Collection[ThemeStatus] | None = None) -> int:
        with self.reading() as session:
            query = select(sa.func.count()).select_from(Theme).where(_with_status(statuses))
            return session.exec(query).one()

    def theme_names_by_id(self, ids: Collection[int]) -> dict[int, str]:
        found: dict[int, str] = {}
        with self.reading() as session:
            for chunk in _chunks(sorted(ids)):
                query = select(Theme.id, Theme.name).where(Theme.id.in_(chunk))  # type: ignore[union-attr]
                found.update({theme_id: name for theme_id, name in session.exec(query)})
        return found

    def active_themes_near(self, today: date, near: Near) -> list[ThemeView]:
        """Active themes with something to remind of around `today` (domain
        `reminder_policy.near`): an open step due soon or overdue, Z2 close by, or a
        participation window moved by hand that overlaps the time around today. What
        the reminder engine reads; its cost grows with what is due, not with what exists."""
        open_soon = select(Step.theme_id).where(
            Step.state == StepState.open, Step.due <= today + near.steps_ahead
        )
        z2_close = Theme.z2.between(today - near.z2_behind, today + near.z2_ahead)  # type: ignore[union-attr]
        # A participation window moved by hand can lie anywhere: near when it overlaps.
        opens = sa.func.coalesce(Theme.participation_start, Theme.participation_end)
        closes = sa.func.coalesce(Theme.participation_end, Theme.participation_start)
        window_close = sa.and_(opens <= today + near.steps_ahead, closes >= today - near.z2_behind)
        condition = sa.and_(
            Theme.status == ThemeStatus.active,
            sa.or_(Theme.id.in_(open_soon), z2_close, window_close),  # type: ignore[union-attr]
        )
        return self.views_where(condition)

    def active_themes_with_z2_between(self, first: date, last: date) -> list[ThemeView]:
        condition = sa.and_(
            Theme.status == ThemeStatus.active,
            Theme.z2.between(first, last),  # type: ignore[union-attr]
        )
        return self.views_where(condition)

    def themes_of_year(self, year: int) -> list[ThemeView]:
        """Every theme that can appear in `year`'s plan (a superset: Z2 near the year, an
        idea planned for it, or an open step due in it), archived ones included."""
        first, last = date(year, 1, 1), date(year, 12, 31)
        open_in_year = select(Step.theme_id).where(
            Step.state == StepState.open,
            Step.due.between(first, last),  # type: ignore[attr-defined]
        )
        condition = sa.or_(
            Theme.z2.between(first - _YEAR_SPILL, last + _YEAR_SPILL),  # type: ignore[union-attr]
            sa.and_(Theme.z2.is_(None), Theme.planned_quarter.contains(str(year))),  # type: ignore[union-attr]
            Theme.id.in_(open_in_year),  # type: ignore[union-attr]
        )
        return self.views_where(condition)

    def theme(self, name: str) -> ThemeView | None:
        with self.reading() as session:
            theme = session.exec(select(Theme).where(Theme.name_key == fold(name))).first()
            return None if theme is None else views_of(session, [theme])[0]

    def views_where(
        self,
        condition: sa.ColumnElement[bool],
        *,
        order: Sequence = (Theme.z2, Theme.name),
        limit: int | None = None,
    ) -> list[ThemeView]:
        """The views of the themes that meet `condition`, read in batches (the store's
        other modules ask through this too)."""
        with self.reading() as session:
            # Columns, not mapped objects (as for steps in _views): a year's plan reads
            # thousands.
            query = select(*_LISTED_COLUMNS).where(condition).order_by(*order)
            if limit is not None:
                query = query.limit(limit)
            themes = [dict(zip(_LISTED_FIELDS, row, strict=True)) for row in session.exec(query)]
            _add_process_texts(session, themes)
            return _views(session, themes)

    @staticmethod
    def view_in(session: Session, theme: Theme) -> ThemeView:
        """The theme's view read in an open session (for changes that span themes)."""
        return views_of(session, [theme])[0]

    def theme_by_id(self, theme_id: int) -> ThemeView | None:
        with self.reading() as session:
            theme = session.get(Theme, theme_id)
            return None if theme is None else views_of(session, [theme])[0]

    @contextmanager
    def _change(
        self, theme_id: int, actor: str, action: str, now: datetime, **detail: object
    ) -> Iterator[tuple[Session, Theme]]:
        """One transaction: the change and its history entry land together or not at all."""
        with self.session() as session:
            theme = session.get(Theme, theme_id)
            if theme is None:
                raise ThemeGone(theme_id)
            yield session, theme
            record_history(session, theme_id, actor, now, action, **detail)
            session.commit()

    @staticmethod
    def _steps(session: Session, theme_id: int) -> dict[str, Step]:
        steps = session.exec(select(Step).where(Step.theme_id == theme_id)).all()
        return {step.key: step for step in steps}

    # Steps ------------------------------------------------------------------------------

    def set_step_state(
        self,
        theme_id: int,
        key: str,
        *,
        state: StepState,
        actor: str,
        now: datetime,
        note: str | None = None,
        action: str,
    ) -> None:
        with self._change(theme_id, actor, action, now, step=key, note=note) as (session, _):
            step = self._steps(session, theme_id)[key]
            step.state = state
            done = state != StepState.open
            step.done_on = now.date() if done else None
            step.done_by = actor if done else None
            step.note = note
            session.add(step)

    def set_step_dates(
        self,
        theme_id: int,
        dates: Mapping[str, date],
        *,
        actor: str,
        now: datetime,
        action: str,
        pin: str | None = None,
        z2: date | None = None,
        participation: tuple[date, date] | None = None,
        **detail: object,
    ) -> None:
        """New dates for some steps (a move, a pin, a council change), in one transaction;
        `participation` fixes the participation window where it is (it stays when Z2
        moves)."""
        with self._change(theme_id, actor, action, now, **detail) as (session, theme):
            if participation is not None:
                theme.participation_start, theme.participation_end = participation
                session.add(theme)
            steps = self._steps(session, theme_id)
            for key, day in dates.items():
                steps[key].due = day
                session.add(steps[key])
            if pin is not None:
                steps[pin].pinned = True
            if z2 is not None:
                theme.z2 = z2
                session.add(theme)

    def set_participation(
        self,
        theme_id: int,
        start: date | None,
        end: date | None,
        *,
        actor: str,
        now: datetime,
        action: str = "participation_moved",
        **detail: object,
    ) -> None:
        """Fix the digital participation window (None, None: follow Z2 again)."""
        with self._change(theme_id, actor, action, now, start=start, end=end, **detail) as (
            session,
            theme,
        ):
            theme.participation_start = start
            theme.participation_end = end
            session.add(theme)

    def schedule_idea(
        self,
        theme_id: int,
        z2: date,
        planned: Sequence[PlannedStep],
        *,
        actor: str,
        now: datetime,
    ) -> None:
        """An idea gets its Z2: it becomes an active theme with steps.

        Its creation time becomes now: reminders from before it had steps are nothing the
        bot missed (issue 12), and an idea had no calendar events whose UIDs could
        change."""
        with self._change(theme_id, actor, "scheduled", now, z2=z2) as (session, theme):
            theme.z2 = z2
            theme.created_at = utc(now)
            theme.status = ThemeStatus.active
            session.add(theme)
            self._add_steps(session, theme_id, planned)

    def set_quarter(self, theme_id: int, quarter: str, *, actor: str, now: datetime) -> None:
        with self._change(theme_id, actor, "requartered", now, quarter=quarter) as (session, theme):
            theme.planned_quarter = quarter
            session.add(theme)

    def set_responsible(
        self, theme_id: int, key: str, users: Sequence[str], *, actor: str, now: datetime
    ) -> None:
        with self._change(theme_id, actor, "responsible", now, step=key, users=list(users)) as (
            session,
            _,
        ):
            step = self._steps(session, theme_id)[key]
            for row in session.exec(
                select(Responsibility).where(Responsibility.step_id == step.id)
            ):
                session.delete(row)
            session.flush()
            for user in dict.fromkeys(users):
                session.add(Responsibility(step_id=step.id, user_id=user))

    # Theme housekeeping -----------------------------------------------------------------

    def bind_room(
        self, theme_id: int, role: str, room_id: str | None, *, actor: str, now: datetime
    ) -> None:
        """Bind a room to a role. A team room is added to the theme's team rooms (a
        theme has several); the other roles have one room each."""
        action = "room_bound" if room_id else "room_unbound"
        with self._change(theme_id, actor, action, now, role=role, room=room_id) as (
            session,
            theme,
        ):
            if role == "team" and room_id is not None:
                self._add_team_room(session, theme, room_id)
            else:
                setattr(theme, ROOM_FIELDS[role], room_id)
            session.add(theme)

    @staticmethod
    def _add_team_room(session: Session, theme: Theme, room_id: str) -> None:
        if theme.team_room is None:
            theme.team_room = room_id
            return
        if theme.team_room == room_id:
            return
        known = session.exec(
            select(TeamRoom).where(TeamRoom.theme_id == theme.id, TeamRoom.room_id == room_id)
        ).first()
        if known is None:
            assert theme.id is not None
            session.add(TeamRoom(theme_id=theme.id, room_id=room_id))

    def unbind_room_everywhere(
        self, theme_id: int, room_id: str, *, actor: str, now: datetime
    ) -> list[str]:
        """Remove `room_id` from every role of the theme; the roles it had."""
        roles: list[str] = []
        with self._change(theme_id, actor, "room_unbound", now, room=room_id) as (session, theme):
            for role, column in ROOM_FIELDS.items():
                if getattr(theme, column) == room_id:
                    setattr(theme, column, None)
                    roles.append(role)
            further = session.exec(
                select(TeamRoom).where(TeamRoom.theme_id == theme_id).order_by(TeamRoom.id)  # type: ignore[arg-type]
            ).all()
            for row in further:
                if row.room_id == room_id:
                    session.delete(row)
                    if "team" not in roles:
                        roles.append("team")
            if theme.team_room is None:  # the next team room becomes the first
                successor = next((r for r in further if r.room_id != room_id), None)
                if successor is not None:
                    theme.team_room = successor.room_id
                    session.delete(successor)
            session.add(theme)
        return roles

    # The team: department, contact, Kernteam ---------------------------------------------

    def set_department(
        self, theme_id: int, department: str | None, *, actor: str, now: datetime
    ) -> None:
        with self._change(theme_id, actor, "department", now, department=department) as (
            session,
            theme,
        ):
            theme.department = department
            session.add(theme)

    def set_contact(self, theme_id: int, contact: str | None, *, actor: str, now: datetime) -> None:
        with self._change(theme_id, actor, "contact", now, contact=contact) as (session, theme):
            theme.contact = contact
            session.add(theme)

    def add_core_team(
        self, theme_id: int, users: Sequence[str], *, actor: str, now: datetime
    ) -> list[str]:
        """Add people to the Kernteam; the ones that were not in it yet."""
        return self._add_people(CoreTeamMember, theme_id, users, actor, now, "core_team_added")

    def remove_core_team(
        self, theme_id: int, users: Sequence[str], *, actor: str, now: datetime
    ) -> list[str]:
        """Remove people from the Kernteam; the ones that were in it."""
        return self._remove_people(CoreTeamMember, theme_id, users, actor, now, "core_team_removed")

    def participants(self, theme_id: int) -> list[str]:
        """The Z2 participants a coordinator named (`!zt teilnehmende`), in that order."""
        with self.reading() as session:
            return list(
                session.exec(
                    select(ThemeParticipant.user_id)
                    .where(ThemeParticipant.theme_id == theme_id)
                    .order_by(ThemeParticipant.id)  # type: ignore[arg-type]
                )
            )

    def participants_of(self, theme_ids: Sequence[int]) -> dict[int, list[str]]:
        """The named Z2 participants of many themes (for the plan file)."""
        found: dict[int, list[str]] = defaultdict(list)
        with self.reading() as session:
            for chunk in _chunks(list(theme_ids)):
                rows = session.exec(
                    select(ThemeParticipant.theme_id, ThemeParticipant.user_id)
                    .where(ThemeParticipant.theme_id.in_(chunk))  # type: ignore[attr-defined]
                    .order_by(ThemeParticipant.id)  # type: ignore[arg-type]
                )
                for theme_id, user_id in rows:
                    found[theme_id].append(user_id)
        return dict(found)

    def add_participants(
        self, theme_id: int, users: Sequence[str], *, actor: str, now: datetime
    ) -> list[str]:
        """Name people as Z2 participants; the ones that were not named yet."""
        return self._add_people(ThemeParticipant, theme_id, users, actor, now, "participants_added")

    def remove_participants(
        self, theme_id: int, users: Sequence[str], *, actor: str, now: datetime
    ) -> list[str]:
        """No longer name people as Z2 participants; the ones that were named."""
        return self._remove_people(
            ThemeParticipant, theme_id, users, actor, now, "participants_removed"
        )

    def _add_people(
        self,
        table: type[CoreTeamMember] | type[ThemeParticipant],
        theme_id: int,
        users: Sequence[str],
        actor: str,
        now: datetime,
        action: str,
    ) -> list[str]:
        with self._change(theme_id, actor, action, now, users=list(users)) as (session, _):
            known = set(session.exec(select(table.user_id).where(table.theme_id == theme_id)))
            added = [user for user in dict.fromkeys(users) if user not in known]
            for user in added:
                session.add(table(theme_id=theme_id, user_id=user))
        return added

    def _remove_people(
        self,
        table: type[CoreTeamMember] | type[ThemeParticipant],
        theme_id: int,
        users: Sequence[str],
        actor: str,
        now: datetime,
        action: str,
    ) -> list[str]:
        with self._change(theme_id, actor, action, now, users=list(users)) as (session, _):
            rows = session.exec(
                select(table).where(
                    table.theme_id == theme_id,
                    table.user_id.in_(list(users)),  # type: ignore[attr-defined]
                )
            ).all()
            removed = [row.user_id for row in rows]
            for row in rows:
                session.delete(row)
        return removed

    def rename(self, theme_id: int, new_name: str, *, actor: str, now: datetime) -> None:
        with self.reading() as session:
            clash = session.exec(select(Theme).where(Theme.name_key == fold(new_name))).first()
            if clash is not None and clash.id != theme_id:
                raise ThemeExists(clash.name)
        with self._change(theme_id, actor, "renamed", now, name=new_name) as (session, theme):
            theme.name = new_name
            theme.name_key = fold(new_name)
            session.add(theme)

    def set_status(
        self, theme_id: int, status: ThemeStatus, *, actor: str, now: datetime, action: str
    ) -> None:
        with self._change(theme_id, actor, action, now) as (session, theme):
            theme.status = status
            session.add(theme)

    def delete_theme(self, theme_id: int) -> None:
        """Remove a theme created by mistake; its steps and history go with it (ON DELETE
        CASCADE in the schema)."""
        with self.session() as session:
            deleted = session.execute(sa.delete(Theme).where(Theme.id == theme_id))
            if deleted.rowcount == 0:
                raise ThemeGone(theme_id)
            session.commit()

    def history(self, theme_id: int, limit: int = 50) -> list[History]:
        with self.reading() as session:
            rows = session.exec(
                select(HistoryEntry)
                .where(HistoryEntry.theme_id == theme_id)
                .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())  # type: ignore[attr-defined]
                .limit(limit)
            )
            return [History(utc(r.at), r.actor, r.action, json.loads(r.detail)) for r in rows]

    # Council meetings -------------------------------------------------------------------

    def council_meetings(self) -> list[date]:
        with self.reading() as session:
            return list(session.exec(select(CouncilMeeting.day).order_by(CouncilMeeting.day)))

    def add_council_meeting(self, day: date, actor: str) -> bool:
        """False when the date is known already."""
        with self.session() as session:
            if session.exec(select(CouncilMeeting).where(CouncilMeeting.day == day)).first():
                return False
            session.add(CouncilMeeting(day=day, added_by=actor))
            try:
                session.commit()
            except sa.exc.IntegrityError:
                return False
            return True

    def remove_council_meeting(self, day: date) -> bool:
        with self.session() as session:
            row = session.exec(select(CouncilMeeting).where(CouncilMeeting.day == day)).first()
            if row is None:
                return False
            session.delete(row)
            session.commit()
            return True

    def create_theme(
        self,
        *,
        name: str,
        z2: date | None,
        planned_quarter: str | None,
        team_room: str | None,
        template: ProcessTemplate,
        planned: Sequence[PlannedStep],
        created_by: str,
        now: datetime,
    ) -> ThemeView:
        new = NewTheme(name, z2, planned_quarter, team_room, template, planned)
        with self.session() as session:
            theme = self._insert_theme(session, new, created_by, now)
            session.commit()
            return views_of(session, [theme])[0]

    def apply_plan(
        self,
        creates: Sequence[NewTheme],
        updates: Sequence[ThemeUpdate],
        *,
        actor: str,
        now: datetime,
        progress: Callable[[int, int], None] | None = None,
    ) -> None:
        """An imported annual plan: every creation and update in one transaction, so a
        clash half-way (ThemeExists, ThemeGone) leaves nothing behind."""
        total = len(creates) + len(updates)
        with self.session() as session:  # leaving without commit rolls everything back
            for done, new in enumerate(creates, start=1):
                self._insert_theme(session, new, actor, now, source="import")
                if progress:
                    progress(done, total)
            for done, update in enumerate(updates, start=len(creates) + 1):
                self._apply_update(session, update, actor, now)
                if progress:
                    progress(done, total)
            session.commit()

    def _insert_theme(
        self, session: Session, new: NewTheme, actor: str, now: datetime, **detail: object
    ) -> Theme:
        existing = session.exec(select(Theme).where(Theme.name_key == fold(new.name))).first()
        if existing is not None:
            raise ThemeExists(existing.name)
        theme = Theme(
            name=new.name,
            name_key=fold(new.name),
            z2=new.z2,
            planned_quarter=new.planned_quarter,
            status=ThemeStatus.active if new.z2 else ThemeStatus.idea,
            team_room=new.team_room,
            department=new.department,
            contact=new.contact,
            process_json=(process := new.template.to_json()),
            process_digest=process_digest(process),
            created_by=actor,
            created_at=utc(now),
        )
        session.add(theme)
        try:
            session.flush()
        except sa.exc.IntegrityError as err:  # a concurrent create of the same name
            session.rollback()
            raise ThemeExists(new.name) from err
        assert theme.id is not None
        self._add_steps(session, theme.id, new.planned)
        for user in dict.fromkeys(new.core_team):
            session.add(CoreTeamMember(theme_id=theme.id, user_id=user))
        for user in dict.fromkeys(new.participants):
            session.add(ThemeParticipant(theme_id=theme.id, user_id=user))
        record_history(
            session,
            theme.id,
            actor,
            now,
            "created",
            z2=new.z2,
            quarter=new.planned_quarter,
            **detail,
        )
        return theme

    def _apply_update(
        self, session: Session, update: ThemeUpdate, actor: str, now: datetime
    ) -> None:
        theme = session.get(Theme, update.theme_id)
        if theme is None:
            raise ThemeGone(update.theme_id)
        if update.z2 is not None:
            theme.z2 = update.z2
            if theme.status == ThemeStatus.idea:  # a paused or archived theme stays so
                theme.status = ThemeStatus.active
            theme.created_at = utc(now)  # steps from now on: nothing earlier was missed
            self._add_steps(session, update.theme_id, update.planned)
            record_history(
                session, update.theme_id, actor, now, "scheduled", z2=update.z2, source="import"
            )
        if update.team_room is not None:
            theme.team_room = update.team_room
            record_history(
                session,
                update.theme_id,
                actor,
                now,
                "room_bound",
                role="team",
                room=update.team_room,
            )
        if update.department is not None:
            theme.department = update.department
            record_history(
                session, update.theme_id, actor, now, "department", department=update.department
            )
        if update.contact is not None:
            theme.contact = update.contact
            record_history(session, update.theme_id, actor, now, "contact", contact=update.contact)
        for user in dict.fromkeys(update.core_team):
            session.add(CoreTeamMember(theme_id=update.theme_id, user_id=user))
        if update.core_team:
            record_history(
                session,
                update.theme_id,
                actor,
                now,
                "core_team_added",
                users=list(update.core_team),
            )
        self._add_participants(session, update.theme_id, update.participants, actor, now)
        session.add(theme)

    @staticmethod
    def _add_participants(
        session: Session, theme_id: int, users: Sequence[str], actor: str, now: datetime
    ) -> None:
        known = set(
            session.exec(
                select(ThemeParticipant.user_id).where(ThemeParticipant.theme_id == theme_id)
            )
        )
        added = [user for user in dict.fromkeys(users) if user not in known]
        for user in added:
            session.add(ThemeParticipant(theme_id=theme_id, user_id=user))
        if added:
            record_history(session, theme_id, actor, now, "participants_added", users=added)

    @staticmethod
    def _add_steps(session: Session, theme_id: int, planned: Sequence[PlannedStep]) -> None:
        for position, step in enumerate(planned):
            session.add(Step(theme_id=theme_id, key=step.key, position=position, due=step.due))

    def reminder_rows(self, keys: Sequence[str]) -> dict[str, ReminderLog]:
        if not keys:
            return {}
        with self.reading() as session:
            rows = session.exec(
                select(ReminderLog).where(ReminderLog.key.in_(list(keys)))  # type: ignore[attr-defined]
            )
            return {row.key: row for row in rows}

    def record_pending(self, row: ReminderLog) -> bool:
        """Write the pending row before the send; False when it exists already."""
        self.failpoints.hit("reminder_pending")
        with self.session() as session:
            session.add(row)
            try:
                session.commit()
            except sa.exc.IntegrityError:
                return False
            return True

    def mark_sent(self, key: str, event_id: str, now: datetime) -> None:
        with self.session() as session:
            row = session.exec(select(ReminderLog).where(ReminderLog.key == key)).first()
            if row is not None:
                row.status = "sent"
                row.event_id = event_id
                row.sent_at = utc(now)
                session.add(row)
                session.commit()

    def sent_reminders(self, theme_id: int | None = None) -> list[ReminderLog]:
        with self.reading() as session:
            query = select(ReminderLog).where(ReminderLog.status == "sent")
            if theme_id is not None:
                query = query.where(ReminderLog.theme_id == theme_id)
            return list(session.exec(query.order_by(ReminderLog.id)))
