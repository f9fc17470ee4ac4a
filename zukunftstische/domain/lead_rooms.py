"""Which room hears about a step: its leads mapped to rooms. Pure.

Fachbereich → the theme's team room (the coordination room until one is bound);
Koordination → the coordination room; Bürgerdialog → the theme's citizen dialogue room,
else the configured one. A lead whose room is unknown falls back to the team room, then
the coordination room. Several leads in one room make one message there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from zukunftstische.domain.process import Lead


@dataclass(frozen=True)
class RoomSetup:
    team: str | None
    coordination: str | None
    citizen_dialogue: str | None


@dataclass(frozen=True)
class Addressee:
    room_id: str
    leads: tuple[Lead, ...]


class ThemeRooms(Protocol):
    team_room: str | None
    buergerdialog_room: str | None


class ConfiguredRooms(Protocol):
    koordination: str | None
    buergerdialog: str | None


def setup_for(configured: ConfiguredRooms, theme: ThemeRooms | None) -> RoomSetup:
    """The rooms of a theme (None: no theme, e.g. the digest) under the configured rooms."""
    return RoomSetup(
        team=theme.team_room if theme else None,
        coordination=configured.koordination,
        citizen_dialogue=(theme.buergerdialog_room if theme else None) or configured.buergerdialog,
    )


def room_for(lead: Lead, rooms: RoomSetup) -> str | None:
    preferred = {
        Lead.fachbereich: rooms.team or rooms.coordination,
        Lead.koordination: rooms.coordination,
        Lead.buergerdialog: rooms.citizen_dialogue,
    }[lead]
    return preferred or rooms.team or rooms.coordination


def addressees(leads: Sequence[Lead], rooms: RoomSetup) -> list[Addressee]:
    """One addressee per room, in the order of the leads."""
    by_room: dict[str, list[Lead]] = {}
    for lead in leads:
        room = room_for(lead, rooms)
        if room is not None:
            by_room.setdefault(room, []).append(lead)
    return [Addressee(room, tuple(found)) for room, found in by_room.items()]


def room_role(room_id: str, rooms: RoomSetup) -> str:
    """The room's role ("team", "koordination", "buergerdialog"; the templates name it),
    else its id."""
    if room_id == rooms.team:
        return "team"
    if room_id == rooms.coordination:
        return "koordination"
    if room_id == rooms.citizen_dialogue:
        return "buergerdialog"
    return room_id
