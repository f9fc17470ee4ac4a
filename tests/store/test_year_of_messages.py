"""A year of one theme in a city's room layout (tests/year.py): the real store, router and
reminder engine, day by day. Each room hears what it acts on, once; the coordination room
gets its digest instead of copies; weeks with nothing in them send nothing; the optional
step lapses instead of nagging. `bench/year_messages.py` prints the numbers."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.year import (
    CITIZEN_DIALOGUE_ROOM,
    COORDINATION_ROOM,
    TEAM_ROOM,
    THEME,
    Z2_ROOM,
    CityYear,
)


@pytest.fixture(scope="module")
def years(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[bool, CityYear]]:
    found = {}
    for marked in (True, False):
        year = CityYear(Path(tmp_path_factory.mktemp(f"year-{marked}")))
        asyncio.run(year.run(marked=marked))
        found[marked] = year
    yield found
    for year in found.values():
        year.close()


def bodies(year: CityYear, room: str) -> list[str]:
    return [s.body for s in year.sent if s.room_id == room]


def digests(year: CityYear) -> list[str]:
    return [b for b in bodies(year, COORDINATION_ROOM) if b.startswith("Wochenübersicht")]


@pytest.mark.parametrize("marked", [True, False], ids=["marked on time", "never marked"])
def test_the_coordination_room_gets_its_digest_not_copies(
    years: dict[bool, CityYear], marked: bool
) -> None:
    year = years[marked]
    coordination = bodies(year, COORDINATION_ROOM)
    direct = [b for b in coordination if not b.startswith("Wochenübersicht")]
    # Directly only what the Koordination alone leads (step 6) and escalations.
    for body in direct:
        assert "Schritt 6 „Ratsentscheidung“" in body or body.startswith("⚠️ An die Koordination")
    team_lines = {b.splitlines()[0] for b in bodies(year, TEAM_ROOM)}
    assert not team_lines & {b.splitlines()[0] for b in coordination}  # no copy of any
    # Every digest has something to act on; a week with nothing sends nothing.
    assert digests(year)
    for digest in digests(year):
        assert "nichts fällig" not in digest
        assert f"\n{THEME}\n" in digest
    assert len({d.splitlines()[0] for d in digests(year)}) == len(digests(year))  # once a week


def test_a_year_marked_on_time_is_quiet_where_it_should_be(years: dict[bool, CityYear]) -> None:
    year = years[True]
    # What is overdue or pending for marking comes only if nobody marks.
    assert not [b for b in year.sent if b.body.startswith(("⏰", "⚠️", "❓", "➖"))]
    # The digest says what is due this week with the command to mark it.
    assert any(
        f"📌 diese Woche: Schritt 3 „Aufbereitung für Z2“ am Montag, 22.03.2027 → "
        f"!zt erledigt {THEME} 3" in d
        for d in digests(year)
    )
    assert any("📅 nächste Woche: Schritt 2 „Z1 Expertisen-Tisch“ am Montag, 15.03.2027" in d
               for d in digests(year))  # fmt: skip
    # The Z2 room hears no reminders (it gets the evaluation).
    assert bodies(year, Z2_ROOM) == []


def test_the_citizen_dialogue_hears_its_part_in_its_own_room(years: dict[bool, CityYear]) -> None:
    year = years[True]
    own = bodies(year, CITIZEN_DIALOGUE_ROOM)
    participation = [b for b in own if b.startswith("🗳️")]
    assert len(participation) == 3  # ahead, at the start, at the end
    assert participation[0].startswith(
        "🗳️ Bald: Die digitale Beteiligung zu Digitale Ethik startet am Montag, 01.03.2027"
    )
    assert "startet heute" in participation[1]
    closing = participation[2]
    assert closing.startswith(
        "🗳️ Die digitale Beteiligung zu Digitale Ethik endet am Montag, 29.03."
    )
    # Never a task whose date has passed (step 3 was due on 22.03.): Z2 is still ahead.
    assert "Schritt 3" not in closing
    assert "damit sie in Z2 am 12.04.2027 einfließen" in closing
    assert not [b for b in bodies(year, TEAM_ROOM) if b.startswith("🗳️")]


def test_an_optional_step_nobody_marks_lapses_once(years: dict[bool, CityYear]) -> None:
    year = years[False]
    team = bodies(year, TEAM_ROOM)
    lapsed = [b for b in team if b.startswith("➖")]
    assert len(lapsed) == 1
    assert lapsed[0].startswith(
        f"➖ Entfallen: Schritt 3a „Fraktionssitzungen (optional)“ von {THEME} am 29.03.2027"
    )
    assert f"!zt offen {THEME} 3a" in lapsed[0]
    # Afterwards no digest lists it as overdue; status says so; the theme can complete.
    lapse_at = next(s.at for s in year.sent if s.body.startswith("➖"))
    later = [s.body for s in year.sent if s.at > lapse_at and s.body.startswith("Wochen")]
    assert later and not [d for d in later if "Schritt 3a" in d]
    status = year.say(f"!zt status {THEME}", room_id=TEAM_ROOM).reply.body
    line = next(x for x in status.splitlines() if x.strip().startswith("3a"))
    assert "entfallen" in line and "überfällig" not in line
    history = year.say(f"!zt verlauf {THEME}", room_id=TEAM_ROOM).reply.body
    assert "Schritt 3a entfallen" in history
