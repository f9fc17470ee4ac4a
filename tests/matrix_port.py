"""A stand-in for the Matrix adapter where a test drives the engines without a homeserver
(engines/port.py): what they send is recorded, rooms have the members the test gives."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain.sendout import SendLimits
from bot.matrix.send_queue import Outgoing, Priority

BOT_USER = "@zt-bot:stadt.example"


@dataclass
class RecordingMatrix:
    user_id: str = BOT_USER
    # Room id → its members (the bot among them or not, as the test says).
    rooms: dict[str, list[str]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    sent: list[tuple[str, str, dict]] = field(default_factory=list)  # send_now
    txn_ids: list[str] = field(default_factory=list)
    queued: list[Outgoing] = field(default_factory=list)  # send_later (reminders)
    recorded: list[tuple[str, str, dict]] = field(default_factory=list)  # queue_recorded

    def send_later(self, outgoing: Outgoing) -> None:
        self.queued.append(outgoing)

    def queue_recorded(self, key: str, room_id: str, content: dict) -> None:
        self.recorded.append((key, room_id, content))

    async def send_now(
        self, room_id: str, event_type: str, content: dict, txn_id: str, priority: Priority
    ) -> str:
        self.sent.append((room_id, event_type, content))
        self.txn_ids.append(txn_id)
        return f"$event{len(self.sent)}"

    def in_room(self, room_id: str) -> bool:
        return True

    async def find_reminder_event(self, room_id: str, key: str) -> str | None:
        return None

    async def members(self, room_id: str) -> list[str]:
        return list(self.rooms.get(room_id, []))

    async def direct_room(self, user_id: str) -> str:
        return f"!dm-{user_id[1:].split(':')[0]}:stadt.example"

    async def poll_events(self, room_id: str, start_event_id: str) -> list[dict]:
        return []

    def room_power(self, room_id: str) -> None:
        return None

    def room_name(self, room_id: str) -> str | None:
        return self.names.get(room_id)

    def sendout_limits(self) -> SendLimits:
        return SendLimits()

    def notices(self, room_id: str) -> list[str]:
        """The bodies of the notices sent to a room, in order."""
        return [c["body"] for r, t, c in self.sent if r == room_id and t == "m.room.message"]
