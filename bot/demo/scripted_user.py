"""A scripted Matrix user on matrix-nio: sends commands and waits for the bot's replies.

Used by the demo, the integration tests and the benchmark; a real client on a real
homeserver, nothing mocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    DownloadResponse,
    InviteMemberEvent,
    JoinedMembersResponse,
    MatrixRoom,
    RoomCreateResponse,
    RoomEncryptedFile,
    RoomEncryptedImage,
    RoomMessageFile,
    RoomMessageImage,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
    UnknownEvent,
)
from nio.crypto.attachments import decrypt_attachment

from bot.demo.homeserver import Account
from bot.domain.polls import POLL_RESPONSE, POLL_START_TYPES
from bot.matrix.events import poll_response

# What the user reads: texts, notices, files and pictures (encrypted or not).
MESSAGES = (
    RoomMessageText,
    RoomMessageNotice,
    RoomMessageFile,
    RoomMessageImage,
    RoomEncryptedFile,
    RoomEncryptedImage,
)
Message = (
    RoomMessageText
    | RoomMessageNotice
    | RoomMessageFile
    | RoomMessageImage
    | RoomEncryptedFile
    | RoomEncryptedImage
)


@dataclass(frozen=True)
class Received:
    room_id: str
    sender: str
    event_id: str
    body: str
    content: dict


class ScriptedUser:
    def __init__(self, homeserver: str, account: Account, store_path: Path | None = None) -> None:
        """With `store_path` the user has end-to-end encryption (its keys live there)."""
        self.account = account
        config = AsyncClientConfig(encryption_enabled=store_path is not None)
        if store_path is not None:
            store_path.mkdir(parents=True, exist_ok=True)
        self.client = AsyncClient(
            homeserver,
            account.user_id,
            device_id=account.device_id,
            store_path=str(store_path) if store_path else "",
            config=config,
        )
        self.client.restore_login(account.user_id, account.device_id, account.access_token)
        self.received: list[Received] = []
        self.polls: list[Received] = []  # poll start events seen
        self.invited: list[str] = []  # rooms the user was invited to (and joined)
        self.auto_join = False
        self._waiters: dict[str, asyncio.Future[Received]] = {}
        self._new_event = asyncio.Event()
        self._sync: asyncio.Task | None = None

    @property
    def user_id(self) -> str:
        return self.account.user_id

    async def start(self) -> None:
        await self.client.sync(timeout=0, full_state=True)
        if self.client.should_upload_keys:
            await self.client.keys_upload()
        self.client.add_event_callback(self._on_event, MESSAGES)
        self.client.add_event_callback(self._on_unknown, (UnknownEvent,))
        self.client.add_event_callback(self._on_invite, (InviteMemberEvent,))
        self._sync = asyncio.create_task(self.client.sync_forever(timeout=30_000))

    async def close(self) -> None:
        if self._sync is not None:
            self._sync.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sync
        await self.client.close()

    async def _on_event(self, room: MatrixRoom, event: Message) -> None:
        received = Received(room.room_id, event.sender, event.event_id, event.body, event.source)
        self.received.append(received)
        self._new_event.set()
        relates = event.source.get("content", {}).get("m.relates_to", {})
        reply_to = relates.get("m.in_reply_to", {}).get("event_id")
        waiter = self._waiters.get(reply_to or "")
        if waiter is not None and not waiter.done() and event.sender != self.user_id:
            waiter.set_result(received)

    async def create_room(
        self,
        invite: Iterable[str] = (),
        *,
        name: str = "Zukunftstisch",
        encrypted: bool = False,
        direct: bool = False,
        alias: str | None = None,
    ) -> str:
        """A room as a client creates it (the homeserver's default room version); `alias`
        publishes `#alias:server` for it."""
        initial_state = []
        if encrypted:
            initial_state.append(
                {
                    "type": "m.room.encryption",
                    "state_key": "",
                    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
                }
            )
        response = await self.client.room_create(
            name=name,
            invite=list(invite),
            initial_state=initial_state,
            is_direct=direct,
            alias=alias,
        )
        if not isinstance(response, RoomCreateResponse):
            raise RuntimeError(f"room_create failed: {response}")
        return response.room_id

    async def wait_for_member(self, room_id: str, user_id: str, timeout: float = 30) -> None:
        async with asyncio.timeout(timeout):
            while True:
                response = await self.client.joined_members(room_id)
                if isinstance(response, JoinedMembersResponse) and any(
                    member.user_id == user_id for member in response.members
                ):
                    return
                await asyncio.sleep(0.1)

    async def send(self, room_id: str, text: str, msgtype: str = "m.text") -> str:
        response = await self.client.room_send(
            room_id,
            "m.room.message",
            {"msgtype": msgtype, "body": text},
            tx_id=uuid.uuid4().hex,
            ignore_unverified_devices=True,  # test users trust every device
        )
        if not isinstance(response, RoomSendResponse):
            raise RuntimeError(f"send failed: {response}")
        return response.event_id

    async def ask(self, room_id: str, text: str, timeout: float = 20) -> Received:
        """Send `text` and wait for the reply that refers to it."""
        waiter: asyncio.Future[Received] = asyncio.get_running_loop().create_future()
        event_id = await self.send(room_id, text)
        self._waiters[event_id] = waiter
        for earlier in self.received:  # the reply may have arrived before we registered
            relates = earlier.content.get("content", {}).get("m.relates_to", {})
            if relates.get("m.in_reply_to", {}).get("event_id") == event_id:
                return earlier
        try:
            return await asyncio.wait_for(waiter, timeout)
        finally:
            self._waiters.pop(event_id, None)

    async def _on_unknown(self, room: MatrixRoom, event: UnknownEvent) -> None:
        """Poll events arrive as UnknownEvent in matrix-nio."""
        if event.type in POLL_START_TYPES:
            self.polls.append(
                Received(room.room_id, event.sender, event.event_id, "", event.source)
            )
            self._new_event.set()

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if self.auto_join and event.state_key == self.user_id and event.membership == "invite":
            self.invited.append(room.room_id)
            await self.client.join(room.room_id)

    async def vote(self, room_id: str, start_event_id: str, answers: list[str]) -> str:
        response = await self.client.room_send(
            room_id,
            POLL_RESPONSE,
            poll_response(start_event_id, answers),
            tx_id=uuid.uuid4().hex,
        )
        if not isinstance(response, RoomSendResponse):
            raise RuntimeError(f"vote failed: {response}")
        return response.event_id

    async def send_event(self, room_id: str, event_type: str, content: dict) -> str:
        """Any event, e.g. a poll response or end exactly as another client writes it."""
        response = await self.client.room_send(
            room_id, event_type, content, tx_id=uuid.uuid4().hex, ignore_unverified_devices=True
        )
        if not isinstance(response, RoomSendResponse):
            raise RuntimeError(f"send failed: {response}")
        return response.event_id

    def polls_in(self, room_id: str) -> list[Received]:
        return [poll for poll in self.polls if poll.room_id == room_id]

    async def download(self, mxc: str) -> bytes:
        response = await self.client.download(mxc)
        if not isinstance(response, DownloadResponse):
            raise RuntimeError(f"download failed: {response}")
        return response.body

    async def download_file(self, file: dict) -> bytes:
        """An encrypted attachment (`file` of the content: url, key, iv, hashes), decrypted."""
        ciphertext = await self.download(file["url"])
        return decrypt_attachment(
            ciphertext, file["key"]["k"], file["hashes"]["sha256"], file["iv"]
        )

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 30) -> None:
        """Wait until `condition()` holds, re-checking whenever a message arrives."""
        async with asyncio.timeout(timeout):
            while True:
                self._new_event.clear()
                if condition():
                    return
                await self._new_event.wait()

    def messages_in(self, room_id: str, sender: str) -> list[Received]:
        return [r for r in self.received if r.room_id == room_id and r.sender == sender]
