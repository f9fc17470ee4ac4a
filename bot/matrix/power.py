"""Who may do what in a room: power levels, with the creators of room version 12. Pure.

Since room version 12 (MSC4289) the room's creators, the sender of `m.room.create` and the
users in its `additional_creators`, outrank every power level and are not listed in
`m.room.power_levels`; a client that reads only that event sees them at `users_default`.
Before version 12 the creator's power is whatever the power-levels event gives them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Room versions whose creators have infinite power: 12 and every later one, and the
# unstable identifier under which Synapse shipped the rule before it was numbered.
_PRIVILEGED_CREATOR_VERSIONS = frozenset({"org.matrix.hydra.11"})
FIRST_PRIVILEGED_CREATOR_VERSION = 12
# What a power-levels event leaves out (the spec's defaults).
DEFAULT_REDACT = 50
DEFAULT_STATE = 50


def creators_outrank_everyone(room_version: str) -> bool:
    if room_version in _PRIVILEGED_CREATOR_VERSIONS:
        return True
    return room_version.isdigit() and int(room_version) >= FIRST_PRIVILEGED_CREATOR_VERSION


@dataclass(frozen=True)
class RoomCreation:
    """What the room's `m.room.create` event says about power."""

    room_version: str
    creators: frozenset[str]

    @property
    def creators_outrank_everyone(self) -> bool:
        return creators_outrank_everyone(self.room_version)


def creation_from_event(event: Mapping[str, Any]) -> RoomCreation | None:
    """The creation facts of a raw `m.room.create` event; None if it is not one."""
    if event.get("type") != "m.room.create" or event.get("state_key", "") != "":
        return None
    content = event.get("content")
    sender = event.get("sender")
    if not isinstance(content, Mapping) or not isinstance(sender, str):
        return None
    version = content.get("room_version", "1")
    extra = content.get("additional_creators", [])
    others = extra if isinstance(extra, list) else []
    creators = frozenset([sender, *(user for user in others if isinstance(user, str))])
    return RoomCreation(str(version), creators)


@dataclass(frozen=True)
class RoomPower:
    """The power levels of a room as they stand, with its creation facts where known."""

    creation: RoomCreation | None = None
    users: Mapping[str, int] = field(default_factory=dict)
    users_default: int = 0
    events: Mapping[str, int] = field(default_factory=dict)
    events_default: int = 0
    state_default: int = DEFAULT_STATE
    redact: int = DEFAULT_REDACT

    def is_creator(self, user_id: str) -> bool:
        return self.creation is not None and user_id in self.creation.creators

    def level(self, user_id: str) -> float:
        """The user's power; infinite for a creator of a room version 12 room."""
        if self.is_creator(user_id) and self.creation and self.creation.creators_outrank_everyone:
            return math.inf
        return self.users.get(user_id, self.users_default)

    def required(self, event_type: str, *, state: bool = False) -> int:
        default = self.state_default if state else self.events_default
        return self.events.get(event_type, default)

    def may_send(self, user_id: str, event_type: str, *, state: bool = False) -> bool:
        return self.level(user_id) >= self.required(event_type, state=state)

    def may_redact_others(self, user_id: str) -> bool:
        """Whether the user may redact other people's events (and so, MSC3381, end their
        polls)."""
        return self.level(user_id) >= self.redact


def power_from_content(
    content: Mapping[str, Any] | None, creation: RoomCreation | None = None
) -> RoomPower:
    """The power of a room from its raw `m.room.power_levels` content (None: no such event,
    where the creator has 100 and everyone else 0)."""
    if content is None:
        users = dict.fromkeys(creation.creators, 100) if creation else {}
        return RoomPower(creation, users, state_default=0)
    return RoomPower(
        creation,
        users=_levels(content.get("users")),
        users_default=_int(content.get("users_default"), 0),
        events=_levels(content.get("events")),
        events_default=_int(content.get("events_default"), 0),
        state_default=_int(content.get("state_default"), DEFAULT_STATE),
        redact=_int(content.get("redact"), DEFAULT_REDACT),
    )


def _int(value: object, default: int) -> int:
    # Older room versions allow levels as strings of digits.
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return int(value)
    return default


def _levels(value: object) -> dict[str, int]:
    if not isinstance(value, Mapping):
        return {}
    return {str(key): _int(level, 0) for key, level in value.items()}
