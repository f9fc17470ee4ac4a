"""What the engines need of Matrix, in one place: the Matrix adapter is it; tests hand
the engines a stand-in with the same methods."""

from __future__ import annotations

from typing import Protocol

from bot.domain.sendout import SendLimits
from bot.matrix.power import RoomPower
from bot.matrix.send_queue import Outgoing, Priority


class MatrixPort(Protocol):
    @property
    def user_id(self) -> str: ...

    def send_later(self, outgoing: Outgoing) -> None:
        """Queue an event (a reminder); `outgoing.on_sent` is told its event id."""
        ...

    def queue_recorded(self, key: str, room_id: str, content: dict) -> None:
        """Send a notice recorded in the outbox with the change it tells of."""
        ...

    async def send_now(
        self, room_id: str, event_type: str, content: dict, txn_id: str, priority: Priority
    ) -> str | None:
        """Send through the queue and wait: the event id, or None if refused."""
        ...

    def in_room(self, room_id: str) -> bool: ...

    async def find_reminder_event(self, room_id: str, key: str) -> str | None: ...

    async def members(self, room_id: str) -> list[str]: ...

    async def direct_room(self, user_id: str) -> str | None: ...

    async def poll_events(self, room_id: str, start_event_id: str) -> list[dict]: ...

    def room_power(self, room_id: str) -> RoomPower | None: ...

    def room_name(self, room_id: str) -> str | None: ...

    def sendout_limits(self) -> SendLimits:
        """The homeserver's limits as the bot learned them from its 429s."""
        ...
