"""A theme as the domain sees it: its record, its steps and who is responsible for them.

Plain values: the store builds them from its tables (bot.store.themes), so
that nothing in the domain depends on how they are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from functools import lru_cache

from bot.domain.documents import StepDocument
from bot.domain.papers import LinkedPaper
from bot.domain.process import ProcessTemplate


class ThemeStatus(StrEnum):
    active = "active"
    idea = "idea"  # planned for a quarter, no Z2 yet
    paused = "paused"
    archived = "archived"


class StepState(StrEnum):
    open = "open"
    done = "done"
    skipped = "skipped"
    # An optional step nobody marked after its date and its follow-up: "entfallen".
    lapsed = "lapsed"


# States in which a step needs nothing more: it is neither due nor overdue.
SETTLED_STATES = frozenset({StepState.done, StepState.skipped, StepState.lapsed})


# The roles a room can have for a theme, and the record field that holds each.
ROOM_ROLES = ("team", "buergerdialog", "z2")
ROOM_FIELDS = {"team": "team_room", "buergerdialog": "buergerdialog_room", "z2": "z2_room"}


@dataclass(frozen=True, kw_only=True)
class ThemeRecord:
    id: int | None = None
    name: str
    # The folded name (theme_names.fold): one theme per spelling, whatever the umlauts.
    name_key: str
    z2: date | None = None
    planned_quarter: str | None = None
    status: str = ThemeStatus.active
    team_room: str | None = None
    buergerdialog_room: str | None = None
    z2_room: str | None = None
    # The digital participation window when moved by hand (None: from Z2, as the process
    # says; domain.participation.window).
    participation_start: date | None = None
    participation_end: date | None = None
    # The step definitions the theme was created with (ProcessTemplate as JSON).
    process_json: str
    created_by: str
    created_at: datetime
    # The leading department (Fachbereich), a contact, the Kernteam (Matrix user ids)
    # and the team rooms besides the first one (`team_room`).
    department: str | None = None
    contact: str | None = None
    core_team: tuple[str, ...] = ()
    extra_team_rooms: tuple[str, ...] = ()
    # Shown on the public page (`!zt öffentlich`, issue 24), and the digital
    # participation's own page, linked there (`!zt beteiligung … link`).
    public: bool = False
    participation_link: str | None = None

    @property
    def team_rooms(self) -> tuple[str, ...]:
        """Every team room, the first one bound first: each hears the Fachbereich."""
        first = (self.team_room,) if self.team_room else ()
        return first + tuple(r for r in self.extra_team_rooms if r != self.team_room)


@dataclass(frozen=True, kw_only=True)
class StepRecord:
    id: int | None = None
    theme_id: int
    key: str
    position: int
    due: date
    pinned: bool = False
    state: str = StepState.open
    done_on: date | None = None
    done_by: str | None = None
    note: str | None = None
    # A meeting's time (wall clock in the city's zone) and place (issue 21): None for a
    # day-long step, as every step was before.
    starts_at: time | None = None
    ends_at: time | None = None
    place: str | None = None


@lru_cache(maxsize=512)
def template_of(process_json: str) -> ProcessTemplate:
    """A theme's stored template, parsed once per distinct copy (themes share copies)."""
    return ProcessTemplate.from_json(process_json)


@dataclass(frozen=True)
class ThemeView:
    """A theme with its steps, the people responsible for them, and its paper."""

    theme: ThemeRecord
    steps: tuple[StepRecord, ...]
    responsible: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # The Beschlussvorlage linked with `!zt vorlage`, as last read.
    paper: LinkedPaper | None = None
    # Links on the steps (`!zt dokument`), by step key, in the order they were added.
    documents: Mapping[str, tuple[StepDocument, ...]] = field(default_factory=dict)

    @property
    def template(self) -> ProcessTemplate:
        return template_of(self.theme.process_json)

    @property
    def id(self) -> int:
        assert self.theme.id is not None
        return self.theme.id

    def step(self, key: str) -> StepRecord | None:
        folded = key.casefold()
        return next((step for step in self.steps if step.key.casefold() == folded), None)

    def documents_of(self, key: str) -> tuple[StepDocument, ...]:
        return self.documents.get(key, ())

    def room(self, role: str) -> str | None:
        return getattr(self.theme, ROOM_FIELDS[role])

    @property
    def rooms(self) -> tuple[str, ...]:
        """Every room bound to the theme (whose members may mark its steps)."""
        bound = [room for role in ROOM_ROLES if (room := self.room(role))]
        return tuple(dict.fromkeys([*bound, *self.theme.extra_team_rooms]))
