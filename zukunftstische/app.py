"""Wiring: config → store, template, renderer, router, Matrix adapter; run until stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass
from datetime import timedelta

from zukunftstische.clock import ENV_CLOCK_OFFSET, Clock, parse_offset
from zukunftstische.commands.base import Services
from zukunftstische.commands.router import Outcome, Router
from zukunftstische.config import Config, ConfigError
from zukunftstische.council.wiring import client_for
from zukunftstische.domain.annual_plan import SchoolHolidays
from zukunftstische.domain.matrix_ids import is_room_alias
from zukunftstische.domain.process import load_template
from zukunftstische.domain.working_days import WorkingCalendar
from zukunftstische.engines.council import CouncilEngine
from zukunftstische.engines.evaluation import EvaluationEngine
from zukunftstische.engines.reminders import ReminderEngine
from zukunftstische.engines.scheduler import ReminderScheduler
from zukunftstische.matrix.adapter import Incoming, MatrixAdapter, resolve_aliases
from zukunftstische.rendering import Renderer
from zukunftstische.store.council import CouncilStore
from zukunftstische.store.cross_signing_keys import CrossSigningKeys
from zukunftstische.store.evaluations import EvaluationStore
from zukunftstische.store.outbox import Outbox
from zukunftstische.store.privacy import prune_on_start
from zukunftstische.store.themes import Store

log = logging.getLogger(__name__)


def clock_from_env(config: Config) -> Clock:
    offset = parse_offset(os.environ.get(ENV_CLOCK_OFFSET, ""))
    if offset:
        log.warning("clock shifted by %s (%s): a testing aid", offset, ENV_CLOCK_OFFSET)
    return Clock(config.bot.zone, offset)


@dataclass
class Bot:
    config: Config
    clock: Clock
    store: Store
    adapter: MatrixAdapter
    router: Router
    scheduler: ReminderScheduler
    # Reads the council information system; None without `[council] oparl`.
    council: CouncilEngine | None = None

    def answer(self, incoming: Incoming) -> Outcome | None:
        return self.router.handle(
            incoming.body,
            sender=incoming.sender,
            room_id=incoming.room_id,
            now=self.clock.now(),
            mentions=incoming.mentions,
            is_direct=incoming.is_direct,
        )

    def _after_command(self, outcome: Outcome) -> None:
        if outcome.changed:
            self.scheduler.poke()  # a change may have made a reminder due

    async def _start_reminders(self) -> None:
        await self.adapter.ready.wait()
        self.scheduler.start()

    async def run(self) -> None:
        self.adapter.after_command = self._after_command
        self.adapter.after_join = self.scheduler.poke
        if self.council is not None:
            await self.council.start()
        reminders = asyncio.create_task(self._start_reminders(), name="reminders")
        try:
            await self.adapter.run(self.answer)
        finally:
            reminders.cancel()
            self.scheduler.stop()
            if self.council is not None:
                await self.council.aclose()
            await self.adapter.close()
            self.store.close()


async def resolve_configured_rooms(config: Config) -> Config:
    """The config with every room alias (`#koordination:example.org`) replaced by the room
    id the homeserver's directory gives; ConfigError naming the key for an unknown alias."""
    aliases = [room for _, room in config.rooms.named() if is_room_alias(room)]
    if not aliases:
        return config
    found = await resolve_aliases(config.matrix.homeserver, aliases)
    rooms: dict[str, str] = {}
    for key, room in config.rooms.named():
        if not is_room_alias(room):
            continue
        room_id = found.get(room)
        if room_id is None:
            raise ConfigError(
                f"{key}: die Raumadresse {room} gibt es auf {config.matrix.homeserver} nicht. "
                "Bitte die Adresse prüfen (Element: Raumeinstellungen → Allgemein → "
                "Veröffentlichte Adressen) oder die interne Raum-ID eintragen."
            )
        log.info("%s: %s is room %s", key, room, room_id)
        rooms[key.removeprefix("rooms.")] = room_id
    return config.model_copy(update={"rooms": config.rooms.model_copy(update=rooms)})


def build_bot(config: Config, clock: Clock | None = None) -> Bot:
    clock = clock or clock_from_env(config)
    config.bot.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store(config.database_url)
    store.upgrade()
    pruned = prune_on_start(store, retention_days=config.privacy.retention_days, now=clock.now())
    if pruned is not None:
        log.info(
            "retention: %d history entries and %d step notes removed",
            pruned.history_deleted,
            pruned.notes_cleared,
        )
    adapter = MatrixAdapter(config, clock, Outbox(store), CrossSigningKeys(store))
    renderer = Renderer(config.bot.language)
    calendar = WorkingCalendar()
    council = None
    if config.council.oparl is not None:
        council = CouncilEngine(
            config,
            CouncilStore(store),
            renderer,
            client_for(config),
            clock,
            deliver=adapter.queue_recorded,
        )
    services = Services(
        config=config,
        store=store,
        template=load_template(config.process.file),
        renderer=renderer,
        authority=adapter,
        calendar=calendar,
        school_holidays=SchoolHolidays(calendar.country, calendar.subdiv, calendar.language),
        evaluations=EvaluationStore(store),
        papers=council,
    )
    engine = ReminderEngine(
        config,
        store,
        renderer,
        calendar,
        send=adapter.queue.put,
        find_in_history=adapter.find_reminder_event,
        in_room=adapter.in_room,
    )
    evaluation = EvaluationEngine(
        config, store, services.evaluations, renderer, calendar, transport=adapter
    )
    tick = timedelta(seconds=config.reminders.tick_seconds)
    engines = [engine, evaluation, *([council] if council is not None else [])]
    scheduler = ReminderScheduler(engines, clock, tick)
    if council is not None:
        council.on_change = scheduler.poke  # re-planned themes may make reminders due
    return Bot(config, clock, store, adapter, Router(services), scheduler, council)


async def run_until_signalled(bot: Bot) -> None:
    """Run the bot; SIGTERM or SIGINT stops it cleanly (queued sends finish first)."""
    task = asyncio.create_task(bot.run(), name="bot")
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        log.info("stopped")
