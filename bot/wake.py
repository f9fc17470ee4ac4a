"""Waking the engines: something changed (a command, a join, the council's data) that may
make a reminder due now. Whoever changes something pokes; the scheduler, built with the
same Wake, ticks. Made first and handed to all of them, so nothing is wired afterwards."""

from __future__ import annotations

import asyncio


class Wake:
    def __init__(self) -> None:
        self._poked = asyncio.Event()

    def poke(self) -> None:
        """Ask for a tick soon (on the event loop; several pokes make one tick)."""
        self._poked.set()

    async def wait(self) -> None:
        """Until poked; the poke is used up."""
        await self._poked.wait()
        self._poked.clear()
