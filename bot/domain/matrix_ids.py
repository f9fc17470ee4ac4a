"""Matrix identifiers as people paste them: room ids of every room version, room aliases,
user ids, and matrix.to or `matrix:` links to them. Pure.

Room version 12 (the default of current Synapse, MSC4291) makes room ids that are the
hash of the create event and carry no server: `!-SiEAHmYreA2x61hKP8x9HorLidGjQHYx45APP1lLY0`.
Older rooms keep `!opaque:server`. Both are room ids; an alias `#name:server` names a room
and is resolved through the homeserver's directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import unquote, urlsplit

# A server name: a DNS name or IPv4 address, or an IPv6 literal, with an optional port.
SERVER_NAME = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?"
# Room ids: `!opaque:server` (room versions 1-11) or `!opaque` (12 and later).
ROOM_ID = rf"^![^\s:/?#]+(?::{SERVER_NAME})?$"
ROOM_ALIAS = rf"^#[^\s:]+:{SERVER_NAME}$"
USER_ID = rf"^@[^\s:]+:{SERVER_NAME}$"
# The spec's limit for every identifier.
MAX_ID_LENGTH = 255

_ROOM_ID = re.compile(ROOM_ID)
_ROOM_ALIAS = re.compile(ROOM_ALIAS)
_USER_ID = re.compile(USER_ID)


class RoomRefKind(StrEnum):
    id = "id"
    alias = "alias"


@dataclass(frozen=True)
class RoomRef:
    """A room as named: by id (usable as it is) or by alias (resolved at start)."""

    kind: RoomRefKind
    value: str

    @property
    def is_alias(self) -> bool:
        return self.kind is RoomRefKind.alias

    def __str__(self) -> str:
        return self.value


def is_room_id(text: str) -> bool:
    return len(text) <= MAX_ID_LENGTH and _ROOM_ID.match(text) is not None


def is_room_alias(text: str) -> bool:
    return len(text) <= MAX_ID_LENGTH and _ROOM_ALIAS.match(text) is not None


def is_user_id(text: str) -> bool:
    return len(text) <= MAX_ID_LENGTH and _USER_ID.match(text) is not None


def room_server(room_id: str) -> str | None:
    """The server part of an old-style room id; None for room version 12 ids."""
    return room_id.split(":", 1)[1] if ":" in room_id else None


def _link_target(text: str) -> str | None:
    """What a matrix.to link (`https://matrix.to/#/!id?via=…`, `…/#/#alias:server`,
    `…/#/!id/$event`) or a `matrix:` URI (`matrix:roomid/id`, `matrix:r/alias:server`)
    points at, percent-decoded; None when `text` is not such a link."""
    if text.startswith("matrix:"):
        path = urlsplit(text).path
        kind, _, rest = path.partition("/")
        target = unquote(rest.split("/", 1)[0])
        prefix = {"roomid": "!", "r": "#", "u": "@"}.get(kind)
        return prefix + target if prefix and target else None
    parts = urlsplit(text)
    if parts.scheme not in ("https", "http") or parts.netloc.casefold() != "matrix.to":
        return None
    # The fragment holds the identifier, then an optional `/$event` and `?via=…`; the
    # sigil may come percent-encoded (`%21`, `%23`).
    fragment = parts.fragment.removeprefix("/").split("?", 1)[0]
    return unquote(fragment).split("/", 1)[0] or None


def parse_room_ref(text: str) -> RoomRef | None:
    """A room id, an alias, or a link to either, as pasted from a client; None otherwise."""
    candidate = text.strip()
    target = _link_target(candidate)
    if target is not None:
        candidate = target
    if is_room_id(candidate):
        return RoomRef(RoomRefKind.id, candidate)
    if is_room_alias(candidate):
        return RoomRef(RoomRefKind.alias, candidate)
    return None


def parse_user_link(text: str) -> str | None:
    """A user id from a matrix.to link or `matrix:u/` URI (a pill), or None."""
    target = _link_target(text.strip())
    return target if target is not None and is_user_id(target) else None
