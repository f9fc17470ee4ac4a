"""The council engine: reads the council information system (OParl) at start and then
daily, keeps the last good copy, lets the running themes follow it, and carries a linked
Beschlussvorlage's decision into its theme.

Woken by the scheduler like the other engines, but a read never holds up a tick: it runs
as a task of its own, bounded by the client's timeouts and caps, so a slow or hanging
server delays no reminder and no answer. Every way a read can fail (unreachable, slow, not
JSON, data of the wrong type, endless pages …) arrives as one `OParlUnavailable`: the last
good copy stays in use, the coordination room hears once that the council data is stale
and once that it is back (the store records that state with the notice, so a restart
repeats neither), and the next attempt comes an hour later.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import hashlib
import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from bot.clock import Clock
from bot.config import Config
from bot.council.client import Failure, OParlClient, OParlUnavailable
from bot.council.values import council_label, linked_paper, read_meetings, source_of
from bot.domain.council import CouncilRead, CouncilUpdate, Moved
from bot.domain.date_changes import date_change, rooms_to_tell
from bot.domain.lead_rooms import setup_for
from bot.domain.papers import LinkedPaper
from bot.domain.process import StepRole
from bot.domain.themes import ThemeView
from bot.domain.working_days import WorkingCalendar
from bot.engines.port import MatrixPort
from bot.matrix import events
from bot.rendering import Message, Renderer
from bot.store.council import CouncilStore, Notice
from bot.wake import Wake

log = logging.getLogger(__name__)

READ_EVERY = timedelta(days=1)
RETRY_AFTER = timedelta(hours=1)
# `!zt vorlage` waits at most this long for the council information system.
LOOKUP_DEADLINE = 60.0


@dataclass(frozen=True)
class CouncilNotices:
    """The sentences of council changes and the rooms they go to (store.CouncilWords)."""

    config: Config
    renderer: Renderer
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)

    def _to(self, rooms: list[str | None], kind: str, message: Message, *key: str) -> list[Notice]:
        content = events.notice(message)
        return [
            Notice(_key(kind, *key, room), room, content)
            for room in dict.fromkeys(r for r in rooms if r)
        ]

    def _local(self, moment: datetime | None) -> datetime | None:
        return moment.astimezone(self.config.bot.zone) if moment else None

    def update(self, update: CouncilUpdate, now: datetime) -> list[Notice]:
        message = self.renderer.message(
            "council_update", update=update, prefix=self.config.bot.prefix
        )
        notices = self._to([self.config.rooms.koordination], "update", message, now.isoformat())
        for moved in update.moved:
            notices += self._moved(moved, now)
        return notices

    def _moved(self, moved: Moved, now: datetime) -> list[Notice]:
        """A theme's other rooms hear what moved (the coordination room has the update)."""
        change = date_change(moved.before, moved.changes)
        if change is None:
            return []
        rooms = setup_for(
            self.config.rooms,
            moved.before.theme,
            coordination_copies=self.config.reminders.coordination_copies,
        )
        told = {self.config.rooms.koordination} - {None}
        message = self.renderer.message(
            "dates_moved",
            theme=moved.before.theme,
            change=change,
            labels=change.labels,
            holidays=change.holidays(self.calendar),
            cause="council_read",
            day=None,
            actor=None,
            prefix=self.config.bot.prefix,
        )
        targets: list[str | None] = list(rooms_to_tell(change, rooms, told_already=told))
        return self._to(targets, "moved", message, str(moved.before.id), now.isoformat())

    def stale(self, reason: str, last_success: datetime | None, now: datetime) -> list[Notice]:
        message = self.renderer.message(
            "council_stale", reason=reason, last_success=self._local(last_success)
        )
        return self._to([self.config.rooms.koordination], "stale", message, now.isoformat())

    def back(self, failing_since: datetime, now: datetime) -> list[Notice]:
        message = self.renderer.message("council_back", since=self._local(failing_since))
        return self._to([self.config.rooms.koordination], "back", message, now.isoformat())

    def decision_note(self, paper: LinkedPaper) -> str:
        return self.renderer.sentence("council_words", "decision_note", paper=paper).body

    def decision(self, view: ThemeView, paper: LinkedPaper, marked: bool) -> list[Notice]:
        template = view.template
        evaluation = template.step_with_role(StepRole.evaluation)
        message = self.renderer.message(
            "paper_decided",
            theme=view.theme,
            paper=paper,
            marked=marked,
            decision=template.step_with_role(StepRole.council_decision),
            evaluation=evaluation,
            evaluation_step=view.step(evaluation.key) if evaluation else None,
            prefix=self.config.bot.prefix,
        )
        rooms = [*view.rooms, self.config.rooms.koordination]
        return self._to(rooms, "decision", message, str(view.id), paper.key)


def _key(kind: str, *parts: str) -> str:
    """An outbox key: readable kind, digest of the rest (room ids and URLs are long)."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:40]
    return f"council/{kind}/{digest}"


@dataclass
class CouncilEngine:
    config: Config
    council: CouncilStore
    renderer: Renderer
    client: OParlClient
    clock: Clock
    # Sends the notices recorded with a change (the outbox's way, like replies).
    matrix: MatrixPort
    # Poked after a read changed something (the scheduler then looks for due reminders).
    wake: Wake
    words: CouncilNotices = field(init=False)
    _next_read: datetime | None = field(default=None, init=False)
    _reading: asyncio.Task | None = field(default=None, init=False)
    _loop: asyncio.AbstractEventLoop | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.words = CouncilNotices(self.config, self.renderer)

    @property
    def entry(self) -> str:
        assert self.config.council.oparl is not None, "only built with [council] oparl"
        return self.config.council.oparl

    @property
    def reading(self) -> bool:
        """A read is under way."""
        return self._reading is not None and not self._reading.done()

    def _configured(self) -> tuple[date, ...]:
        return self.config.council.meetings

    def _send(self, notices: list[Notice]) -> None:
        for notice in notices:
            self.matrix.queue_recorded(notice.key, notice.room_id, notice.content)

    # Woken by the scheduler ----------------------------------------------------------------

    async def start(self) -> None:
        """Remember the bot's event loop (`find_paper` runs the client on it)."""
        self._loop = asyncio.get_running_loop()

    async def tick(self, now: datetime) -> None:
        """Carry decisions already read (a paper linked just now); start a read when one is
        due, without waiting for it."""
        self._loop = asyncio.get_running_loop()
        await self._apply_decisions(now)
        due = self._next_read is None or now >= self._next_read
        if due and not self.reading:
            self._reading = asyncio.create_task(self._read_in_background(now), name="council")

    def next_wakeup(self, now: datetime) -> datetime | None:
        return self._next_read

    async def _apply_decisions(self, now: datetime) -> None:
        notices = await asyncio.to_thread(
            self.council.apply_decisions,
            configured=self._configured(),
            now=now,
            words=self.words,
            recorded_at=self.clock.wall(),
        )
        self._send(notices)

    async def _read_in_background(self, now: datetime) -> None:
        try:
            changed = await self.read(now)
        except Exception:  # a bug or the database: never the bot's end; tried again later
            log.exception("reading the council information system failed")
            self._next_read = now + RETRY_AFTER
            changed = False
        if changed:
            self.wake.poke()

    async def read(self, now: datetime) -> bool:
        """Read the council's meetings and the linked papers, and apply them; False when
        the council information system could not be read (the last good copy stays)."""
        zone = self.config.bot.zone
        council = self.config.council
        try:
            data = await self.client.council_meetings(
                self.entry, council.body, council.organization, today=now.date()
            )
            papers = {}
            for theme_id, key in (await asyncio.to_thread(self.council.papers_to_read)).items():
                state = await self.client.paper_by_url(key)
                papers[theme_id] = linked_paper(state, checked_at=now, zone=zone)
        except OParlUnavailable as failure:
            log.warning("council data not read (%s): %s", failure.kind, failure.code)
            notices = await asyncio.to_thread(
                self.council.record_failure,
                failure.text(self.renderer),
                now=now,
                words=self.words,
                recorded_at=self.clock.wall(),
            )
            self._send(notices)
            self._next_read = now + RETRY_AFTER
            return False
        body, organization = council_label(data)
        read = CouncilRead(
            source=source_of(self.entry, council.body, council.organization),
            body=body,
            organization=organization,
            meetings=read_meetings(data, zone),
            papers=papers,
        )
        notices = await asyncio.to_thread(
            self.council.apply_read,
            read,
            configured=self._configured(),
            now=now,
            words=self.words,
            recorded_at=self.clock.wall(),
        )
        self._send(notices)
        await self._apply_decisions(now)
        self._next_read = now + READ_EVERY
        log.info(
            "council data read: %s, %d meetings, %d papers", organization, len(read.meetings),
            len(papers),
        )  # fmt: skip
        return True

    # For `!zt vorlage` (a command handler, in a worker thread) -------------------------------

    def find_paper(
        self, reference: str, *, created_since: date | None, now: datetime
    ) -> LinkedPaper | None:
        """The paper with this reference ("BV/2027/0012"), None if the council information
        system has none; OParlUnavailable when it cannot say. Blocks the calling thread
        (never the event loop) for at most LOOKUP_DEADLINE seconds."""
        loop = self._loop
        if loop is None or loop.is_closed():
            raise OParlUnavailable(Failure.UNREACHABLE, "not_connected")
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            raise RuntimeError("find_paper waits: call it from a worker thread")
        lookup = self.client.paper(
            self.entry, reference, body=self.config.council.body, created_since=created_since
        )
        future = asyncio.run_coroutine_threadsafe(lookup, loop)
        try:
            state = future.result(timeout=LOOKUP_DEADLINE)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise OParlUnavailable(
                Failure.TIMEOUT, "lookup_timeout", seconds=LOOKUP_DEADLINE
            ) from None
        if state is None:
            return None
        return linked_paper(state, checked_at=now, zone=self.config.bot.zone)

    async def aclose(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
        await self.client.aclose()
