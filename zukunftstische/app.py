"""Wiring: config → store, template, renderer, router, Matrix adapter; run until stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from aiohttp import web

from zukunftstische.charts import Charts
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
from zukunftstische.failpoints import Failpoints
from zukunftstische.health import HealthReporter, Limits, Snapshot
from zukunftstische.matrix.adapter import Incoming, MatrixAdapter, resolve_aliases
from zukunftstische.metrics import BotMetrics, Readings, seconds_since
from zukunftstische.rendering import Renderer
from zukunftstische.store.council import CouncilStore
from zukunftstische.store.cross_signing_keys import CrossSigningKeys
from zukunftstische.store.evaluations import EvaluationStore
from zukunftstische.store.feeds import FeedTokens
from zukunftstische.store.outbox import Outbox
from zukunftstische.store.privacy import prune_on_start
from zukunftstische.store.sync_state import SyncState
from zukunftstische.store.themes import Store
from zukunftstische.tasks import Tasks
from zukunftstische.web.feeds import CalendarFeeds
from zukunftstische.web.health import health_routes
from zukunftstische.web.server import WebServer

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
    reminders: ReminderEngine
    # Reads the council information system; None without `[council] oparl`.
    council: CouncilEngine | None = None
    metrics: BotMetrics = field(default_factory=BotMetrics)
    # The HTTP side: calendar feeds ([web] listen), /healthz and /metrics ([health] listen).
    servers: list[WebServer] = field(default_factory=list)

    def answer(self, incoming: Incoming) -> Outcome | None:
        return self.router.handle(
            incoming.body,
            sender=incoming.sender,
            room_id=incoming.room_id,
            now=self.clock.now(),
            mentions=incoming.mentions,
            is_direct=incoming.is_direct,
        )

    def readings(self) -> Readings:
        """What Prometheus reads at each scrape."""
        queue = self.adapter.queue
        oldest = queue.oldest_since
        return Readings(
            replies_sent=queue.sent_answers,
            reminders_sent=self.reminders.sent,
            rate_limited=queue.rate_limited,
            reminders_pending=self.reminders.pending,
            queue_depth=queue.pending,
            queue_oldest_age=(self.clock.wall() - oldest).total_seconds() if oldest else 0.0,
            sync_lag=seconds_since(self.adapter.last_sync_ms),
            tick_seconds=dict(self.scheduler.tick_seconds),
        )

    def _after_command(self, outcome: Outcome) -> None:
        self.metrics.command(outcome.verb, outcome.result)
        if outcome.changed:
            self.scheduler.poke()  # a change may have made a reminder due

    async def _start_reminders(self) -> None:
        """Once the first sync is done: reminders, and the health snapshot (written at
        once, so that `zt-bot health` sees the bot as soon as it works)."""
        await self.adapter.ready.wait()
        self.scheduler.start()
        tasks = self.adapter.tasks
        reporter = HealthReporter(self.config.bot.data_dir, self.snapshot)
        tasks.spawn(tasks.supervise("health", reporter.run), "health")

    def snapshot(self) -> Snapshot:
        """What the bot is doing, for `zt-bot health` (wall clock, UTC)."""
        synced = self.adapter.last_sync_ms
        queue = self.adapter.queue
        return Snapshot(
            last_sync=datetime.fromtimestamp(synced / 1000, UTC) if synced else None,
            written_at=self.clock.wall(),
            queue_depth=queue.pending,
            queue_oldest_since=queue.oldest_since,
            queue_last_progress=queue.last_progress,
            last_tick=self.scheduler.last_tick,
            tick_every=self.scheduler.tick_every,
        )

    async def run(self) -> None:
        self.adapter.after_command = self._after_command
        self.adapter.after_join = self.scheduler.poke
        for server in self.servers:
            await server.start()
        if self.council is not None:
            await self.council.start()
        reminders = self.adapter.tasks.spawn(self._start_reminders(), "start reminders")
        try:
            await self.adapter.run(self.answer)
        finally:
            reminders.cancel()
            self.scheduler.stop()
            for server in self.servers:
                await server.stop()
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
    failpoints = Failpoints.from_env()
    tasks = Tasks()
    store = Store(config.database_url, failpoints)
    store.upgrade()
    pruned = prune_on_start(store, retention_days=config.privacy.retention_days, now=clock.now())
    if pruned is not None:
        log.info(
            "retention: %d history entries and %d step notes removed",
            pruned.history_deleted,
            pruned.notes_cleared,
        )
    adapter = MatrixAdapter(
        config, clock, Outbox(store), CrossSigningKeys(store), failpoints, tasks, SyncState(store)
    )
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
        feeds=FeedTokens(store),
        charts=Charts(),
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
    scheduler = ReminderScheduler(engines, clock, tick, tasks)
    if council is not None:
        council.on_change = scheduler.poke  # re-planned themes may make reminders due
    bot = Bot(config, clock, store, adapter, Router(services), scheduler, engine, council)
    bot.metrics.watch(bot.readings)
    bot.servers = web_servers(services, bot)
    return bot


def web_servers(services: Services, bot: Bot) -> list[WebServer]:
    """The HTTP servers, one per listen address: feeds and health share one when both are
    on the same address; health stays on its own (loopback) port otherwise."""
    config = services.config
    routes: dict[tuple[str, int], list[web.RouteDef]] = {}
    if config.web.enabled:
        feeds = CalendarFeeds(
            services.store,
            services.feeds,
            lead_names=services.renderer.lead_names(),
            all_themes_name=services.renderer.words("calendar_words")["all_themes"],
        )
        routes.setdefault((config.web.host, config.web.port), []).extend(feeds.routes())
    if config.health.enabled:
        limits = Limits(config.health.sync_stale_after, config.health.queue_stuck_after)
        checks = health_routes(bot.snapshot, bot.clock.wall, limits, bot.metrics)
        routes.setdefault((config.health.host, config.health.port), []).extend(checks)
    servers = []
    for (host, port), found in routes.items():
        server = WebServer(host, port)
        server.add_routes(found)
        servers.append(server)
    return servers


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
