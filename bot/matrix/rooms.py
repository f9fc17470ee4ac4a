"""The adapter's rooms: what the bot knows of each room from its sync (members, names, power
levels, creators), invites and joins that never give up, direct chats, a room's history
(poll responses, a reminder sent before)."""

from __future__ import annotations

import asyncio
import json
import logging
from functools import partial
from typing import Any

from aiohttp import ClientError
from nio import (
    AsyncClient,
    DirectRoomsResponse,
    InviteMemberEvent,
    JoinedMembersResponse,
    MatrixRoom,
    MegolmEvent,
    RoomMessagesResponse,
)
from nio.api import Api, RelationshipType, RoomPreset

from bot.config import Config
from bot.health import RoomNote
from bot.matrix import events
from bot.matrix.joins import MAX_BACKOFF_SECONDS, JoinAnswer, Joiner, Refused
from bot.matrix.power import RoomCreation, RoomPower, creation_from_event
from bot.matrix.send_queue import (
    Outgoing,
    Pacer,
    Priority,
    SendQueue,
    txn_id_for,
)
from bot.matrix.sync import INVITES_FILTER
from bot.rendering import Renderer
from bot.rights import may_invite

log = logging.getLogger(__name__)

ROOM_NAMES = {"rooms.koordination": "koordination", "rooms.buergerdialog": "buergerdialog"}


class RoomKeeper:
    """Rooms, invites and direct chats (a part of MatrixAdapter)."""

    config: Config
    client: AsyncClient
    queue: SendQueue
    joiner: Joiner
    room_creation: Pacer
    renderer: Renderer
    _creations: dict[str, RoomCreation]
    _direct_lock: asyncio.Lock

    def room_power(self, room_id: str) -> RoomPower | None:
        """The room's power levels as the bot last synced them; None if it is not in it."""
        room = self.client.rooms.get(room_id)
        if room is None:
            return None
        levels = room.power_levels
        defaults = levels.defaults
        return RoomPower(
            creation=self._creations.get(room_id),
            users=dict(levels.users),
            users_default=defaults.users_default,
            events=dict(levels.events),
            events_default=defaults.events_default,
            state_default=defaults.state_default,
            redact=defaults.redact,
        )

    def _learn_creations(self, response: object) -> None:
        """Keep the m.room.create facts of every room a sync shows (state or timeline)."""
        joined = getattr(getattr(response, "rooms", None), "join", {}) or {}
        for room_id, info in joined.items():
            events = [*getattr(info, "state", []), *getattr(info.timeline, "events", [])]
            for event in events:
                creation = creation_from_event(getattr(event, "source", {}) or {})
                if creation is not None:
                    self._creations[room_id] = creation

    def is_member(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return room is not None and user_id in room.users

    def room_members(self, room_id: str) -> tuple[str, ...]:
        """The room's joined members as the bot last synced them (empty: not in it)."""
        room = self.client.rooms.get(room_id)
        return tuple(room.users) if room is not None else ()

    def room_name(self, room_id: str) -> str | None:
        """The room's name as clients show it; None if the bot is not in it."""
        room = self.client.rooms.get(room_id)
        return room.display_name if room is not None else None

    def in_room(self, room_id: str) -> bool:
        """Joined (not merely invited): only then can the bot send there."""
        return room_id in self.client.rooms

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.client.user_id and event.membership == "invite":
            direct = bool(event.content.get("is_direct"))
            self._consider_invite(room.room_id, event.sender, direct=direct)

    def _consider_invite(self, room_id: str, inviter: str | None, *, direct: bool = False) -> None:
        if not may_invite(self.config, inviter):
            log.warning("ignoring invite to %s from %s (not allowed)", room_id, inviter)
            return
        then = None
        if direct and inviter:  # as clients do: remember it as a direct chat
            then = partial(self._remember_direct, inviter, room_id)
        self.joiner.start(room_id, then)

    async def _join_request(self, room_id: str) -> JoinAnswer:
        """One join, read by the bot itself (a 429 is waited out by the Joiner)."""
        answer, _ = await self._request("POST", Api._build_path(["join", room_id]), {})
        if answer.ok:
            self.queue.pacer.spent()  # the join event counts against the sender's limit
        return answer

    async def _request(
        self, method: str, path: str, body: dict | None
    ) -> tuple[JoinAnswer, dict[str, Any]]:
        """One request to the homeserver, its answer read here rather than by matrix-nio
        (whose response classes complain about a 429 they cannot validate): the status,
        the error and `retry_after_ms` (or the Retry-After header), and the JSON body."""
        headers = {
            "Authorization": f"Bearer {self.client.access_token}",
            "Content-Type": "application/json",
        }
        data = None if body is None else json.dumps(body)
        try:
            response = await self.client.send(method, path, data, headers)
            try:
                parsed = await response.json(content_type=None)
            except ValueError:
                parsed = {}
            finally:
                response.release()
        except (ClientError, OSError, TimeoutError) as err:
            return JoinAnswer(0, error=f"{type(err).__name__}: {err}"), {}
        parsed = parsed if isinstance(parsed, dict) else {}
        retry = parsed.get("retry_after_ms")
        if not isinstance(retry, int):
            header = response.headers.get("Retry-After", "")
            retry = int(header) * 1000 if header.isdigit() else None
        errcode = parsed.get("errcode")
        return (
            JoinAnswer(
                response.status,
                errcode if isinstance(errcode, str) else None,
                str(parsed.get("error", "")),
                retry,
            ),
            parsed,
        )

    async def _open_invites(self) -> dict[str, tuple[str | None, bool]]:
        """Every invite still open on the homeserver: room id → (inviter, is direct)."""
        query = {"filter": json.dumps(INVITES_FILTER, separators=(",", ":")), "timeout": "0"}
        answer, data = await self._request("GET", Api._build_path(["sync"], query), None)
        if not answer.ok:
            log.warning(
                "open invites not read (%s): they are joined when sent again", answer.reason
            )
            return {}
        found: dict[str, tuple[str | None, bool]] = {}
        invites = (data.get("rooms") or {}).get("invite") or {}
        for room_id, room in invites.items():
            for event in (room.get("invite_state") or {}).get("events") or []:
                content = event.get("content") or {}
                if (
                    event.get("type") == "m.room.member"
                    and event.get("state_key") == self.client.user_id
                    and content.get("membership") == "invite"
                ):
                    found[room_id] = (event.get("sender"), bool(content.get("is_direct")))
        if found:
            log.info("%d invites still open from before: joining them", len(found))
        return found

    def _tell_refused(self, refused: Refused, answer: JoinAnswer) -> None:
        """A configured room the bot cannot join: the coordination room hears of it once
        (the transaction id makes a repeat a no-op on the homeserver)."""
        koordination = self.config.rooms.koordination
        if not koordination or koordination == refused.room_id or not self.in_room(koordination):
            return
        message = self.renderer.message(
            "room_not_joined",
            room=ROOM_NAMES.get(refused.key, refused.key),
            room_id=refused.room_id,
            reason=refused.reason,
            withdrawn=answer.error == "the invite was withdrawn",
        )
        self.queue.put(
            Outgoing(
                koordination,
                events.notice(message),
                txn_id_for("room-not-joined", refused.room_id, refused.reason),
                priority=Priority.reminder,
            )
        )

    def room_notes(self) -> dict[str, tuple[RoomNote, ...]]:
        """For health: the rooms still being joined, the configured ones refused."""
        joiner = self.joiner
        joining = tuple(
            RoomNote(j.room_id, j.key, j.since, j.attempts, j.last) for j in joiner.pending.values()
        )
        refused = tuple(
            RoomNote(r.room_id, r.key, reason=r.reason) for r in joiner.refused.values()
        )
        return {"joining": joining, "not_joined": refused}

    def room_readings(self) -> dict[str, Any]:
        """For metrics: the same, and what the homeserver's limits are known to be."""
        now = self.clock.wall()
        return {
            "joining": {
                j.room_id: (now - j.since).total_seconds() for j in self.joiner.pending.values()
            },
            "join_rate_limited": self.joiner.rate_limited,
            "rooms_not_joined": len(self.joiner.refused),
            "send_spacing": self.queue.pacer.interval or 0.0,
        }

    def _configured_rooms(self) -> dict[str, str]:
        """Room id → config key of every configured room."""
        return {room_id: key for key, room_id in self.config.rooms.named()}

    def _check_configured_rooms(self, invited: set[str]) -> None:
        """One clear line for each configured room the bot cannot work in."""
        user = self.client.user_id
        for key, room_id in self.config.rooms.named():
            if room_id in invited:
                log.info("%s: invited to %s, joining", key, room_id)
                continue
            power = self.room_power(room_id)
            if power is None:
                self.joiner.refuse(room_id, key, "not invited")
                log.error(
                    "%s: the bot is neither in room %s nor invited to it: invite %s there "
                    "(Element: room info → People → Invite); it joins at once",
                    key,
                    room_id,
                    user,
                )
            elif not power.may_send(user, "m.room.message"):
                log.error(
                    "%s: the bot may not send messages in %s (needs power level %d, has %s): "
                    "raise its power level in the room's settings",
                    key,
                    room_id,
                    power.required("m.room.message"),
                    power.level(user),
                )

    async def members(self, room_id: str) -> list[str]:
        response = await self.client.joined_members(room_id)
        if not isinstance(response, JoinedMembersResponse):
            log.warning("members of %s unknown: %s", room_id, response)
            return []
        return [member.user_id for member in response.members]

    async def direct_room(self, user_id: str) -> str | None:
        """The direct chat with `user_id`: an existing one (m.direct), else a new one."""
        existing = await self.client.list_direct_rooms()
        if isinstance(existing, DirectRoomsResponse):
            for room_id in existing.rooms.get(user_id, []):
                room = self.client.rooms.get(room_id)
                if room is not None and user_id in {*room.users, *room.invited_users}:
                    return room_id
        room_id = await self._create_direct_room(user_id)
        if room_id is not None:
            await self._remember_direct(user_id, room_id)
        return room_id

    async def _remember_direct(self, user_id: str, room_id: str) -> None:
        """Add a direct chat to the bot's m.direct account data."""
        async with self._direct_lock:  # one change at a time: none undoes another
            existing = await self.client.list_direct_rooms()
            direct = dict(existing.rooms) if isinstance(existing, DirectRoomsResponse) else {}
            if room_id not in direct.get(user_id, []):
                direct[user_id] = [*direct.get(user_id, []), room_id]
                await self._put_account_data("m.direct", direct)

    async def _create_direct_room(self, user_id: str) -> str | None:
        """A new direct chat with `user_id`, as soon as the homeserver's limits allow: a
        429 is waited out as often as it comes (read here: matrix-nio cannot validate it),
        an unreachable homeserver waited for; None when it refuses for good."""
        body = {
            "is_direct": True,
            "invite": [user_id],
            "preset": RoomPreset.trusted_private_chat.value,
            "visibility": "private",
        }
        path = Api._build_path(["createRoom"])
        backoff = 1.0
        while True:
            # A new room counts against the limit on events too: leave answers their room.
            await asyncio.sleep(self.queue.pacer.bulk_delay())
            answer, data = await self._request("POST", path, body)
            room_id = data.get("room_id") if answer.ok else None
            if isinstance(room_id, str):
                self.room_creation.spent()
                self.queue.pacer.spent()
                await self._wait_for_room(room_id)
                return room_id
            if answer.rate_limited:
                retry_ms = answer.retry_after_ms
                wait = (retry_ms if retry_ms is not None else 1000) / 1000
                # The limit on new rooms (rc_room_creation), unless the one on events
                # (rc_message, which a new room counts against too) is what ran out.
                pacer = self.queue.pacer
                (self.room_creation if pacer.has_room() else pacer).limited(wait)
                log.info("direct chat with %s: rate limited, waiting %.1f s", user_id, wait)
            elif answer.transient:
                wait, backoff = backoff, min(backoff * 2, MAX_BACKOFF_SECONDS)
                log.warning("direct chat with %s: %s; trying again", user_id, answer.reason)
            else:
                log.error("direct chat with %s not created: %s", user_id, answer.reason)
                return None
            await asyncio.sleep(wait)

    async def _wait_for_room(self, room_id: str, timeout: float = 30) -> None:
        """A room the bot just created or joined is usable once a sync has shown it."""
        try:
            async with asyncio.timeout(timeout):
                while room_id not in self.client.rooms:
                    await self.client.synced.wait()
        except TimeoutError:
            log.warning("room %s not synced after %.0fs", room_id, timeout)

    async def _put_account_data(self, kind: str, content: dict) -> None:
        path = Api._build_path(
            ["user", self.client.user_id, "account_data", kind],
            {"access_token": self.client.access_token},
        )
        response = await self.client.send("PUT", path, json.dumps(content))
        if response.status >= 300:
            log.warning("account data %s not stored: HTTP %s", kind, response.status)

    async def poll_events(self, room_id: str, start_event_id: str) -> list[dict]:
        """Every event that refers to a poll, from the relations API (decrypted)."""
        events = []
        async for event in self.client.room_get_event_relations(
            room_id, start_event_id, RelationshipType.reference
        ):
            if isinstance(event, MegolmEvent):
                try:
                    event = self.client.decrypt_event(event)
                except Exception:  # an undecryptable vote cannot be counted
                    log.warning("poll response %s cannot be decrypted", event.event_id)
                    continue
            events.append(event.source)
        return events

    async def find_reminder_event(self, room_id: str, key: str, limit: int = 500) -> str | None:
        """The event id of a reminder with this key that the bot sent, from the room's
        recent history (for a pending sent-log row older than the transaction window)."""
        start: str | None = None
        seen = 0
        while seen < limit:
            page = await self.client.room_messages(room_id, start=start, limit=100)
            if not isinstance(page, RoomMessagesResponse) or not page.chunk:
                return None
            for event in page.chunk:
                content = event.source.get("content", {})
                if event.sender == self.client.user_id and events.reminder_key(content) == key:
                    return event.event_id
            seen += len(page.chunk)
            start = page.end
        return None
