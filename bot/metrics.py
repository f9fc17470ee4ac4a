"""Metrics for Prometheus (`/metrics`) and the health answer (`/healthz`).

One registry per bot (prometheus-client's global one would be module state). Counters of
what happened are counted where it happens; what the bot *is* (queue depth, the oldest
item's age, sync lag, reminders pending) is read from the running parts at scrape time.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector


@dataclass(frozen=True)
class Readings:
    """What the bot is doing right now (read at each scrape)."""

    replies_sent: int
    reminders_sent: int
    rate_limited: int
    reminders_pending: int
    queue_depth: int
    queue_oldest_age: float  # seconds; 0 when empty
    sync_lag: float  # seconds since the last sync came back; -1 before the first
    # Seconds each engine's last tick took, by engine name.
    tick_seconds: Mapping[str, float] = field(default_factory=dict)
    active: int = 1  # 1 while holding the lease and working, 0 as standby
    # Rooms the bot is still trying to join: seconds since it began, by room id.
    joining: Mapping[str, float] = field(default_factory=dict)
    join_rate_limited: int = 0  # 429 answers to joins, waited out
    rooms_not_joined: int = 0  # configured rooms the bot cannot join
    send_spacing: float = 0.0  # seconds per event the homeserver allows (0: not limited)


class _Live(Collector):
    def __init__(self, read: Callable[[], Readings]) -> None:
        self._read = read

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        now = self._read()
        counters = (
            ("zt_replies_sent", "Answers to commands the homeserver took", now.replies_sent),
            ("zt_reminders_sent", "Reminders the homeserver took", now.reminders_sent),
            ("zt_rate_limited", "429 answers honoured (retry_after_ms)", now.rate_limited),
            ("zt_join_rate_limited", "429 answers to joins waited out", now.join_rate_limited),
        )
        gauges = (
            ("zt_reminders_pending", "Reminders queued, not confirmed", now.reminders_pending),
            ("zt_send_queue_depth", "Events queued or being sent", now.queue_depth),
            (
                "zt_send_queue_oldest_age_seconds",
                "Oldest queued event's wait",
                now.queue_oldest_age,
            ),
            ("zt_sync_lag_seconds", "Seconds since the last sync returned", now.sync_lag),
            ("zt_active", "1: this instance holds the lease and works; 0: standby", now.active),
            ("zt_rooms_joining", "Rooms the bot is still trying to join", len(now.joining)),
            (
                "zt_configured_rooms_not_joined",
                "Configured rooms the bot cannot join (see zt-bot health)",
                now.rooms_not_joined,
            ),
            (
                "zt_send_spacing_seconds",
                "Seconds per event the homeserver allows, learned from 429s (0: not limited)",
                now.send_spacing,
            ),
        )
        for name, help_text, value in counters:
            yield CounterMetricFamily(name, help_text, value=value)
        for name, help_text, value in gauges:
            yield GaugeMetricFamily(name, help_text, value=value)
        ticks = GaugeMetricFamily(
            "zt_engine_tick_seconds", "Duration of each engine's last tick", labels=["engine"]
        )
        for engine, seconds in sorted(now.tick_seconds.items()):
            ticks.add_metric([engine], seconds)
        yield ticks
        joining = GaugeMetricFamily(
            "zt_room_join_pending_seconds",
            "Seconds since the bot began joining each room it is not in yet",
            labels=["room"],
        )
        for room, seconds in sorted(now.joining.items()):
            joining.add_metric([room], seconds)
        yield joining


class BotMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.commands = Counter(
            "zt_commands",
            "Commands handled, by verb and outcome (ok, refused, error)",
            ["verb", "outcome"],
            registry=self.registry,
        )

    def watch(self, read: Callable[[], Readings]) -> None:
        """Read the live values from `read` at every scrape."""
        self.registry.register(_Live(read))

    def command(self, verb: str, outcome: str) -> None:
        self.commands.labels(verb=verb, outcome=outcome).inc()

    def exposition(self) -> tuple[bytes, str]:
        """The Prometheus text format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def seconds_since(moment_ms: int) -> float:
    return -1.0 if not moment_ms else max(0.0, time.time() - moment_ms / 1000)
