"""Who may do what: coordinators (listed in the config, or members of the coordination
room with power level ≥ 50 — in a room version 12 room also its creators), the members of
a theme's rooms, and who may invite the bot. Answered from the rooms as the bot synced
them (the Matrix adapter's room state)."""

from __future__ import annotations

from typing import Protocol

from bot.config import Config

COORDINATOR_POWER_LEVEL = 50


class PowerLevels(Protocol):
    def level(self, user_id: str) -> int: ...


class RoomFacts(Protocol):
    """What the bot knows of its rooms from its sync."""

    def room_power(self, room_id: str) -> PowerLevels | None: ...

    def is_member(self, room_id: str, user_id: str) -> bool: ...


def may_invite(config: Config, inviter: str | None) -> bool:
    """Users of the bot's own homeserver (or the allowed ones), and the coordinators."""
    if not inviter:
        return False
    bot = config.bot
    servers = bot.allowed_servers or (config.matrix.server_name,)
    users = set(bot.allowed_users) | set(bot.coordinators)
    return inviter in users or inviter.split(":", 1)[-1] in servers


class Rights:
    def __init__(self, config: Config, rooms: RoomFacts) -> None:
        self.config = config
        self.rooms = rooms

    def is_coordinator(self, user_id: str) -> bool:
        if user_id in self.config.bot.coordinators:
            return True
        room_id = self.config.rooms.koordination or ""
        power = self.rooms.room_power(room_id)
        if power is None or not self.rooms.is_member(room_id, user_id):
            return False
        return power.level(user_id) >= COORDINATOR_POWER_LEVEL

    def is_member(self, room_id: str, user_id: str) -> bool:
        return self.rooms.is_member(room_id, user_id)

    def may_invite(self, inviter: str | None) -> bool:
        return may_invite(self.config, inviter)
