"""The adapter's sync: lean filters, the sync token kept in the database and saved only once
every command of the syncs before it is handled, devices followed for encryption."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from functools import partial

from nio import (
    AsyncClient,
)

from bot.config import Config
from bot.store.sync_state import SyncState
from bot.wake import Wake

log = logging.getLogger(__name__)

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


class SyncKeeper:
    """The sync token and what each sync tells (a part of MatrixAdapter)."""

    config: Config
    client: AsyncClient
    sync_state: SyncState | None
    last_sync_ms: int
    wake: Wake

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
            self.wake.poke()

    def _follow_device_changes(self, users: list[str]) -> None:
        """A member got a new device: start a new room key, so that it is shared with that
        device too (matrix-nio shares a session only once, when it is created)."""
        if not users or self.client.olm is None:
            return
        changed = set(users)
        for room in self.client.rooms.values():
            if room.encrypted and changed & set(room.users):
                self.client.invalidate_outbound_session(room.room_id)

    async def _sync_forever(self) -> None:
        await self.client.sync_forever(timeout=30_000, sync_filter=SYNC_FILTER, full_state=False)
