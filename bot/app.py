"""Wiring: config → store, template, renderer, router, Matrix adapter; run until stopped."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from dataclasses import dataclass

from bot.clock import ENV_CLOCK_OFFSET, Clock, parse_offset
from bot.config import Config
from bot.matrix import MatrixAdapter
from bot.process import load_template
from bot.rendering import Renderer
from bot.router import Outcome, Router
from bot.store import Store
from commands.base import Services

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

    def answer(self, body: str, sender: str, room_id: str) -> Outcome | None:
        return self.router.handle(body, sender=sender, room_id=room_id, now=self.clock.now())

    async def run(self) -> None:
        try:
            await self.adapter.run(self.answer)
        finally:
            await self.adapter.close()
            self.store.close()


def build_bot(config: Config, clock: Clock | None = None) -> Bot:
    clock = clock or clock_from_env(config)
    config.bot.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    store = Store(config.database_url)
    store.upgrade()
    adapter = MatrixAdapter(config, clock)
    services = Services(
        config=config,
        store=store,
        template=load_template(config.process.file),
        renderer=Renderer(config.bot.language),
        authority=adapter,
    )
    return Bot(config, clock, store, adapter, Router(services))


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
