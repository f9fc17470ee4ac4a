"""Baseline for the benchmark: a plain matrix-nio client that answers `ping` with a notice.

It does what the bot does for a command (sync, receive, send a reply) and nothing else,
so the difference in round-trip time is the bot's own cost. `ping gross` is answered
with a reply as large as the bot's status table (the size comes as the 5th argument), to
tell the bot's work apart from the cost of a larger event.
"""

from __future__ import annotations

import asyncio
import sys

from nio import AsyncClient, InviteMemberEvent, MatrixRoom, RoomMessageText


async def main(
    homeserver: str, user_id: str, device_id: str, token: str, big_bytes: str = "4000"
) -> None:
    big = "x" * int(big_bytes)
    client = AsyncClient(homeserver, user_id)
    client.restore_login(user_id, device_id, token)
    await client.sync(timeout=0, full_state=True)
    for room_id in list(client.invited_rooms):
        await client.join(room_id)

    sending: set[asyncio.Task] = set()  # keeps the send tasks alive until done

    async def on_invite(room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == user_id and event.membership == "invite":
            await client.join(room.room_id)

    async def on_message(room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender != user_id and event.body in ("ping", "ping gross"):
            body = big if event.body == "ping gross" else "pong"
            content = {
                "msgtype": "m.notice",
                "body": body,
                "format": "org.matrix.custom.html",
                "formatted_body": body,
                "m.relates_to": {"m.in_reply_to": {"event_id": event.event_id}},
            }
            task = asyncio.create_task(client.room_send(room.room_id, "m.room.message", content))
            sending.add(task)
            task.add_done_callback(sending.discard)

    client.add_event_callback(on_invite, (InviteMemberEvent,))
    client.add_event_callback(on_message, (RoomMessageText,))
    print("ready", flush=True)
    await client.sync_forever(timeout=30_000)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))
