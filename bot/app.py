"""Wiring: config → store, template, renderer, router, Matrix adapter; run until stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from aiohttp import web

from bot.charts import Charts
from bot.charts.worker import PictureWorker
from bot.clock import ENV_CLOCK_OFFSET, Clock, parse_offset
from bot.command import Services
from bot.config import Config, ConfigError
from bot.council.wiring import client_for
from bot.dispatcher import Dispatcher
from bot.domain.annual_plan import SchoolHolidays
from bot.domain.ics import CalendarLabels
from bot.domain.matrix_ids import is_room_alias
from bot.domain.process import load_template
from bot.domain.working_days import WorkingCalendar
from bot.engines.council import CouncilEngine
from bot.engines.evaluation import EvaluationEngine
from bot.engines.reminders import ReminderEngine
from bot.engines.scheduler import ReminderScheduler
from bot.failpoints import Failpoints
from bot.health import ACTIVE, STANDBY, HealthReporter, Limits, Snapshot
from bot.matrix.adapter import MatrixAdapter, resolve_aliases
from bot.metrics import BotMetrics, Readings, seconds_since
from bot.rendering import Renderer
from bot.rights import Rights
from bot.router import Router
from bot.store.council import CouncilStore
from bot.store.cross_signing_keys import CrossSigningKeys
from bot.store.database import is_unavailable
from bot.store.evaluations import EvaluationStore
from bot.store.feeds import FeedTokens
from bot.store.lease import (
    CHECK_SECONDS,
    POLL_SECONDS,
    AlreadyRunning,
    Lease,
    NoLease,
    lease_for,
)
from bot.store.outbox import Outbox
from bot.store.privacy import prune_on_start
from bot.store.sync_state import SyncState
from bot.store.themes import Store
from bot.tasks import Tasks
from bot.wake import Wake
from bot.web.feeds import CalendarFeeds
from bot.web.health import health_routes
from bot.web.public import PublicSite
from bot.web.server import WebServer
from commands import COMMANDS, PLAIN

log = logging.getLogger(__name__)

# A lease check that takes longer than this counts as a lost lease (a hung connection).
CHECK_TIMEOUT_SECONDS = 10.0
# The picture worker process ends this long after the last picture (see charts/worker.py).
PICTURE_WORKER_IDLE_SECONDS = 300.0


class LeaseLost(RuntimeError):
    """The lease connection died: another instance may be active now, so this one ends
    (non-zero, so that systemd or the container starts it again, as a standby)."""


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
    # A command's way: the router in a unit of work with its reply's record, then after.
    dispatcher: Dispatcher
    metrics: BotMetrics
    # Reads the council information system; None without `[council] oparl`.
    council: CouncilEngine | None = None
    # The HTTP side: calendar feeds ([web] listen), /healthz and /metrics ([health] listen).
    servers: list[WebServer] = field(default_factory=list)
    # Never two active instances: nothing syncs, sends or migrates before this is held.
    lease: Lease = field(default_factory=NoLease)
    # Schema upgraded and old entries pruned (build_bot does it, or run() once leased).
    prepared: bool = False
    # Holding the lease and prepared: syncing, sending, serving feeds.
    active: bool = False
    role: str = ACTIVE
    standby_since: datetime | None = None

    def prepare(self) -> None:
        """Bring the schema up to date and prune what is past retention: only the active
        instance does this (a new version waiting as standby never migrates under the
        old one)."""
        self.store.upgrade()
        config = self.config
        pruned = prune_on_start(
            self.store, retention_days=config.privacy.retention_days, now=self.clock.now()
        )
        if pruned is not None:
            log.info(
                "retention: %d history entries and %d step notes removed",
                pruned.history_deleted,
                pruned.notes_cleared,
            )
        self.prepared = True

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
            active=int(self.active),
            **self.adapter.room_readings(),
        )

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
            role=self.role,
            standby_since=self.standby_since,
            **self.adapter.room_notes(),
        )

    async def _take_lease(self) -> None:
        """Take the lease; while another instance holds it, wait as standby (logged once)
        and try again every POLL_SECONDS. SQLite: AlreadyRunning instead of waiting."""
        lease = self.lease
        standby: asyncio.Task | None = None
        unreachable = False
        try:
            while True:
                try:
                    taken = await asyncio.to_thread(lease.try_acquire)
                    if unreachable:
                        log.info("lease: database reachable again")
                    unreachable = False
                except Exception as err:
                    if not is_unavailable(err):
                        raise
                    if not unreachable:
                        log.warning("lease: database unreachable (%s); trying again", err)
                    unreachable, taken = True, False
                if taken:
                    break
                if not lease.waits:
                    raise AlreadyRunning(lease.describe())
                if standby is None and not unreachable:
                    self.role, self.standby_since = STANDBY, self.clock.wall()
                    log.warning(
                        "standby: another instance is active on %s; this one waits and takes "
                        "over when it ends (trying every %.0f s)",
                        lease.describe(),
                        POLL_SECONDS,
                    )
                    reporter = HealthReporter(self.config.bot.data_dir, self.snapshot)
                    standby = self.adapter.tasks.spawn(reporter.run(), "standby health")
                await asyncio.sleep(POLL_SECONDS)
        finally:
            if standby is not None:
                standby.cancel()
        if self.standby_since is not None:
            waited = (self.clock.wall() - self.standby_since).total_seconds()
            log.warning("lease taken after %.1f s as standby: this instance is active now", waited)
        else:
            log.info("lease taken (%s): this instance is active", lease.describe())
        self.role = ACTIVE

    async def _keep_lease(self) -> None:
        """Check the lease connection every CHECK_SECONDS; LeaseLost when it is gone."""
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                    held = await asyncio.to_thread(self.lease.check)
            except TimeoutError:
                held = False
            if not held:
                self.active = False
                raise LeaseLost(self.lease.describe())

    async def run(self) -> None:
        running: list[asyncio.Task] = []
        try:
            # Health answers at once ("standby" while waiting); feeds wait for the lease.
            for server in self.servers:
                await server.start()
            await self._take_lease()
            if not self.prepared:
                await asyncio.to_thread(self.prepare)
            self.active = True
            if self.council is not None:
                await self.council.start()
            tasks = self.adapter.tasks
            running.append(tasks.spawn(self._start_reminders(), "start reminders"))
            # Awaited just below: their failure is raised here (the CLI says what to do),
            # so they are not spawned through `tasks`, which would log it once more.
            adapter = asyncio.create_task(self.adapter.run(self.dispatcher), name="adapter")
            keeper = asyncio.create_task(self._keep_lease(), name="keep lease")
            running += [adapter, keeper]
            done, _ = await asyncio.wait({adapter, keeper}, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()
        finally:
            self.active = False
            for task in running:
                task.cancel()
            self.scheduler.stop()
            for server in self.servers:
                await server.stop()
            if self.council is not None:
                await self.council.aclose()
            await self.adapter.close()
            await asyncio.to_thread(self.router.services.charts.close)
            self.store.close()
            # Last: queued sends are out and the key store closed before the standby starts.
            await asyncio.to_thread(self.lease.release)
            log.info("lease released")


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
                "unknown_alias", key=key, room=room, homeserver=config.matrix.homeserver
            )
        log.info("%s: %s is room %s", key, room, room_id)
        rooms[key.removeprefix("rooms.")] = room_id
    return config.model_copy(update={"rooms": config.rooms.model_copy(update=rooms)})


def build_bot(config: Config, clock: Clock | None = None, *, prepare: bool = True) -> Bot:
    """The bot, wired; with `prepare` the schema is upgraded now (tests, the demo),
    without it only once the lease is held (`zt-bot run`)."""
    clock = clock or clock_from_env(config)
    config.bot.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    failpoints = Failpoints.from_env()
    tasks = Tasks()
    # Commands, joins and the council's data poke it; the scheduler ticks.
    wake = Wake()
    database = config.database
    store = Store(
        config.database_url,
        failpoints,
        pool_size=database.pool_size,
        max_overflow=database.max_overflow,
    )
    outbox = Outbox(store)
    adapter = MatrixAdapter(
        config, clock, outbox, CrossSigningKeys(store), failpoints, tasks, SyncState(store), wake
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
            matrix=adapter,
            wake=wake,
        )
    services = Services(
        config=config,
        store=store,
        template=load_template(config.process.file),
        renderer=renderer,
        rights=Rights(config, adapter),
        calendar=calendar,
        school_holidays=SchoolHolidays(calendar.country, calendar.subdiv, calendar.language),
        evaluations=EvaluationStore(store),
        feeds=FeedTokens(store),
        charts=Charts(worker=PictureWorker(PICTURE_WORKER_IDLE_SECONDS)),
        papers=council,
        rooms=adapter,
    )
    engine = ReminderEngine(config, store, renderer, calendar, matrix=adapter)
    evaluation = EvaluationEngine(
        config, store, services.evaluations, renderer, calendar, matrix=adapter
    )
    tick = timedelta(seconds=config.reminders.tick_seconds)
    engines = [engine, evaluation, *([council] if council is not None else [])]
    scheduler = ReminderScheduler(engines, clock, tick, tasks, wake)
    router = Router(services, COMMANDS, PLAIN)
    metrics = BotMetrics()
    dispatcher = Dispatcher(
        router,
        outbox,
        now=clock.now,
        wall=clock.wall,
        wake=wake,
        count=metrics.command,
        failpoints=failpoints,
    )
    bot = Bot(
        config, clock, store, adapter, router, scheduler, engine, dispatcher, metrics, council
    )
    bot.lease = lease_for(config.database_url)
    if prepare:
        bot.prepare()
    bot.metrics.watch(bot.readings)
    bot.servers = web_servers(services, bot)
    return bot


def while_active(routes: list[web.RouteDef], bot: Bot) -> list[web.RouteDef]:
    """The routes, answering 503 while the bot is not active (a standby, or migrating)."""

    def guarded(handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> Callable:
        async def serve(request: web.Request) -> web.StreamResponse:
            if not bot.active:
                return web.Response(status=503, text="standby\n", headers={"Retry-After": "5"})
            return await handler(request)

        return serve

    return [web.route(r.method, r.path, guarded(r.handler), **r.kwargs) for r in routes]


def web_servers(services: Services, bot: Bot) -> list[WebServer]:
    """The HTTP servers, one per listen address: feeds and health share one when both are
    on the same address; health stays on its own (loopback) port otherwise."""
    config = services.config
    routes: dict[tuple[str, int], list[web.RouteDef]] = {}
    if config.web.enabled:
        words = services.renderer.words("calendar_words")
        feeds = CalendarFeeds(
            services.store,
            services.feeds,
            lead_names=services.renderer.lead_names(),
            all_themes_name=words["all_themes"],
            labels=CalendarLabels.from_words(words),
            zone=services.config.bot.zone,
        )
        served = while_active(feeds.routes(), bot)
        routes.setdefault((config.web.host, config.web.port), []).extend(served)
    if config.web.enabled and config.web.public:
        site = PublicSite(
            services.store,
            services.feeds,
            services.charts,
            now=bot.clock.now,
            rate=config.web.public_rate,
            trusted_proxies=config.web.trusted_proxies,
            base=urlsplit(config.web.public_url or "").path,
            min_answers=config.evaluation.min_answers,
        )
        served = while_active(site.routes(), bot)
        routes.setdefault((config.web.host, config.web.port), []).extend(served)
    if config.health.enabled:
        limits = Limits(config.health.sync_stale_after, config.health.queue_stuck_after)
        checks = health_routes(bot.snapshot, bot.clock.wall, limits, bot.metrics, services.renderer)
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
