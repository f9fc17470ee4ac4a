"""The Matrix adapter: login, sync, invites, and turning events into router calls and sends.

This is the only module that talks to matrix-nio. Commands never see it: they return a
rendered reply, and the adapter sends it through the bot-wide queue.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import re
import time
from asyncio import FIRST_COMPLETED
from collections import OrderedDict
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

from aiohttp import ClientError
from nio import (
    AsyncClient,
    AsyncClientConfig,
    DeleteDevicesAuthResponse,
    DeleteDevicesResponse,
    DirectRoomsResponse,
    InviteMemberEvent,
    JoinedMembersResponse,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomMessagesResponse,
    RoomMessageText,
    RoomResolveAliasResponse,
    RoomSendResponse,
    UploadResponse,
    WhoamiResponse,
)
from nio.api import Api, RelationshipType, RoomPreset
from nio.exceptions import LocalProtocolError, OlmUnverifiedDeviceError

from bot.clock import Clock
from bot.config import Config
from bot.domain.sendout import SYNAPSE_ROOM_CREATION, SendLimits
from bot.failpoints import Failpoints
from bot.health import RoomNote
from bot.matrix import events
from bot.matrix.cross_signing import (
    HomeserverError,
    ensure_cross_signing,
    query_own_keys,
)
from bot.matrix.joins import MAX_BACKOFF_SECONDS, JoinAnswer, Joiner, Refused
from bot.matrix.power import RoomCreation, RoomPower, creation_from_event
from bot.matrix.send_queue import (
    TXN_DEDUP_WINDOW,
    Delivery,
    Outgoing,
    Pacer,
    Priority,
    SendQueue,
    SendResult,
    txn_id_for,
)
from bot.rendering import Attachment, Message, Renderer
from bot.store.cross_signing_keys import CrossSigningKeys
from bot.store.database import retry_while_unavailable_async
from bot.store.outbox import Outbox
from bot.store.sync_state import SyncState
from bot.tasks import Tasks

log = logging.getLogger(__name__)

COORDINATOR_POWER_LEVEL = 50
OUTBOX_KEEP = timedelta(days=2)

SEEN_EVENTS = 2048
# Uploads rate-limited (429) this often are given up (logged); the text answer stands.
UPLOAD_ATTEMPTS = 5
# Lean syncs: the bot reads no presence, typing or read receipts, so the homeserver
# sends none (with 300 rooms they were most of a sync). Full member lists (no lazy
# loading): whether someone may mark a step depends on them.
SYNC_FILTER = {"presence": {"types": []}, "room": {"ephemeral": {"types": []}}}
FIRST_SYNC_FILTER = {**SYNC_FILTER, "room": {"ephemeral": {"types": []}, "timeline": {"limit": 20}}}
# An incremental sync shows only invites that are new since its token: the ones still open
# from before a restart come from a sync without a token that carries next to nothing else.
INVITES_FILTER = {
    "presence": {"types": []},
    "account_data": {"types": []},
    "room": {
        "timeline": {"limit": 1},
        "state": {"types": [], "lazy_load_members": True},
        "ephemeral": {"types": []},
        "account_data": {"types": []},
    },
}
ROOM_NAMES = {"rooms.koordination": "koordination", "rooms.buergerdialog": "buergerdialog"}
MATRIX_TO_USER = re.compile(r"https://matrix\.to/#/(@[^\"'<>\s?]+)")


@dataclass(frozen=True)
class Incoming:
    """A text message as the router needs it."""

    body: str
    sender: str
    room_id: str
    mentions: tuple[str, ...] = ()
    is_direct: bool = False


# Commands are handled (database, rendering) off the event loop by this.
class Answered(Protocol):
    """What the adapter needs of a handled command (the router's outcome)."""

    @property
    def verb(self) -> str: ...
    @property
    def result(self) -> str: ...  # "ok", "refused", "error"
    @property
    def reply(self) -> Message: ...
    @property
    def changed(self) -> bool: ...  # it may have changed what reminders depend on
    @property
    def notices(self) -> Sequence[Told]: ...  # for other rooms, sent with the reply


class Told(Protocol):
    """A notice a command sends to another room."""

    @property
    def room_id(self) -> str: ...
    @property
    def message(self) -> Message: ...


Answer = Callable[[Incoming], Answered | None]


def mentioned(content: dict) -> tuple[str, ...]:
    """People mentioned: m.mentions, and matrix.to links (pills) in the HTML."""
    users = list(content.get("m.mentions", {}).get("user_ids", []) or [])
    users += [unquote(u) for u in MATRIX_TO_USER.findall(content.get("formatted_body", "") or "")]
    # A client may put anything there: keep what looks like a user id, and not too much.
    valid = (u for u in users if isinstance(u, str) and len(u) <= 255 and u.startswith("@"))
    return tuple(dict.fromkeys(valid))[:20]


class HomeserverUnreachable(RuntimeError):
    """The homeserver did not answer (or not as a homeserver)."""


async def resolve_aliases(homeserver: str, aliases: Iterable[str]) -> dict[str, str | None]:
    """The room id of each alias from the homeserver's directory (no login needed); None
    for an alias the homeserver does not know."""
    client = AsyncClient(homeserver, config=AsyncClientConfig(max_timeouts=2, request_timeout=15))
    found: dict[str, str | None] = {}
    try:
        for alias in aliases:
            try:
                response = await client.room_resolve_alias(alias)
            except Exception as err:  # connection refused, timeouts, not JSON: unreachable
                raise HomeserverUnreachable(f"{type(err).__name__}: {err}") from err
            if isinstance(response, RoomResolveAliasResponse):
                found[alias] = response.room_id
            elif getattr(response, "status_code", None) == "M_NOT_FOUND":
                found[alias] = None
            else:
                raise HomeserverUnreachable(str(response))
    finally:
        await client.close()
    return found


class SyncProgress:
    """Saves the sync token only once every message of the syncs up to it is handled: a
    command a crash interrupted then comes again after the restart (the outbox drops the
    ones that were handled)."""

    def __init__(self, save: Callable[[str], None]) -> None:
        self._save = save
        self._in_flight = 0
        self._unsaved: str | None = None

    def started(self) -> None:
        self._in_flight += 1

    def finished(self) -> None:
        self._in_flight -= 1
        self._save_if_done()

    def synced(self, token: str | None) -> None:
        if token:
            self._unsaved = token
            self._save_if_done()

    def _save_if_done(self) -> None:
        if self._in_flight == 0 and self._unsaved is not None:
            token, self._unsaved = self._unsaved, None
            self._save(token)


class _HandledBefore(Exception):
    """The command's event is in the outbox already: its effect must not apply again."""


class LoginFailed(RuntimeError):
    """The homeserver refused the bot's credentials (the reason, never the secret)."""


@dataclass(frozen=True)
class DeviceRecord:
    """Which device the bot is, kept in the data directory: after its key store was lost
    the bot becomes a new device, and must stay that one on the next start."""

    path: Path

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def current(self, configured: str) -> str:
        return self._read().get("device_id") or configured

    def used_before(self, device_id: str) -> bool:
        return self._read().get("device_id") == device_id

    def remember(self, device_id: str) -> None:
        if self._read().get("device_id") != device_id:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.path.write_text(json.dumps({"device_id": device_id}), "utf-8")
            self.path.chmod(0o600)


class MatrixAdapter:
    def __init__(
        self,
        config: Config,
        clock: Clock,
        outbox: Outbox,
        cross_signing: CrossSigningKeys | None = None,
        failpoints: Failpoints | None = None,
        tasks: Tasks | None = None,
        sync_state: SyncState | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.outbox = outbox
        self.failpoints = failpoints or Failpoints()
        # Every task the adapter starts: failures are logged, long-lived ones supervised.
        self.tasks = tasks or Tasks()
        # The sync token lives in the database (None: in matrix-nio's store, as before).
        self.sync_state = sync_state
        self.progress = SyncProgress(self._save_sync_token)
        # The account's cross-signing keys (None: the bot does not cross-sign its device).
        self.cross_signing = cross_signing
        Path(config.matrix.store_path).mkdir(parents=True, exist_ok=True, mode=0o700)
        self.client = self._new_client(config.matrix.device_id)
        self.queue = SendQueue(self._transport, confirm=self._confirm)
        # What the homeserver's 429 answers to room creation tell of its limit (for the
        # send-out estimate; each creation also counts against the queue's limit).
        self.room_creation = Pacer(default=SYNAPSE_ROOM_CREATION, what="new room")
        self.joiner = Joiner(
            self._join_request,
            clock=self.clock.wall,
            spawn=self.tasks.spawn,
            configured=self._configured_rooms,
        )
        self.joiner.on_refused = self._tell_refused
        self.renderer = Renderer(config.bot.language)
        self._direct_lock = asyncio.Lock()  # m.direct is read, changed and written back
        self.devices = DeviceRecord(Path(config.bot.data_dir) / "device.json")
        self._answer: Answer | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._sender: asyncio.Task | None = None
        # Set once the first sync is done: rooms and members are known, sending may start.
        self.ready = asyncio.Event()
        # Called after a command was answered and after joining a room; the app pokes the
        # reminder scheduler then (reminders for a room wait until the bot is in it).
        self.after_command: Callable[[Answered], None] | None = None
        self.after_join: Callable[[], None] | None = None
        self._known_rooms: set[str] = set()
        # Each room's creation facts (room version, creators) from its m.room.create event:
        # in room version 12 the creators outrank every power level (MSC4289).
        self._creations: dict[str, RoomCreation] = {}
        # `zt-bot health` reads when the bot last synced from this file.
        # When the last sync came back (ms since the epoch; health and metrics read it).
        self.last_sync_ms = 0

    # Who may do what ------------------------------------------------------------------

    def is_coordinator(self, user_id: str) -> bool:
        """Listed in the config, or a member of the coordination room with power ≥ 50 (its
        creators in a room version 12 room included)."""
        if user_id in self.config.bot.coordinators:
            return True
        room_id = self.config.rooms.koordination or ""
        power = self.room_power(room_id)
        if power is None or not self.is_member(room_id, user_id):
            return False
        return power.level(user_id) >= COORDINATOR_POWER_LEVEL

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

    def may_invite(self, inviter: str | None) -> bool:
        if not inviter:
            return False
        bot = self.config.bot
        servers = bot.allowed_servers or (self.config.matrix.server_name,)
        users = set(bot.allowed_users) | set(bot.coordinators)
        return inviter in users or inviter.split(":", 1)[-1] in servers

    # Start-up --------------------------------------------------------------------------

    def _new_client(self, device_id: str | None) -> AsyncClient:
        matrix = self.config.matrix
        return AsyncClient(
            matrix.homeserver,
            matrix.user_id,
            device_id=device_id,
            store_path=str(matrix.store_path),
            config=AsyncClientConfig(
                max_limit_exceeded=0,  # the send queue honours 429 itself
                max_timeouts=None,
                store_sync_tokens=self.sync_state is None,
                encryption_enabled=True,
            ),
        )

    def _key_store_exists(self, device_id: str) -> bool:
        """matrix-nio keeps a device's encryption keys in <user>_<device>.db."""
        name = f"{self.config.matrix.user_id}_{device_id}.db"
        return (Path(self.config.matrix.store_path) / name).exists()

    async def login(self) -> None:
        matrix = self.config.matrix
        if matrix.access_token is not None:
            await self._token_login(matrix.access_token.get_secret_value())
        else:
            assert matrix.password is not None
            await self._password_login(matrix.password.get_secret_value())
        self.devices.remember(self.client.device_id)
        log.info("logged in as %s (device %s)", self.client.user_id, self.client.device_id)

    async def _ensure_cross_signing(self) -> None:
        """Cross-sign this device, so Element users' clients talk to it (MSC4153). Never
        stops the bot: without it unencrypted rooms and other clients still work."""
        if self.cross_signing is None:
            return
        password = self.config.matrix.password
        try:
            outcome = await ensure_cross_signing(
                self.client,
                self.cross_signing,
                password=password.get_secret_value() if password is not None else None,
                now=self.clock.wall(),
            )
        except Exception as err:  # network, odd answers, database: log, and carry on
            log.error(
                "cross-signing not checked (%s: %s): Element users may not see the bot's "
                "messages in encrypted rooms; it is tried again at the next start",
                type(err).__name__,
                err,
            )
            return
        if not outcome.ok:
            log.error("%s", outcome.message)

    async def run(self, answer: Answer) -> None:
        """Log in, join pending invites, then sync until cancelled."""
        self._answer = answer
        await self.login()
        await self._ensure_cross_signing()
        # Queued now, sent once the first sync has shown the rooms (matrix-nio encrypts
        # per room and refuses a room it has not seen yet).
        await asyncio.to_thread(self._resend_pending_replies)
        # Before the first sync: it holds the commands that came while the bot was down
        # (answered if younger than max_command_age, and never twice: see the outbox).
        self.client.add_event_callback(self._on_message, (RoomMessageText,))
        since = await self._stored_sync_token()
        first = await self.client.sync(
            timeout=0, sync_filter=FIRST_SYNC_FILTER, full_state=True, since=since
        )
        self._learn_creations(first)
        self.progress.synced(getattr(first, "next_batch", None))
        self.last_sync_ms = int(time.time() * 1000)
        # Invites that arrived while the bot was down or starting fire no callback; those
        # from before its last sync token (a join still pending at a restart) are asked for.
        invites = {
            room_id: (room.inviter, False) for room_id, room in self.client.invited_rooms.items()
        }
        if since is not None:
            invites = {**await self._open_invites(), **invites}
        for room_id, (inviter, direct) in invites.items():
            self._consider_invite(room_id, inviter, direct=direct)
        self._check_configured_rooms(set(invites))
        self.client.add_event_callback(self._on_invite, (InviteMemberEvent,))
        self.client.add_event_callback(self._on_undecryptable, (MegolmEvent,))
        self.client.add_response_callback(self._on_sync, None)
        self._sender = self.tasks.spawn(
            self.tasks.supervise("send queue", self.queue.run), "send-queue"
        )
        self.ready.set()
        await self._until_one_gives_up()

    async def _until_one_gives_up(self) -> None:
        """Sync for good (restarted when it crashes) while the send queue runs; if either
        keeps crashing, its TaskGaveUp ends the bot."""
        sync = self.tasks.spawn(self.tasks.supervise("sync", self._sync_forever), "sync")
        assert self._sender is not None
        try:
            done, _ = await asyncio.wait({sync, self._sender}, return_when=FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            sync.cancel()

    async def _sync_forever(self) -> None:
        await self.client.sync_forever(timeout=30_000, sync_filter=SYNC_FILTER, full_state=False)

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

    async def close(self, drain_seconds: float = 5.0) -> None:
        """Finish what is being sent (bounded); keep the device and its keys for next time."""
        if self._sender is not None:
            try:
                await asyncio.wait_for(self.queue.join(), timeout=drain_seconds)
            except TimeoutError:
                log.warning("%d events still queued at shutdown", self.queue.pending)
            self._sender.cancel()
        self.tasks.cancel_all()
        await self.client.close()

    async def _token_login(self, token: str) -> None:
        self.client.access_token = token
        who = await self.client.whoami()
        if not isinstance(who, WhoamiResponse):
            raise LoginFailed(getattr(who, "message", "") or str(who))
        device_id = who.device_id or self.config.matrix.device_id
        self.client.restore_login(self.config.matrix.user_id, device_id, token)
        # A lost key store shows here too: matrix-nio made a new account, whose keys the
        # homeserver does not have for this device.
        stale = await self._device_keys_elsewhere()
        if stale is not None:
            log.error(
                "the homeserver holds other encryption keys for device %s than the key store "
                "in %s: encrypted rooms stay unreadable; with a token the bot cannot become a "
                "new device (log in with a password instead, or restore the store)",
                stale,
                self.config.matrix.store_path,
            )

    async def _password_login(self, password: str) -> None:
        device_id = self.devices.current(self.config.matrix.device_id)
        if not self._key_store_exists(device_id) and self.devices.used_before(device_id):
            # Its keys cannot be rebuilt: the homeserver rejects new one-time keys for the
            # old device and other clients distrust a known device whose keys changed.
            log.warning(
                "encryption keys of device %s are missing from %s: logging in as a new device",
                device_id,
                self.config.matrix.store_path,
            )
            await self._log_in_as("", password)
            await self._remove_device(device_id, password)
            return
        await self._log_in_as(device_id, password)
        stale = await self._device_keys_elsewhere()
        if stale is None:
            return
        # The data directory was lost or moved without its key store: the homeserver keeps
        # the old keys of this device id and refuses ours, for good (and matrix-nio would
        # try again on every sync). A new device starts clean; the old one is removed.
        log.warning(
            "the homeserver holds other encryption keys for device %s than the key store in "
            "%s (data directory lost or moved?): logging in as a new device",
            stale,
            self.config.matrix.store_path,
        )
        await self.client.close()
        self.client = self._new_client(None)
        await self._log_in_as("", password)
        await self._remove_device(stale, password)

    async def _log_in_as(self, device_id: str, password: str) -> None:
        self.client.device_id = device_id or None  # None: the homeserver picks a new one
        response = await self.client.login(password, device_name="Zukunftstische-Bot")
        if not isinstance(response, LoginResponse):
            raise LoginFailed(getattr(response, "message", "") or type(response).__name__)

    async def _device_keys_elsewhere(self) -> str | None:
        """This device's id if the homeserver has keys for it that are not this key
        store's; None if they match or none are there. (mautrix's bridges ask the
        homeserver for their device's keys at start, too.)"""
        olm = self.client.olm
        device_id = self.client.device_id
        if olm is None or device_id is None:
            return None
        try:
            own = await query_own_keys(self.client)
        except (HomeserverError, OSError, TimeoutError) as err:
            log.warning("keys of device %s not checked (%s)", device_id, err)
            return None
        ours = olm.account.identity_keys["ed25519"]
        return device_id if own.device_key_differs(device_id, ours) else None

    async def _remove_device(self, device_id: str, password: str) -> None:
        """Remove the device whose keys were lost, so that no client keeps encrypting for
        it (the password answers the homeserver's user-interactive auth)."""
        response = await self.client.delete_devices([device_id])
        if isinstance(response, DeleteDevicesAuthResponse):
            auth = {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": self.client.user_id},
                "password": password,
                "session": response.session,
            }
            response = await self.client.delete_devices([device_id], auth)
        if isinstance(response, DeleteDevicesResponse):
            log.info("old device %s removed", device_id)
        else:
            log.warning(
                "old device %s not removed (%s): remove it in a client's session list",
                device_id,
                getattr(response, "message", response),
            )

    # Callbacks: never wait on a send -----------------------------------------------------

    async def _stored_sync_token(self) -> str | None:
        """Where the last run got to; after an upgrade from a version that kept the token
        in matrix-nio's store, that one."""
        if self.sync_state is None:
            return None
        stored = await asyncio.to_thread(self.sync_state.load, self.config.matrix.user_id)
        if stored is None and self.client.store is not None:
            stored = self.client.store.load_sync_token()
        return stored or None

    def _save_sync_token(self, token: str) -> None:
        if self.sync_state is None:
            return
        save = partial(self.sync_state.save, self.config.matrix.user_id, token, self.clock.wall())
        self.tasks.spawn(asyncio.to_thread(save), "save sync token")

    async def _on_sync(self, response: object) -> None:
        self.last_sync_ms = int(time.time() * 1000)
        self.progress.synced(getattr(response, "next_batch", None))
        self._learn_creations(response)
        self._follow_device_changes(getattr(getattr(response, "device_list", None), "changed", []))
        rooms = getattr(response, "rooms", None)
        for room_id in getattr(rooms, "leave", None) or {}:
            self.joiner.withdrawn(room_id)  # a pending invite taken back
        joined = getattr(rooms, "join", {})
        # A room counts as joined once a sync says so; reminders waiting for it go now.
        if any(room_id not in self._known_rooms for room_id in joined):
            self._known_rooms |= set(joined)
            if self.after_join is not None:
                self.after_join()

    async def _on_invite(self, room: MatrixRoom, event: InviteMemberEvent) -> None:
        if event.state_key == self.client.user_id and event.membership == "invite":
            direct = bool(event.content.get("is_direct"))
            self._consider_invite(room.room_id, event.sender, direct=direct)

    def _follow_device_changes(self, users: list[str]) -> None:
        """A member got a new device: start a new room key, so that it is shared with that
        device too (matrix-nio shares a session only once, when it is created)."""
        if not users or self.client.olm is None:
            return
        changed = set(users)
        for room in self.client.rooms.values():
            if room.encrypted and changed & set(room.users):
                self.client.invalidate_outbound_session(room.room_id)

    def _consider_invite(self, room_id: str, inviter: str | None, *, direct: bool = False) -> None:
        if not self.may_invite(inviter):
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

    def sendout_limits(self) -> SendLimits:
        """The homeserver's limits on events and new rooms, as far as the bot knows them."""
        return SendLimits(messages=self.queue.pacer.limit(), rooms=self.room_creation.limit())

    async def _on_undecryptable(self, room: MatrixRoom, event: MegolmEvent) -> None:
        log.warning("cannot decrypt event %s in %s (session unknown)", event.event_id, room.room_id)

    async def _on_message(self, room: MatrixRoom, event: RoomMessageText) -> None:
        if event.sender == self.client.user_id or event.event_id in self._seen:
            return
        age_ms = self.clock.wall().timestamp() * 1000 - event.server_timestamp
        if age_ms > self.config.bot.max_command_age.total_seconds() * 1000:
            return  # older commands (e.g. from before a long outage) are not answered
        self._seen[event.event_id] = None
        if len(self._seen) > SEEN_EVENTS:
            self._seen.popitem(last=False)
        # Only the first sync after a start can bring events handled before (a restart);
        # later syncs bring each event once, and `_seen` guards this process.
        catching_up = not self.ready.is_set()
        self.progress.started()
        task = self.tasks.spawn(
            self._handle(room.room_id, event, catching_up), f"command {event.event_id}"
        )
        task.add_done_callback(lambda _task: self.progress.finished())

    def _confirm(self, confirmation: Coroutine[Any, Any, None], what: str) -> None:
        """A send is confirmed in the background (the sent-log or the outbox is marked,
        waiting for the database if need be), so the queue goes on meanwhile."""
        self.tasks.spawn(confirmation, f"confirm {what}")

    async def _handle(self, room_id: str, event: RoomMessageText, catching_up: bool) -> None:
        assert self._answer is not None
        started = time.perf_counter()
        room = self.client.rooms.get(room_id)
        incoming = Incoming(
            body=event.body,
            sender=event.sender,
            room_id=room_id,
            mentions=mentioned(event.source.get("content", {})),
            # A direct chat: just the bot and one person.
            is_direct=room is not None and len(room.users) + len(room.invited_users) <= 2,
        )
        found = await self._answer_when_possible(incoming, event.event_id, catching_up)
        if found is None:
            return
        outcome, content, notices = found
        self._queue_reply(event.event_id, room_id, content)
        for key, notice_room, notice in notices:
            self.queue_recorded(key, notice_room, notice)
        if outcome.reply.attachment is not None:
            await self._send_file(room_id, event.event_id, outcome.reply.attachment)
        if self.after_command is not None:
            self.after_command(outcome)
        log.info(
            "handled room=%s verb=%s outcome=%s ms=%.1f",
            room_id,
            outcome.verb,
            outcome.result,
            (time.perf_counter() - started) * 1000,
        )

    async def _answer_when_possible(
        self, incoming: Incoming, event_id: str, catching_up: bool
    ) -> tuple[Answered, dict, list[tuple[str, str, dict]]] | None:
        """Handle the command off the event loop; while the database is unreachable
        (e.g. PostgreSQL restarting) wait and try again, so no command's effect is lost."""
        return await retry_while_unavailable_async(
            lambda: asyncio.to_thread(self._answer_once, incoming, event_id, catching_up),
            "answering a command",
        )

    def _answer_once(
        self, incoming: Incoming, event_id: str, catching_up: bool
    ) -> tuple[Answered, dict, list[tuple[str, str, dict]]] | None:
        """Run a command exactly once: its effect and the record of its reply commit in one
        transaction (the outbox), so a crash leaves both or neither, and a command handled
        before (by this or another instance) rolls back instead of applying twice."""
        assert self._answer is not None
        try:
            with self.outbox.unit_of_work():
                # Only the first sync after a start can bring a command handled before.
                if catching_up and self.outbox.was_handled(event_id):
                    return None
                outcome = self._answer(incoming)
                if outcome is None:
                    return None
                content = events.reply(outcome.reply, event_id, incoming.sender)
                self.failpoints.hit("command_applied")  # tests: killed before the commit
                if not self.outbox.record(event_id, incoming.room_id, content, self.clock.wall()):
                    raise _HandledBefore(event_id)
                notices = self._record_notices(event_id, outcome.notices)
        except _HandledBefore:
            return None
        self.failpoints.hit("command_committed")  # tests: killed between effect and send
        return outcome, content, notices

    def _record_notices(
        self, event_id: str, notices: Sequence[Told]
    ) -> list[tuple[str, str, dict]]:
        """The command's notices to other rooms, in the outbox beside its reply (keyed by
        the command's event id and their place), so a crash neither loses nor repeats them."""
        recorded = []
        for number, notice in enumerate(notices, start=1):
            key, content = f"{event_id}/notice/{number}", events.notice(notice.message)
            self.outbox.record(key, notice.room_id, content, self.clock.wall())
            recorded.append((key, notice.room_id, content))
        return recorded

    def _queue_reply(
        self, event_id: str, room_id: str, content: dict, priority: Priority = Priority.answer
    ) -> None:
        async def sent(_reply_id: str) -> None:
            await retry_while_unavailable_async(
                lambda: asyncio.to_thread(self.outbox.sent, event_id), "confirming a reply"
            )

        self.queue.put(
            Outgoing(
                room_id=room_id,
                content=content,
                txn_id=txn_id_for("reply", event_id),
                priority=priority,
                on_sent=sent,
            )
        )

    def queue_recorded(self, key: str, room_id: str, content: dict) -> None:
        """Send a notice an engine recorded in the outbox with the change it tells of
        (keyed like a reply): confirmed there once sent, sent again after a crash."""
        self._queue_reply(key, room_id, content, Priority.reminder)

    def _resend_pending_replies(self) -> None:
        """Replies recorded but not confirmed before a crash go out again; the same
        transaction id lets the homeserver drop the copy of one that did arrive."""
        now = self.clock.wall()
        self.outbox.prune(now - OUTBOX_KEEP)
        for event_id, room_id, content in self.outbox.pending(now - TXN_DEDUP_WINDOW):
            self._queue_reply(event_id, room_id, content)

    # Polls and direct chats (the evaluation engine's transport) ---------------------------

    @property
    def user_id(self) -> str:
        return self.client.user_id

    async def send_now(
        self, room_id: str, event_type: str, content: dict, txn_id: str, priority: Priority
    ) -> str | None:
        """Send through the bot-wide queue and wait: the event id, or None if refused."""
        await self._wait_for_room(room_id)
        return await self.queue.send(Outgoing(room_id, content, txn_id, event_type, priority))

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

    # Sending -----------------------------------------------------------------------------

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

    async def _send_file(self, room_id: str, reply_to: str, attachment: Attachment) -> None:
        """Upload a file and queue it as an m.file reply, or a picture as an m.image reply
        with its thumbnail (after the text answer, through the same queue)."""
        room = self.client.rooms.get(room_id)
        encrypted = room is not None and room.encrypted  # then the upload is encrypted too
        uploaded = await self._upload(
            attachment.data, attachment.mimetype, attachment.filename, encrypted
        )
        if uploaded is None:
            return
        uri, keys = uploaded
        if attachment.is_image:
            small = attachment.thumbnail
            thumbnail = None
            if small is not None:
                name = f"thumbnail-{attachment.filename}"
                thumbnail = await self._upload(small.data, small.mimetype, name, encrypted)
            content = events.image_reply(attachment, uri, reply_to, keys, thumbnail)
        else:
            content = events.file_reply(attachment, uri, reply_to, keys)
        self.queue.put(
            Outgoing(room_id, content, txn_id_for("file", reply_to), priority=Priority.answer)
        )

    async def _upload(
        self, data: bytes, mimetype: str, filename: str, encrypt: bool
    ) -> tuple[str, dict | None] | None:
        """(content uri, encryption keys or None) of an upload; a 429 is waited out as the
        send queue does; None (logged) when the homeserver refuses it."""
        for _ in range(UPLOAD_ATTEMPTS):
            response, keys = await self.client.upload(
                io.BytesIO(data),
                content_type=mimetype,
                filename=filename,
                encrypt=encrypt,
                filesize=len(data),
            )
            if isinstance(response, UploadResponse):
                return response.content_uri, (keys if encrypt and keys is not None else None)
            if getattr(response, "status_code", None) != "M_LIMIT_EXCEEDED":
                break
            await asyncio.sleep((getattr(response, "retry_after_ms", None) or 1000) / 1000)
        log.error("upload of %s failed: %s", filename, response)
        return None

    async def _transport(self, outgoing: Outgoing) -> SendResult:
        trust_unverified = self.config.matrix.trust_unverified_devices  # the trust policy
        if outgoing.room_id not in self.client.rooms:  # joined a moment ago: not synced yet
            await self._wait_for_room(outgoing.room_id, timeout=10)
        try:
            response = await self.client.room_send(
                outgoing.room_id,
                outgoing.event_type,
                outgoing.content,
                tx_id=outgoing.txn_id,
                ignore_unverified_devices=trust_unverified,
            )
        except (OlmUnverifiedDeviceError, LocalProtocolError) as err:
            return SendResult(Delivery.rejected, reason=str(err))
        except (OSError, TimeoutError) as err:
            return SendResult(Delivery.transient, reason=type(err).__name__)
        if isinstance(response, RoomSendResponse):
            return SendResult(Delivery.sent, event_id=response.event_id)
        status = getattr(response, "status_code", None)
        if status == "M_LIMIT_EXCEEDED":
            return SendResult(Delivery.rate_limited, retry_after_ms=response.retry_after_ms)
        transport = getattr(response, "transport_response", None)
        http_status = getattr(transport, "status", 0) or 0
        if http_status >= 500 or status is None:
            return SendResult(Delivery.transient, reason=str(response))
        return SendResult(Delivery.rejected, reason=str(response))
