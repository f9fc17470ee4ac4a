"""A year of one theme in a city's room layout, simulated: the real store (SQLite), the real
router and reminder engine, a clock that is a parameter. What the bot sends is counted per
room. Used by `tests/store/test_year_of_messages.py` and `bench/year_messages.py`.

The layout: a coordination room (where the theme is created), the department's team room
(bound with `!zt raum`), a Z2 room and the citizen dialogue office's room (configured).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.app import build_bot
from bot.clock import Clock
from bot.config import parse_config
from bot.engines.reminders import ReminderEngine
from bot.matrix.send_queue import Outgoing
from bot.router import Outcome
from tests.matrix_port import RecordingMatrix

BERLIN = ZoneInfo("Europe/Berlin")
COORDINATOR = "@koordination:stadt.example"
DEPARTMENT = "@fachbereich:stadt.example"
COORDINATION_ROOM = "!koordination:stadt.example"
TEAM_ROOM = "!team-digitales:stadt.example"
Z2_ROOM = "!z2-digitale-ethik:stadt.example"
CITIZEN_DIALOGUE_ROOM = "!buergerdialog:stadt.example"
ROOM_NAMES = {
    COORDINATION_ROOM: "Koordination",
    TEAM_ROOM: "Teamraum",
    Z2_ROOM: "Z2-Raum",
    CITIZEN_DIALOGUE_ROOM: "Bürgerdialog",
}
THEME = "Digitale Ethik"
START = datetime(2026, 12, 7, 10, 0, tzinfo=BERLIN)
# The times of day the engine is woken (it also plans exact wake-ups; a day's reminders
# are all due at send_time, so these suffice), and when a department marks a step.
TICKS = (time(9, 0), time(12, 0), time(18, 0))
MARKING = time(16, 0)


class _Authority:
    """The rooms' state as the adapter would read it: the coordinator is one, the
    department's member sits in the team room."""

    def is_coordinator(self, user_id: str) -> bool:
        return user_id == COORDINATOR

    def is_member(self, room_id: str, user_id: str) -> bool:
        return user_id == DEPARTMENT and room_id == TEAM_ROOM


@dataclass
class Sent:
    room_id: str
    at: datetime
    body: str


@dataclass
class CityYear:
    """One theme-year; `run(marked=...)` walks it day by day."""

    data_dir: Path
    extra_config: str = ""
    sent: list[Sent] = field(default_factory=list)
    replies: list[tuple[str, str]] = field(default_factory=list)
    now: datetime = START

    def __post_init__(self) -> None:
        config = parse_config(
            f"""
[matrix]
homeserver = "https://matrix.stadt.example"
user_id = "@zt-bot:stadt.example"
password = "not-used"
[bot]
coordinators = ["{COORDINATOR}"]
data_dir = "{self.data_dir}"
[rooms]
koordination = "{COORDINATION_ROOM}"
buergerdialog = "{CITIZEN_DIALOGUE_ROOM}"
[evaluation]
auto_start = false
{self.extra_config}
""",
            self.data_dir,
            environ={},
        )
        self.bot = build_bot(config, Clock(config.bot.zone))
        services = dataclasses.replace(self.bot.router.services, rights=_Authority())
        self.router = self.bot.router.with_services(services)
        self.engine = ReminderEngine(
            config, self.bot.store, services.renderer, services.calendar, matrix=_Rooms(self)
        )
        self._confirmations: list[asyncio.Task] = []

    def close(self) -> None:
        self.bot.store.close()

    def _send(self, outgoing: Outgoing) -> None:
        body = outgoing.content.get("body", "")
        self.sent.append(Sent(outgoing.room_id, self.now, body))
        if outgoing.on_sent is not None:
            self._confirmations.append(
                asyncio.ensure_future(outgoing.on_sent(f"$e{len(self.sent)}"))
            )

    def say(self, text: str, *, sender: str = COORDINATOR, room_id: str) -> Outcome:
        outcome = self.router.handle(text, sender=sender, room_id=room_id, now=self.now)
        assert outcome is not None, text
        self.replies.append((room_id, outcome.reply.body))
        return outcome

    def set_up(self) -> None:
        """As a coordination office does it: the theme in the coordination room, the team
        and Z2 rooms bound, the council meeting entered."""
        for text, room in (
            (f"!zt neu {THEME} KW 15/2027", COORDINATION_ROOM),
            (f"!zt raum {THEME}", TEAM_ROOM),
            (f"!zt raum {THEME} z2", Z2_ROOM),
            ("!zt ratssitzung 20.05.2027", COORDINATION_ROOM),
        ):
            outcome = self.say(text, room_id=room)
            assert outcome.result == "ok", (text, outcome.reply.body)

    def _due_today(self, day: date) -> list[str]:
        """The steps a department marks on `day` when all goes well: each on its date, a
        phase on the date it must be done by; the continuous step is left alone."""
        view = self.bot.store.theme(THEME)
        assert view is not None
        keys = []
        for position, step in enumerate(view.steps):
            definition = view.template.step(step.key)
            assert definition is not None
            if step.state != "open" or definition.kind == "continuous":
                continue
            until = step.due
            if definition.kind == "phase" and position + 1 < len(view.steps):
                until = view.steps[position + 1].due
            if until == day:
                keys.append(step.key)
        return keys

    async def _tick(self, moment: datetime) -> None:
        self.now = moment
        await self.engine.tick(moment)
        await asyncio.gather(*self._confirmations)
        self._confirmations.clear()

    async def run(self, *, marked: bool, days: int = 365) -> None:
        self.set_up()
        day = START.date()
        for _ in range(days):
            for at in TICKS:
                moment = datetime.combine(day, at, tzinfo=BERLIN)
                if moment >= START:
                    await self._tick(moment)
                if marked and at == TICKS[1]:
                    self.now = datetime.combine(day, MARKING, tzinfo=BERLIN)
                    for key in self._due_today(day):
                        self.say(
                            f"!zt erledigt {THEME} {key}", sender=DEPARTMENT, room_id=TEAM_ROOM
                        )
            day += timedelta(days=1)

    def per_room(self) -> Counter[str]:
        return Counter(ROOM_NAMES.get(s.room_id, s.room_id) for s in self.sent)


class _Rooms(RecordingMatrix):
    """Every reminder the engine sends is counted by the year (and confirmed at once)."""

    def __init__(self, year: CityYear) -> None:
        super().__init__()
        self.year = year

    def send_later(self, outgoing: Outgoing) -> None:
        self.year._send(outgoing)
