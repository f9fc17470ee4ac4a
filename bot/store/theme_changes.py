"""The store's changes to themes: each in one transaction with its history entry."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, time

import sqlalchemy as sa
from sqlmodel import Session, select

from bot.domain.process import ProcessTemplate
from bot.domain.theme_names import fold
from bot.domain.themes import (
    ROOM_FIELDS,
    StepState,
    ThemeStatus,
    ThemeView,
)
from bot.domain.timeline import PlannedStep
from bot.store.database import Database, utc
from bot.store.tables import (
    CoreTeamMember,
    CouncilMeeting,
    Responsibility,
    Step,
    TeamRoom,
    Theme,
    ThemeParticipant,
)
from bot.store.theme_queries import process_digest, views_of
from bot.store.theme_records import (
    NewTheme,
    ThemeExists,
    ThemeGone,
    ThemeUpdate,
    record_history,
)


class ThemeChanges(Database):
    """Changing themes (a part of Store)."""

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

    def set_meeting_time(
        self,
        theme_id: int,
        key: str,
        starts: time | None,
        ends: time | None,
        *,
        actor: str,
        now: datetime,
    ) -> None:
        """A meeting's time on its day (None: the whole day again); its history entry
        raises the feeds' SEQUENCE."""
        detail = {"step": key, "starts": starts, "ends": ends}
        with self._change(theme_id, actor, "meeting_time", now, **detail) as (session, _):
            step = self._steps(session, theme_id)[key]
            step.starts_at, step.ends_at = starts, ends
            session.add(step)

    def set_meeting_place(
        self, theme_id: int, key: str, place: str | None, *, actor: str, now: datetime
    ) -> None:
        """A meeting's place (a room, an address, a video link; None: none)."""
        with self._change(theme_id, actor, "meeting_place", now, step=key, place=place) as (
            session,
            _,
        ):
            step = self._steps(session, theme_id)[key]
            step.place = place
            session.add(step)

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

    def set_public(self, theme_id: int, public: bool, *, actor: str, now: datetime) -> None:
        """On or off the public page (issue 24); the history says who and when."""
        with self._change(theme_id, actor, "public", now, public=public) as (session, theme):
            theme.public = public
            session.add(theme)

    def set_participation_link(
        self, theme_id: int, link: str | None, *, actor: str, now: datetime
    ) -> None:
        with self._change(theme_id, actor, "participation_link", now, link=link) as (
            session,
            theme,
        ):
            theme.participation_link = link
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
