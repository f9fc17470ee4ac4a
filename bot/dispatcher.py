"""The command's way through the bot: a message from the adapter → the router, inside one
unit of work with the record of its reply (the outbox) → what runs after it. The adapter
only receives the message and sends what this returns.

Exactly once: a command's effect, its reply and its notices to other rooms commit in one
transaction, keyed by the command's event id; a command handled before (by this or
another instance) rolls back instead of applying twice, and a crash between the commit
and the send leaves the reply in the outbox, sent again after the restart.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from bot.failpoints import Failpoints
from bot.matrix import events
from bot.matrix.adapter import Handled, Incoming
from bot.memory import release_free_memory
from bot.rendering import Attachment
from bot.router import Outcome, Router
from bot.store.outbox import Outbox
from bot.wake import Wake

log = logging.getLogger(__name__)

# A command that ran this long read or drew a lot: what it freed is handed back after it.
HEAVY_COMMAND_SECONDS = 0.05


class _HandledBefore(Exception):
    """The command's event is in the outbox already: its effect must not apply again."""


@dataclass(frozen=True)
class Dispatched:
    """A handled command: what to send (recorded in the outbox already) and its outcome."""

    outcome: Outcome
    reply: dict  # the reply's event content
    notices: tuple[tuple[str, str, dict], ...] = ()  # (outbox key, room id, content)

    @property
    def verb(self) -> str:
        return self.outcome.verb

    @property
    def result(self) -> str:
        return self.outcome.result

    @property
    def attachment(self) -> Attachment | None:
        return self.outcome.reply.attachment


@dataclass
class Dispatcher:
    router: Router
    outbox: Outbox
    now: Callable[[], datetime]  # the clock's now (the router's "today")
    wall: Callable[[], datetime]  # when a reply is recorded
    wake: Wake
    # Counts a command by verb and result (metrics).
    count: Callable[[str, str], None] = field(default=lambda verb, result: None)
    failpoints: Failpoints = field(default_factory=Failpoints)

    def handle(self, incoming: Incoming, event_id: str, catching_up: bool) -> Handled | None:
        """Run a command exactly once (in a worker thread): its effect, the record of its
        reply and of its notices commit together, or nothing does. None: not a command
        for the bot, or handled before."""
        try:
            with self.outbox.unit_of_work():
                # Only the first sync after a start can bring a command handled before.
                if catching_up and self.outbox.was_handled(event_id):
                    return None
                outcome = self._route(incoming)
                if outcome is None:
                    return None
                reply = events.reply(outcome.reply, event_id, incoming.sender)
                self.failpoints.hit("command_applied")  # tests: killed before the commit
                if not self.outbox.record(event_id, incoming.room_id, reply, self.wall()):
                    raise _HandledBefore(event_id)
                notices = self._record_notices(event_id, outcome)
        except _HandledBefore:
            return None
        self.failpoints.hit("command_committed")  # tests: killed between effect and send
        return Dispatched(outcome, reply, notices)

    def finished(self, handled: Handled) -> None:
        """After the reply is queued (on the event loop): counted, and the scheduler woken
        when the command may have changed what reminders depend on."""
        assert isinstance(handled, Dispatched)
        self.count(handled.verb, handled.result)
        if handled.outcome.changed:
            self.wake.poke()

    def _route(self, incoming: Incoming) -> Outcome | None:
        started = time.perf_counter()
        try:
            return self.router.handle(
                incoming.body,
                sender=incoming.sender,
                room_id=incoming.room_id,
                now=self.now(),
                mentions=incoming.mentions,
                is_direct=incoming.is_direct,
            )
        finally:
            if time.perf_counter() - started > HEAVY_COMMAND_SECONDS:
                release_free_memory()

    def _record_notices(self, event_id: str, outcome: Outcome) -> tuple[tuple[str, str, dict], ...]:
        """The command's notices to other rooms, in the outbox beside its reply (keyed by
        the command's event id and their place), so a crash neither loses nor repeats them."""
        recorded = []
        for number, notice in enumerate(outcome.notices, start=1):
            key, content = f"{event_id}/notice/{number}", events.notice(notice.message)
            self.outbox.record(key, notice.room_id, content, self.wall())
            recorded.append((key, notice.room_id, content))
        return tuple(recorded)
