"""Failpoints: faults at the worst moment, switched on only by an environment variable in
tests (`ZT_FAILPOINTS`), never by configuration.

`ZT_FAILPOINTS="command_committed=exit"` ends the process at once (like SIGKILL: no
cleanup, no flush) when the bot passes that point; `outbox_sent=unavailable:2` makes the
next two passes raise the error an unreachable database raises. Names are the places the
code marks with `failpoints.hit("...")`.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

ENV_FAILPOINTS = "ZT_FAILPOINTS"
EXIT_CODE = 86  # what a failpoint's `exit` ends the process with (tests look for it)

log = logging.getLogger(__name__)


class FailpointUnavailable(ConnectionError):
    """What an `unavailable` failpoint raises: the store treats it like a database that
    cannot be reached (store.database.is_unavailable)."""


@dataclass
class Failpoints:
    """The failpoints of one bot; empty (and free) unless the environment names some."""

    plan: dict[str, tuple[str, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Failpoints:
        text = (os.environ if environ is None else environ).get(ENV_FAILPOINTS, "")
        plan: dict[str, tuple[str, int]] = {}
        for item in filter(None, (part.strip() for part in text.split(","))):
            name, _, action = item.partition("=")
            kind, _, times = action.partition(":")
            plan[name.strip()] = (kind.strip() or "exit", int(times) if times else 1)
        if plan:
            log.warning("failpoints armed (%s): a testing aid", ", ".join(sorted(plan)))
        return cls(plan)

    def hit(self, name: str) -> None:
        """Pass the point called `name`; does what the environment asked for, if anything."""
        if not self.plan:
            return
        with self._lock:
            kind, times = self.plan.get(name, ("", 0))
            if times <= 0:
                return
            self.plan[name] = (kind, times - 1)
        log.warning("failpoint %s: %s", name, kind)
        if kind == "exit":
            os._exit(EXIT_CODE)
        if kind == "unavailable":
            raise FailpointUnavailable(f"failpoint {name}")
        raise ValueError(f"{ENV_FAILPOINTS}: unknown action {kind!r} for {name}")
