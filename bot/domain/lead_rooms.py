"""Which room hears about a step: its leads mapped to rooms. Pure.

Fachbereich → every team room of the theme (the coordination room until one is bound);
Koordination → the coordination room; Bürgerdialog → the theme's citizen dialogue room,
else the configured one. A lead whose room is unknown falls back to the team room, then
the coordination room. Several leads in one room make one message there.
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

    @property
    def teams(self) -> tuple[str, ...]:
        first = (self.team,) if self.team else ()
        return first + tuple(room for room in self.more_teams if room != self.team)


@dataclass(frozen=True)
class Addressee:
    room_id: str
    leads: tuple[Lead, ...]


class ThemeRooms(Protocol):
    team_room: str | None
    buergerdialog_room: str | None

    @property
    def team_rooms(self) -> tuple[str, ...]: ...


class ConfiguredRooms(Protocol):
    koordination: str | None
    buergerdialog: str | None


def setup_for(configured: ConfiguredRooms, theme: ThemeRooms | None) -> RoomSetup:
    """The rooms of a theme (None: no theme, e.g. the digest) under the configured rooms."""
    return RoomSetup(
        team=theme.team_room if theme else None,
        coordination=configured.koordination,
        citizen_dialogue=(theme.buergerdialog_room if theme else None) or configured.buergerdialog,
        more_teams=tuple(theme.team_rooms[1:]) if theme else (),
    )


def room_for(lead: Lead, rooms: RoomSetup) -> str | None:
    preferred = {
        Lead.fachbereich: rooms.team or rooms.coordination,
        Lead.koordination: rooms.coordination,
        Lead.buergerdialog: rooms.citizen_dialogue,
    }[lead]
    return preferred or rooms.team or rooms.coordination


def rooms_for(lead: Lead, rooms: RoomSetup) -> tuple[str, ...]:
    """Every room that hears a lead: the Fachbereich in each team room."""
    if lead is Lead.fachbereich and rooms.teams:
        return rooms.teams
    room = room_for(lead, rooms)
    return (room,) if room is not None else ()


def addressees(leads: Sequence[Lead], rooms: RoomSetup) -> list[Addressee]:
    """One addressee per room, in the order of the leads."""
    by_room: dict[str, list[Lead]] = {}
    for lead in leads:
        for room in rooms_for(lead, rooms):
            by_room.setdefault(room, []).append(lead)
    return [Addressee(room, tuple(found)) for room, found in by_room.items()]


def room_role(room_id: str, rooms: RoomSetup) -> str:
    """The room's role ("team", "koordination", "buergerdialog"; the templates name it),
    else its id."""
    if room_id in rooms.teams:
        return "team"
    if room_id == rooms.coordination:
        return "koordination"
    if room_id == rooms.citizen_dialogue:
        return "buergerdialog"
    return room_id
