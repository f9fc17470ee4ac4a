"""Power in a room, with the creators of room version 12 (matrix.power)."""

from __future__ import annotations

import math

import pytest

from bot.matrix.power import (
    RoomCreation,
    creation_from_event,
    creators_outrank_everyone,
    power_from_content,
)

CREATOR = "@anna:example.org"
CO_CREATOR = "@ben:example.org"
MODERATOR = "@mod:example.org"
MEMBER = "@carla:example.org"
# What Synapse writes into a new room's power levels: in v12 without the creator.
LEVELS_V12 = {"users": {MODERATOR: 50}, "users_default": 0, "events_default": 0, "redact": 50}
LEVELS_V10 = {**LEVELS_V12, "users": {CREATOR: 100, MODERATOR: 50}}


def create_event(version: str, additional: list[str] | None = None) -> dict:
    content: dict = {"room_version": version}
    if additional is not None:
        content["additional_creators"] = additional
    return {"type": "m.room.create", "state_key": "", "sender": CREATOR, "content": content}


@pytest.mark.parametrize(
    ("version", "outranks"),
    [("1", False), ("10", False), ("11", False), ("12", True), ("13", True)],
)
def test_which_room_versions_give_creators_infinite_power(version: str, outranks: bool) -> None:
    assert creators_outrank_everyone(version) is outranks
    assert creators_outrank_everyone("org.matrix.hydra.11")


def test_creators_of_a_v12_room_outrank_every_power_level() -> None:
    creation = creation_from_event(create_event("12", [CO_CREATOR]))
    assert creation == RoomCreation("12", frozenset({CREATOR, CO_CREATOR}))
    power = power_from_content(LEVELS_V12, creation)
    assert power.level(CREATOR) == math.inf
    assert power.level(CO_CREATOR) == math.inf
    assert power.level(MODERATOR) == 50
    assert power.level(MEMBER) == 0
    assert power.may_redact_others(CREATOR) and power.may_redact_others(MODERATOR)
    assert not power.may_redact_others(MEMBER)
    assert power.may_send(CREATOR, "m.room.power_levels", state=True)


def test_in_a_v10_room_the_creator_has_what_the_power_levels_say() -> None:
    creation = creation_from_event(create_event("10"))
    power = power_from_content(LEVELS_V10, creation)
    assert power.level(CREATOR) == 100
    # Demoted in the power levels: no longer powerful, unlike in room version 12.
    demoted = power_from_content({**LEVELS_V10, "users": {CREATOR: 0}}, creation)
    assert demoted.level(CREATOR) == 0
    assert not demoted.may_redact_others(CREATOR)


def test_without_knowing_the_creation_only_levels_count() -> None:
    power = power_from_content(LEVELS_V12)
    assert power.level(CREATOR) == 0


def test_without_power_levels_the_creator_has_100() -> None:
    power = power_from_content(None, creation_from_event(create_event("10")))
    assert power.level(CREATOR) == 100
    assert power.level(MEMBER) == 0


def test_messages_need_events_default_or_their_own_level() -> None:
    levels = {**LEVELS_V12, "events_default": 10, "events": {"m.room.message": 20}}
    power = power_from_content(levels, creation_from_event(create_event("12")))
    assert not power.may_send(MEMBER, "m.room.message")
    assert power.may_send(MODERATOR, "m.room.message")
    assert power.required("org.matrix.msc3381.poll.start") == 10


@pytest.mark.parametrize(
    "event",
    [
        {"type": "m.room.member", "state_key": "", "sender": CREATOR, "content": {}},
        {"type": "m.room.create", "state_key": "x", "sender": CREATOR, "content": {}},
        {"type": "m.room.create", "state_key": "", "content": {}},
        {"type": "m.room.create", "state_key": "", "sender": CREATOR, "content": []},
    ],
)
def test_not_a_create_event(event: dict) -> None:
    assert creation_from_event(event) is None


def test_odd_values_do_not_break_reading() -> None:
    levels = {"users": {MEMBER: "30", "@x:y": None}, "redact": "bad", "users_default": True}
    power = power_from_content(levels)
    assert power.level(MEMBER) == 30
    assert power.level("@x:y") == 0
    assert power.redact == 50
    creation = creation_from_event(create_event("12", ["@ok:x", 5]))  # type: ignore[list-item]
    assert creation is not None and creation.creators == {CREATOR, "@ok:x"}
