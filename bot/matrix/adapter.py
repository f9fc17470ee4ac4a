"""The Matrix adapter: it receives and it sends. A message goes to the command handler (the
dispatcher), its answer and notices through the bot-wide send queue; reminders and the
engines' notices too. Login, rooms and invites, uploads and the sync live in the parts it
is made of (login.py, rooms.py, media.py, sync.py); this package is the only code that
talks to matrix-nio.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from asyncio import FIRST_COMPLETED
from collections import OrderedDict
from collections.abc import Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote

from nio import (
    AsyncClient,
    AsyncClientConfig,
    InviteMemberEvent,
    MatrixRoom,
    MegolmEvent,
    RoomMessageText,
    RoomResolveAliasResponse,
    RoomSendResponse,
)
from nio.exceptions import LocalProtocolError, OlmUnverifiedDeviceError

from bot.clock import Clock
from bot.config import Config
from bot.domain.sendout import SYNAPSE_ROOM_CREATION, SendLimits
from bot.failpoints import Failpoints
from bot.matrix.joins import Joiner
from bot.matrix.login import DeviceLogin, DeviceRecord
from bot.matrix.media import Media
from bot.matrix.power import RoomCreation
from bot.matrix.rooms import RoomKeeper
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
from bot.matrix.sync import FIRST_SYNC_FILTER, SyncKeeper, SyncProgress
from bot.rendering import Attachment, Renderer
from bot.store.cross_signing_keys import CrossSigningKeys
from bot.store.database import retry_while_unavailable_async
from bot.store.outbox import Outbox
from bot.store.sync_state import SyncState
from bot.tasks import Tasks
from bot.wake import Wake

log = logging.getLogger(__name__)

OUTBOX_KEEP = timedelta(days=2)
SEEN_EVENTS = 2048
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


class Handled(Protocol):
    """A handled command, as the adapter sends it (recorded in the outbox already)."""

    @property
    def verb(self) -> str: ...
    @property
    def result(self) -> str: ...  # "ok", "refused", "error"
    @property
    def reply(self) -> dict: ...  # the reply's event content
    @property
    def notices(self) -> Sequence[tuple[str, str, dict]]: ...  # (outbox key, room, content)
    @property
    def attachment(self) -> Attachment | None: ...


class CommandHandler(Protocol):
    """The command's way through the bot (bot/dispatcher.py)."""

    def handle(self, incoming: Incoming, event_id: str, catching_up: bool) -> Handled | None:
        """In a worker thread: run the command once; None if it is none or was handled."""
        ...

    def finished(self, handled: Handled) -> None:
        """On the event loop, once its answer is queued."""
        ...


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


class MatrixAdapter(DeviceLogin, RoomKeeper, Media, SyncKeeper):
    """matrix-nio for the bot: receives commands, sends answers, reminders and notices."""

    def __init__(
        self,
        config: Config,
        clock: Clock,
        outbox: Outbox,
        cross_signing: CrossSigningKeys | None = None,
        failpoints: Failpoints | None = None,
        tasks: Tasks | None = None,
        sync_state: SyncState | None = None,
        wake: Wake | None = None,
    ) -> None:
        self.config = config
        # Poked after joining a room: reminders for a room wait until the bot is in it.
        self.wake = wake or Wake()
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
            on_refused=self._tell_refused,
        )
        self.renderer = Renderer(config.bot.language)
        self._direct_lock = asyncio.Lock()  # m.direct is read, changed and written back
        self.devices = DeviceRecord(Path(config.bot.data_dir) / "device.json")
        self._commands: CommandHandler | None = None
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._sender: asyncio.Task | None = None
        # Set once the first sync is done: rooms and members are known, sending may start.
        self.ready = asyncio.Event()
        self._known_rooms: set[str] = set()
        # Each room's creation facts (room version, creators) from its m.room.create event:
        # in room version 12 the creators outrank every power level (MSC4289).
        self._creations: dict[str, RoomCreation] = {}
        # `zt-bot health` reads when the bot last synced from this file.
        # When the last sync came back (ms since the epoch; health and metrics read it).
        self.last_sync_ms = 0

    async def run(self, commands: CommandHandler) -> None:
        """Log in, join pending invites, then sync until cancelled; every command goes to
        `commands`."""
        self._commands = commands
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
        # Synced, and what the first sync showed is acted on (health reads this).
        self.last_sync_ms = int(time.time() * 1000)
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

    # Callbacks: never wait on a send -----------------------------------------------------

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
            self._handle(room.room_id, event, catching_up, age_ms), f"command {event.event_id}"
        )
        task.add_done_callback(lambda _task: self.progress.finished())

    def _confirm(self, confirmation: Coroutine[Any, Any, None], what: str) -> None:
        """A send is confirmed in the background (the sent-log or the outbox is marked,
        waiting for the database if need be), so the queue goes on meanwhile."""
        self.tasks.spawn(confirmation, f"confirm {what}")

    async def _handle(
        self, room_id: str, event: RoomMessageText, catching_up: bool, age_ms: float
    ) -> None:
        commands = self._commands
        assert commands is not None
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
        # Off the event loop; while the database is unreachable (e.g. PostgreSQL
        # restarting) it waits and tries again, so no command's effect is lost.
        handled = await retry_while_unavailable_async(
            lambda: asyncio.to_thread(commands.handle, incoming, event.event_id, catching_up),
            "answering a command",
        )
        if handled is None:
            return
        self._queue_reply(event.event_id, room_id, handled.reply)
        for key, notice_room, notice in handled.notices:
            self.queue_recorded(key, notice_room, notice)
        if handled.attachment is not None:
            await self._send_file(room_id, event.event_id, handled.attachment)
        commands.finished(handled)
        log.info(  # received_ms: from the homeserver's event to the bot (bench/peer.py)
            "handled room=%s verb=%s outcome=%s received_ms=%.1f ms=%.1f",
            room_id,
            handled.verb,
            handled.result,
            age_ms,
            (time.perf_counter() - started) * 1000,
        )

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

    def send_later(self, outgoing: Outgoing) -> None:
        """Queue an event (a reminder) for the bot-wide send queue."""
        self.queue.put(outgoing)

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

    # What the engines use (engines/port.py) --------------------------------------------

    @property
    def user_id(self) -> str:
        return self.client.user_id

    async def send_now(
        self, room_id: str, event_type: str, content: dict, txn_id: str, priority: Priority
    ) -> str | None:
        """Send through the bot-wide queue and wait: the event id, or None if refused."""
        await self._wait_for_room(room_id)
        return await self.queue.send(Outgoing(room_id, content, txn_id, event_type, priority))

    # Sending -----------------------------------------------------------------------------

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
