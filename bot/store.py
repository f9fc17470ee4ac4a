"""The store: the only code that speaks SQL. The database is the source of truth."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlmodel import Session, select

from bot.models import Step, StepState, Theme, ThemeStatus
from bot.names import fold
from bot.process import ProcessTemplate
from bot.schedule import PlannedStep


class ThemeExists(ValueError):
    def __init__(self, existing: str) -> None:
        super().__init__(existing)
        self.existing = existing


@dataclass(frozen=True)
class ThemeView:
    """A theme with its steps, detached from any session."""

    theme: Theme
    steps: tuple[Step, ...]

    @property
    def template(self) -> ProcessTemplate:
        return ProcessTemplate.from_json(self.theme.process_json)


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    # WAL: readers do not block the writer; busy_timeout rides out a concurrent writer.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        database = sa.make_url(url).database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        engine = sa.create_engine(url, connect_args={"check_same_thread": False})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def alembic_config(connection: sa.Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(resources.files("bot") / "migrations"))
    config.attributes["connection"] = connection
    return config


class Store:
    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)

    def upgrade(self, revision: str = "head") -> None:
        """Bring the schema to `revision` (Alembic); applied at every start."""
        with self.engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    # Themes -----------------------------------------------------------------------------

    def theme_names(self) -> list[str]:
        with self.session() as session:
            return list(session.exec(select(Theme.name).order_by(Theme.name)))

    def themes(self, *, include_archived: bool = False) -> list[ThemeView]:
        with self.session() as session:
            query = select(Theme)
            if not include_archived:
                query = query.where(Theme.status != ThemeStatus.archived)
            themes = session.exec(query.order_by(Theme.z2, Theme.name)).all()
            return [self._view(session, theme) for theme in themes]

    def theme(self, name: str) -> ThemeView | None:
        with self.session() as session:
            theme = session.exec(select(Theme).where(Theme.name_key == fold(name))).first()
            return None if theme is None else self._view(session, theme)

    @staticmethod
    def _view(session: Session, theme: Theme) -> ThemeView:
        steps = session.exec(
            select(Step).where(Step.theme_id == theme.id).order_by(Step.position)
        ).all()
        return ThemeView(theme, tuple(steps))

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
        with self.session() as session:
            existing = session.exec(select(Theme).where(Theme.name_key == fold(name))).first()
            if existing is not None:
                raise ThemeExists(existing.name)
            theme = Theme(
                name=name,
                name_key=fold(name),
                z2=z2,
                planned_quarter=planned_quarter,
                status=ThemeStatus.active if z2 else ThemeStatus.idea,
                team_room=team_room,
                process_json=template.to_json(),
                created_by=created_by,
                created_at=now,
            )
            session.add(theme)
            try:
                session.flush()
            except sa.exc.IntegrityError as err:  # a concurrent create of the same name
                session.rollback()
                raise ThemeExists(name) from err
            for position, step in enumerate(planned):
                session.add(
                    Step(
                        theme_id=theme.id,
                        key=step.key,
                        position=position,
                        due=step.due,
                        state=StepState.open,
                    )
                )
            session.commit()
            return self._view(session, theme)
