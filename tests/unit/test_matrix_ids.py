"""Matrix identifiers as people paste them (domain.matrix_ids)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain.matrix_ids import (
    RoomRefKind,
    is_room_alias,
    is_room_id,
    is_user_id,
    parse_room_ref,
    parse_user_link,
    room_server,
)

V12 = "!-SiEAHmYreA2x61hKP8x9HorLidGjQHYx45APP1lLY0"
URLSAFE = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


@pytest.mark.parametrize(
    "room_id",
    [V12, "!abc:example.org", "!abc:example.org:8448", "!abc:[::1]:8448", "!x:127.0.0.1"],
)
def test_room_ids_of_every_room_version(room_id: str) -> None:
    assert is_room_id(room_id)
    assert parse_room_ref(room_id).kind is RoomRefKind.id


@pytest.mark.parametrize(
    "text",
    ["abc:example.org", "!", "!abc def:example.org", "#abc:example.org", "!abc:", "!a" * 200],
)
def test_not_room_ids(text: str) -> None:
    assert not is_room_id(text)


def test_server_part_only_in_old_room_ids() -> None:
    assert room_server("!abc:example.org") == "example.org"
    assert room_server(V12) is None


@pytest.mark.parametrize(
    ("pasted", "kind", "value"),
    [
        ("#koordination:example.org", RoomRefKind.alias, "#koordination:example.org"),
        (f"https://matrix.to/#/{V12}?via=example.org", RoomRefKind.id, V12),
        (f"https://matrix.to/#/{V12}/$abc?via=example.org", RoomRefKind.id, V12),
        (f"https://matrix.to/#/%21{V12[1:]}", RoomRefKind.id, V12),
        (
            "https://matrix.to/#/!abc:example.org?via=example.org",
            RoomRefKind.id,
            "!abc:example.org",
        ),
        ("https://matrix.to/#/#zt:example.org", RoomRefKind.alias, "#zt:example.org"),
        ("https://matrix.to/#/%23zt%3Aexample.org", RoomRefKind.alias, "#zt:example.org"),
        (f"matrix:roomid/{V12[1:]}?via=example.org", RoomRefKind.id, V12),
        ("matrix:r/zt:example.org", RoomRefKind.alias, "#zt:example.org"),
        (f"  {V12}  ", RoomRefKind.id, V12),
    ],
)
def test_links_and_aliases(pasted: str, kind: RoomRefKind, value: str) -> None:
    ref = parse_room_ref(pasted)
    assert ref is not None
    assert (ref.kind, ref.value) == (kind, value)


@pytest.mark.parametrize(
    "text",
    [
        "https://example.org/#/!abc:example.org",  # not matrix.to
        "https://matrix.to/#/@anna:example.org",  # a person, not a room
        "matrix:u/anna:example.org",
        "Koordination",
        "",
    ],
)
def test_not_rooms(text: str) -> None:
    assert parse_room_ref(text) is None


def test_user_links() -> None:
    assert parse_user_link("https://matrix.to/#/@anna:example.org") == "@anna:example.org"
    assert parse_user_link("matrix:u/anna:example.org") == "@anna:example.org"
    assert parse_user_link(f"https://matrix.to/#/{V12}") is None
    assert is_user_id("@anna:example.org")
    assert not is_user_id("anna:example.org")
    assert is_room_alias("#a:b") and not is_room_alias("#a")


@given(st.text(alphabet=URLSAFE, min_size=43, max_size=43))
def test_every_room_version_12_id_and_its_link(opaque: str) -> None:
    room_id = f"!{opaque}"
    assert parse_room_ref(room_id).value == room_id
    assert parse_room_ref(f"https://matrix.to/#/{room_id}?via=example.org").value == room_id
