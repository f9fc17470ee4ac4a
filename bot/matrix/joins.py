"""Joining the rooms the bot is invited to: never given up while the invite stands.

A homeserver limits joins (Synapse: `rc_joins_per_room`, 1 join/s per room after a burst of
10, so a room its 40 participants have just joined is closed for a while; `rc_joins.local`,
0.1/s per user after 10), and answers 429 with `retry_after_ms`: the join waits that long and
tries again, as often as it takes. An unreachable homeserver is waited for with a growing
pause. Only a refusal for good ends it (the invite withdrawn, the bot banned, the room gone);
for a configured room that refusal is logged once with the reason and told through
`on_refused`. What is pending and what was refused is what health and metrics show.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

log = logging.getLogger(__name__)

MAX_BACKOFF_SECONDS = 60.0


@dataclass(frozen=True)
class JoinAnswer:
    """The homeserver's answer to one join (status 0: no answer at all)."""

    status: int
    errcode: str | None = None
    error: str = ""
    retry_after_ms: int | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def rate_limited(self) -> bool:
        return self.status == 429 or self.errcode == "M_LIMIT_EXCEEDED"

    @property
    def transient(self) -> bool:
        return self.status == 0 or self.status >= 500

    @property
    def reason(self) -> str:
        if self.status == 0:
            return self.error or "homeserver unreachable"
        return " ".join(
            part for part in (self.errcode or f"HTTP {self.status}", self.error) if part
        )


@dataclass
class Joining:
    """A join under way (for health and metrics)."""

    room_id: str
    since: datetime
    key: str | None = None  # the config key of a configured room (rooms.koordination)
    attempts: int = 0
    rate_limited: int = 0
    last: str = ""  # why the last attempt failed


@dataclass(frozen=True)
class Refused:
    """A configured room the bot cannot work in, and why."""

    room_id: str
    key: str
    reason: str


Spawn = Callable[[Coroutine[Any, Any, None], str], asyncio.Task]


class Joiner:
    def __init__(
        self,
        request: Callable[[str], Awaitable[JoinAnswer]],
        *,
        clock: Callable[[], datetime],
        spawn: Spawn,
        configured: Callable[[], Mapping[str, str]] = dict,
        on_refused: Callable[[Refused, JoinAnswer], None] | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._request = request
        self._clock = clock
        self._spawn = spawn
        self._configured = configured  # room id → config key
        self._sleep = sleep
        self.pending: dict[str, Joining] = {}
        self.refused: dict[str, Refused] = {}  # configured rooms only
        self.rate_limited = 0  # 429 answers to joins, waited out (metrics)
        self._tasks: dict[str, asyncio.Task] = {}
        # Told when a configured room refused the bot (once per reason).
        self.on_refused = on_refused

    def start(self, room_id: str, then: Callable[[], Awaitable[None]] | None = None) -> None:
        """Join `room_id` in the background (once: a join under way is not started again);
        `then` runs after it succeeded."""
        if room_id in self._tasks:
            return
        task = self._spawn(self._join_then(room_id, then), f"join {room_id}")
        self._tasks[room_id] = task
        task.add_done_callback(lambda _task: self._tasks.pop(room_id, None))

    def withdrawn(self, room_id: str) -> None:
        """The invite is gone (the bot's membership became `leave`): stop trying."""
        task = self._tasks.get(room_id)
        if task is None:
            return
        log.warning("the invite to %s was withdrawn: not joining it", room_id)
        task.cancel()
        self._refuse(room_id, JoinAnswer(403, "M_FORBIDDEN", "the invite was withdrawn"))

    def refuse(self, room_id: str, key: str, reason: str) -> None:
        """Note a configured room the bot cannot work in (found at start)."""
        self.refused[room_id] = Refused(room_id, key, reason)

    async def _join_then(self, room_id: str, then: Callable[[], Awaitable[None]] | None) -> None:
        if await self.join(room_id) and then is not None:
            await then()

    async def join(self, room_id: str) -> bool:
        """Join until it worked (True) or the homeserver refused for good (False)."""
        state = Joining(room_id, self._clock(), key=self._configured().get(room_id))
        self.pending[room_id] = state
        backoff = 1.0
        try:
            while True:
                answer = await self._request(room_id)
                state.attempts += 1
                if answer.ok:
                    self.refused.pop(room_id, None)
                    if state.attempts > 1:
                        log.info("joined %s after %d attempts", room_id, state.attempts)
                    else:
                        log.info("joined %s", room_id)
                    return True
                if answer.rate_limited:
                    self.rate_limited += 1
                    state.rate_limited += 1
                    retry_ms = answer.retry_after_ms
                    wait = (retry_ms if retry_ms is not None else 1000) / 1000
                    if state.rate_limited == 1:
                        log.info(
                            "join %s: the homeserver asks to wait (429, %.1f s); trying again "
                            "until it works or the invite is withdrawn",
                            room_id,
                            wait,
                        )
                elif answer.transient:
                    wait, backoff = backoff, min(backoff * 2, MAX_BACKOFF_SECONDS)
                    if state.attempts - state.rate_limited == 1:
                        log.warning(
                            "join %s failed (%s); trying again with backoff",
                            room_id,
                            answer.reason,
                        )
                else:
                    self._refuse(room_id, answer)
                    return False
                state.last = answer.reason
                await self._sleep(wait)
        finally:
            self.pending.pop(room_id, None)

    def _refuse(self, room_id: str, answer: JoinAnswer) -> None:
        key = self._configured().get(room_id)
        if key is None:
            log.warning("cannot join %s: %s", room_id, answer.reason)
            return
        known = self.refused.get(room_id)
        refused = Refused(room_id, key, answer.reason)
        self.refused[room_id] = refused
        if known is not None and known.reason == refused.reason:
            return  # told already
        log.error(
            "%s: the bot cannot join room %s (%s): invite it again (Element: room info → "
            "People → Invite); it joins at once",
            key,
            room_id,
            answer.reason,
        )
        if self.on_refused is not None:
            self.on_refused(refused, answer)
