"""The store's reads of themes: views of a theme with its steps, people and paper (in
batches, as columns), names, pages and counts, the themes near a day or of a year."""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import fields
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.domain.annual_plan import PlannedTheme
from bot.domain.documents import StepDocument
from bot.domain.reminder_policy import Near
from bot.domain.theme_names import fold
from bot.domain.themes import (
    StepRecord,
    StepState,
    ThemeRecord,
    ThemeStatus,
    ThemeView,
    template_of,
)
from bot.store.database import Database, utc
from bot.store.name_index import StoredNames
from bot.store.tables import (
    CoreTeamMember,
    CouncilMeeting,
    HistoryEntry,
    Responsibility,
    Step,
    StepDocumentRow,
    TeamRoom,
    Theme,
    ThemePaper,
    ThemeParticipant,
)
from bot.store.theme_records import History, chunks, document_record, paper_record

# Z2 dates within this distance of a year can put a theme into that year's plan (an ISO
# week at the turn of the year belongs to both).
_YEAR_SPILL = timedelta(days=7)


def views_of(session: Session, themes: Iterable[Theme]) -> list[ThemeView]:
    """The views of many themes in a few queries (steps, people, papers, Kernteam and team
    rooms in batches), instead of five queries per theme."""
    return _views(session, [{name: getattr(t, name) for name in _THEME_FIELDS} for t in themes])


def _views(session: Session, themes: Sequence[dict[str, Any]]) -> list[ThemeView]:
    """The views of themes given as their rows' fields (ThemeRecord's, in a dict)."""
    ids = [theme["id"] for theme in themes if theme["id"] is not None]
    steps: dict[int, list[StepRecord]] = defaultdict(list)
    people: dict[int, list[tuple[int, str]]] = defaultdict(list)
    papers: dict[int, Any] = {}
    core_team: dict[int, list[str]] = defaultdict(list)
    team_rooms: dict[int, list[str]] = defaultdict(list)
    documents: dict[int, dict[str, list[StepDocument]]] = defaultdict(dict)
    # Core statements built once, on the session's connection: building the statements
    # and the ORM's execution were most of the time of reading one theme.
    connection = session.connection()
    for chunk in chunks(ids):
        ids_of = {"ids": list(chunk)}
        for row in connection.execute(_STEPS_OF, ids_of).all():
            step = _step_record(row)
            steps[step.theme_id].append(step)
        for theme_id, step_id, user_id in connection.execute(_PEOPLE_OF, ids_of).all():
            people[theme_id].append((step_id, user_id))
        for paper in connection.execute(_PAPERS_OF, ids_of).all():
            papers[paper.theme_id] = paper
        for theme_id, user_id in connection.execute(_CORE_TEAM_OF, ids_of).all():
            core_team[theme_id].append(user_id)
        for theme_id, room_id in connection.execute(_TEAM_ROOMS_OF, ids_of).all():
            team_rooms[theme_id].append(room_id)
        for document in connection.execute(_DOCUMENTS_OF, ids_of).all():
            documents[document.theme_id].setdefault(document.step_key, []).append(
                document_record(document)
            )
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
            {key: tuple(found) for key, found in documents[theme["id"]].items()},
        )
        for theme in themes
    ]


def _step_record(row: Sequence[Any]) -> StepRecord:
    """A StepRecord filled straight from its row (in StepRecord's field order): the frozen
    dataclass's __init__ sets each field through object.__setattr__, which was most of
    the time of reading a year's 14,000 steps."""
    step = object.__new__(StepRecord)
    step.__dict__.update(zip(_STEP_FIELDS, row, strict=True))
    return step


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
    responsible: Sequence[tuple[int, str]],  # (step id, user id)
    paper: Any,  # a row of theme_paper, or None
    documents: dict[str, tuple[StepDocument, ...]],
) -> ThemeView:
    keys = {step.id: step.key for step in steps}
    people: dict[str, list[str]] = {}
    for step_id, user_id in responsible:
        people.setdefault(keys[step_id], []).append(user_id)
    return ThemeView(
        theme,
        tuple(steps),
        {k: tuple(v) for k, v in people.items()},
        paper_record(paper) if paper is not None else None,
        documents,
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


_THEME_TABLE: sa.Table = Theme.__table__  # type: ignore[attr-defined]
# One theme by its folded name, as a Core statement built once (status, every command
# about one theme).
_THEME_NAMED = sa.select(*(_THEME_TABLE.c[name] for name in _THEME_FIELDS)).where(
    _THEME_TABLE.c.name_key == sa.bindparam("key")
)


_STEP_FIELDS = tuple(field.name for field in fields(StepRecord))


_STEP_COLUMNS = tuple(getattr(Step, name) for name in _STEP_FIELDS)  # in StepRecord's order


def _of_themes(table: sa.Table, *columns: str, order: str = "id") -> sa.Select:
    """A Core statement for these columns of the rows of the themes `:ids` (expanding)."""
    return (
        sa.select(*(table.c[name] for name in columns))
        .where(table.c.theme_id.in_(sa.bindparam("ids", expanding=True)))
        .order_by(table.c[order])
    )


_STEP_TABLE: sa.Table = Step.__table__  # type: ignore[attr-defined]
_STEPS_OF = _of_themes(_STEP_TABLE, *_STEP_FIELDS, order="position")
_RESPONSIBILITY: sa.Table = Responsibility.__table__  # type: ignore[attr-defined]
_PEOPLE_OF = (
    sa.select(_STEP_TABLE.c.theme_id, _RESPONSIBILITY.c.step_id, _RESPONSIBILITY.c.user_id)
    .join_from(_RESPONSIBILITY, _STEP_TABLE, _RESPONSIBILITY.c.step_id == _STEP_TABLE.c.id)
    .where(_STEP_TABLE.c.theme_id.in_(sa.bindparam("ids", expanding=True)))
    .order_by(_RESPONSIBILITY.c.id)
)
_PAPER_TABLE: sa.Table = ThemePaper.__table__  # type: ignore[attr-defined]
_PAPERS_OF = _of_themes(_PAPER_TABLE, *_PAPER_TABLE.c.keys())
_CORE_TEAM_OF = _of_themes(CoreTeamMember.__table__, "theme_id", "user_id")  # type: ignore[attr-defined]
_TEAM_ROOMS_OF = _of_themes(TeamRoom.__table__, "theme_id", "room_id")  # type: ignore[attr-defined]
_DOCUMENT_TABLE: sa.Table = StepDocumentRow.__table__  # type: ignore[attr-defined]
_DOCUMENTS_OF = _of_themes(_DOCUMENT_TABLE, *_DOCUMENT_TABLE.c.keys())


_UNARCHIVED = frozenset(ThemeStatus) - {ThemeStatus.archived}


def _of_year(year: int) -> sa.ColumnElement[bool]:
    """The themes that can appear in `year`'s plan: Z2 near the year, an idea planned
    for it, or an open step due in it."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    open_in_year = select(Step.theme_id).where(
        Step.state == StepState.open,
        Step.due.between(first, last),  # type: ignore[attr-defined]
    )
    return sa.or_(
        Theme.z2.between(first - _YEAR_SPILL, last + _YEAR_SPILL),  # type: ignore[union-attr]
        sa.and_(Theme.z2.is_(None), Theme.planned_quarter.contains(str(year))),  # type: ignore[union-attr]
        Theme.id.in_(open_in_year),  # type: ignore[union-attr]
    )


# What the year plan reads of a theme and of its steps (PlannedTheme).
_YEAR_PLAN_FIELDS = (
    "id", "name", "status", "z2", "planned_quarter", "process_digest", "first_due",
)  # fmt: skip
_FIRST_DUE = (
    sa.select(sa.func.min(Step.due))
    .where(Step.theme_id == Theme.id)
    .correlate(Theme)  # type: ignore[arg-type]
    .scalar_subquery()
)
_YEAR_PLAN_THEMES = select(*(getattr(Theme, name) for name in _YEAR_PLAN_FIELDS[:-1]), _FIRST_DUE)
_YEAR_PLAN_STEPS = select(Step.theme_id, Step.key, Step.due).order_by(
    Step.theme_id,
    Step.position,  # type: ignore[arg-type]
)


def _planned(theme: dict[str, Any], open_steps: Sequence[tuple[str, date]]) -> PlannedTheme:
    return PlannedTheme(
        name=theme["name"],
        status=str(theme["status"]),
        z2=theme["z2"],
        planned_quarter=theme["planned_quarter"],
        template=template_of(theme["process_json"]),
        first_due=theme["first_due"],
        open_steps=tuple(open_steps),
    )


# Themes with a Z2 by date, then the ideas (no Z2) by name: the same on SQLite (which
# sorts NULL first) and PostgreSQL (last).
_BY_Z2 = (Theme.z2.is_(None), Theme.z2, Theme.name)  # type: ignore[union-attr]


def _with_status(statuses: Collection[ThemeStatus] | None) -> sa.ColumnElement[bool]:
    if statuses is None:
        return sa.true()
    return Theme.status.in_([str(status) for status in statuses])  # type: ignore[attr-defined]


class ThemeQueries(Database):
    """Reading themes (a part of Store)."""

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
            for chunk in chunks(sorted(ids)):
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
        return self.views_where(_of_year(year))

    def year_plan_of(self, year: int) -> list[PlannedTheme]:
        """The themes of `year` (as `themes_of_year`) with only what the plan needs: the
        plan of a year with a thousand themes reads the dates of their open steps in
        that year, not their people, papers and documents. Two queries."""
        condition = _of_year(year)
        first, last = date(year, 1, 1), date(year, 12, 31)
        with self.reading() as session:
            connection = session.connection()
            steps: dict[int, list[tuple[str, date]]] = defaultdict(list)
            query = _YEAR_PLAN_STEPS.where(
                Step.state == StepState.open,
                Step.due.between(first, last),  # type: ignore[attr-defined]
                Step.theme_id.in_(select(Theme.id).where(condition)),  # type: ignore[attr-defined]
            )
            for theme_id, key, due in connection.execute(query).all():
                steps[theme_id].append((key, due))
            themes = [
                dict(zip(_YEAR_PLAN_FIELDS, row, strict=True))
                for row in connection.execute(_YEAR_PLAN_THEMES.where(condition)).all()
            ]
            _add_process_texts(session, themes)
        return [_planned(theme, steps[theme["id"]]) for theme in themes]

    def public_themes(self) -> list[ThemeView]:
        """The themes a coordinator made public (`!zt öffentlich`), archived ones too:
        the public page decides what of them a citizen sees."""
        return self.views_where(Theme.public.is_(True))  # type: ignore[attr-defined]

    def theme(self, name: str) -> ThemeView | None:
        with self.reading() as session:
            row = session.connection().execute(_THEME_NAMED, {"key": fold(name)}).first()
            if row is None:
                return None
            return _views(session, [dict(zip(_THEME_FIELDS, row, strict=True))])[0]

    def views_where(
        self,
        condition: sa.ColumnElement[bool],
        *,
        order: Sequence | None = None,
        limit: int | None = None,
    ) -> list[ThemeView]:
        """The views of the themes that meet `condition`, read in batches (the store's
        other modules ask through this too)."""
        with self.reading() as session:
            # Columns, not mapped objects (as for steps in _views): a year's plan reads
            # thousands.
            query = select(*_LISTED_COLUMNS).where(condition).order_by(*(order or _BY_Z2))
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
            for chunk in chunks(list(theme_ids)):
                rows = session.exec(
                    select(ThemeParticipant.theme_id, ThemeParticipant.user_id)
                    .where(ThemeParticipant.theme_id.in_(chunk))  # type: ignore[attr-defined]
                    .order_by(ThemeParticipant.id)  # type: ignore[arg-type]
                )
                for theme_id, user_id in rows:
                    found[theme_id].append(user_id)
        return dict(found)

    def history(self, theme_id: int, limit: int = 50) -> list[History]:
        with self.reading() as session:
            rows = session.exec(
                select(HistoryEntry)
                .where(HistoryEntry.theme_id == theme_id)
                .order_by(HistoryEntry.at.desc(), HistoryEntry.id.desc())  # type: ignore[attr-defined]
                .limit(limit)
            )
            return [History(utc(r.at), r.actor, r.action, json.loads(r.detail)) for r in rows]

    def council_meetings(self) -> list[date]:
        with self.reading() as session:
            return list(session.exec(select(CouncilMeeting.day).order_by(CouncilMeeting.day)))
