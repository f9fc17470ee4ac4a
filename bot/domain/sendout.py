"""How long a send-out (an evaluation's direct chats and polls) takes under the homeserver's
rate limits. Pure: the limits come in as values, the estimate goes out as durations.

Synapse limits each sender with token buckets: `rc_message` (0.2 events/s, burst 10 by
default) for every event the bot sends and every room it creates, and `rc_room_creation`
(0.016 rooms/s, burst 10) for creating rooms. The bot sends an evaluation one person at a
time: it creates the person's direct chat (the next person's is created meanwhile) and sends
that chat's intro, polls and open question before it goes on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Limit:
    """A token bucket: `burst` actions at once, then `per_second` on average."""

    per_second: float
    burst: int
    learned: bool = False  # from the homeserver's own 429 answers, not assumed


# Synapse's defaults (synapse/config/ratelimiting.py), assumed until the bot learns better.
SYNAPSE_MESSAGES = Limit(per_second=0.2, burst=10)
SYNAPSE_ROOM_CREATION = Limit(per_second=0.016, burst=10)


@dataclass(frozen=True)
class SendLimits:
    """What the bot knows of the homeserver's limits; None: it does not limit the bot
    (as far as the bot has seen: more went through than the default limits let through)."""

    messages: Limit | None = SYNAPSE_MESSAGES
    rooms: Limit | None = SYNAPSE_ROOM_CREATION

    @property
    def assumed(self) -> bool:
        """Synapse's defaults are assumed for at least one of them (nothing learned)."""
        return any(limit is not None and not limit.learned for limit in (self.messages, self.rooms))


@dataclass(frozen=True)
class Estimate:
    total: timedelta  # until the last person has every question
    first: timedelta  # until the first person has every question
    limited: bool  # the limits make people wait (an exemption from them removes it)
    assumed: bool  # based on Synapse's default limits, not on ones the bot has seen


class _Bucket:
    """A token bucket as the homeserver keeps it, full at the start."""

    def __init__(self, limit: Limit | None) -> None:
        self.limit = limit
        self.tokens = float(limit.burst) if limit is not None else 0.0
        self.at = 0.0

    def take(self, when: float) -> float:
        """The earliest moment from `when` at which one action is allowed (and take it)."""
        if self.limit is None:
            return when
        rate, burst = self.limit.per_second, self.limit.burst
        when = max(when, self.at)
        tokens = min(float(burst), self.tokens + (when - self.at) * rate)
        if tokens < 1.0:
            when += (1.0 - tokens) / rate
            tokens = 1.0
        self.tokens, self.at = tokens - 1.0, when
        return when


def estimate_sendout(
    people: int, events_each: int, limits: SendLimits, *, new_rooms: int | None = None
) -> Estimate:
    """The send-out to `people` (each gets `events_each` events in a direct chat; the first
    `new_rooms` of them, by default all, need a new direct chat), one after another, the next
    person's chat created while the current one is filled."""
    new_rooms = people if new_rooms is None else min(new_rooms, people)
    messages, rooms = _Bucket(limits.messages), _Bucket(limits.rooms)
    started = finished = 0.0  # when the current person's sending started / ended
    first: float | None = None
    for person in range(people):
        ready = started
        if person < new_rooms:
            # Created once the previous person's sending began (one ahead), as the room
            # limit allows; creating a room also counts as an event (rc_message).
            ready = messages.take(rooms.take(started))
        started = max(ready, finished)
        when = started
        for _ in range(events_each):
            when = messages.take(when)
        finished = when
        if first is None:
            first = finished
    total = timedelta(seconds=finished)
    return Estimate(
        total=total,
        first=timedelta(seconds=first or 0.0),
        limited=total >= timedelta(minutes=1),
        assumed=limits.assumed,
    )
