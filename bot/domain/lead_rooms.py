"""Which room hears about a step: its leads mapped to rooms, one message per room that acts
on it. Pure.

Fachbereich → every team room of the theme (the coordination room until one is bound);
Koordination → the coordination room; Bürgerdialog → the theme's citizen dialogue room,
else the configured one. A lead without a room of its own hears nothing directly (the
Bürgerdialog is never sent to the team room); a message nobody's room would get goes to
the coordination room. Where a theme has a team room and the Fachbereich leads with the
Koordination, the coordination room hears the step in its weekly digest rather than as a
second copy, unless the city keeps copies (`[reminders] coordination = "all"`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.domain.process import Lead


@dataclass(frozen=True)
class RoomSetup:
    team: str | None
    coordination: str | None
    citizen_dialogue: str | None
    # The team rooms after the first (`team`): each hears the Fachbereich too.
    more_teams: tuple[str, ...] = ()
    # The coordination room gets a copy of what the team rooms get (the old way).
    coordination_copies: bool = False
    # The theme's Z2 room: it hears moved dates and the evaluation, no reminders.
    z2: str | None = None

    @property
    def teams(self) -> tuple[str, ...]:
        first = (self.team,) if self.team else ()
        return first + tuple(room for room in self.more_teams if room != self.team)

    @property
    def fallback(self) -> str | None:
        """Where a message goes that no lead's own room gets."""
        return self.coordination or self.team


@dataclass(frozen=True)
class Addressee:
    room_id: str
    leads: tuple[Lead, ...]


class ThemeRooms(Protocol):
    team_room: str | None
    buergerdialog_room: str | None
    z2_room: str | None

    @property
    def team_rooms(self) -> tuple[str, ...]: ...


class ConfiguredRooms(Protocol):
    koordination: str | None
    buergerdialog: str | None


def setup_for(
    configured: ConfiguredRooms, theme: ThemeRooms | None, *, coordination_copies: bool = False
) -> RoomSetup:
    """The rooms of a theme (None: no theme, e.g. the digest) under the configured rooms."""
    return RoomSetup(
        team=theme.team_room if theme else None,
        coordination=configured.koordination,
        citizen_dialogue=(theme.buergerdialog_room if theme else None) or configured.buergerdialog,
        more_teams=tuple(theme.team_rooms[1:]) if theme else (),
        coordination_copies=coordination_copies,
        z2=theme.z2_room if theme else None,
    )


def own_rooms(lead: Lead, rooms: RoomSetup) -> tuple[str, ...]:
    """The rooms of a lead itself: the Fachbereich in each team room (the coordination
    room while the theme has none), the Bürgerdialog only in its own room."""
    if lead is Lead.fachbereich:
        found = rooms.teams or (rooms.coordination,)
    elif lead is Lead.koordination:
        found = (rooms.coordination,)
    else:
        found = (rooms.citizen_dialogue,)
    return tuple(room for room in found if room)


def addressees(leads: Sequence[Lead], rooms: RoomSetup) -> list[Addressee]:
    """One addressee per room that acts on the step, in the order of the leads."""
    by_room: dict[str, list[Lead]] = {}
    for lead in leads:
        for room in own_rooms(lead, rooms):
            by_room.setdefault(room, []).append(lead)
    hears_in_digest = (
        not rooms.coordination_copies and bool(rooms.teams) and Lead.fachbereich in leads
    )
    if hears_in_digest and rooms.coordination not in rooms.teams:
        by_room.pop(rooms.coordination or "", None)
    if not by_room and rooms.fallback is not None:
        by_room[rooms.fallback] = list(leads)
    return [Addressee(room, tuple(found)) for room, found in by_room.items()]


def citizen_dialogue_unbound(rooms: RoomSetup) -> bool:
    """The Bürgerdialog has no room of its own: its notices go to the coordination room."""
    return rooms.citizen_dialogue is None


def room_role(room_id: str, rooms: RoomSetup) -> str:
    """The room's role ("team", "koordination", "buergerdialog", "z2"; the templates
    name it), else its id."""
    if room_id in rooms.teams:
        return "team"
    if room_id == rooms.coordination:
        return "koordination"
    if room_id == rooms.citizen_dialogue:
        return "buergerdialog"
    if room_id == rooms.z2:
        return "z2"
    return room_id


def theme_rooms(rooms: RoomSetup, *, citizen_dialogue: bool) -> list[str]:
    """Every room that hears of a theme's moved dates: its team rooms, its Z2 room, the
    coordination room, and the Bürgerdialog's where it is concerned."""
    found = [*rooms.teams, rooms.z2, rooms.coordination]
    if citizen_dialogue:
        found.append(rooms.citizen_dialogue)
    return list(dict.fromkeys(room for room in found if room))
