"""clock: the one clock, optionally shifted for tests and demos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.clock import Clock, parse_offset

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+7d", timedelta(days=7)),
        ("-2h", timedelta(hours=-2)),
        ("+90m", timedelta(minutes=90)),
        ("+1w", timedelta(weeks=1)),
        ("-30s", timedelta(seconds=-30)),
        (" + 3 d ", timedelta(days=3)),
        ("", timedelta(0)),
        ("   ", timedelta(0)),
    ],
)
def test_parse_offset(text: str, expected: timedelta) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["7d", "+7", "+7y", "+-7d", "sieben Tage", "+7d3h", "++7d"])
def test_parse_offset_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="ZT_CLOCK_OFFSET"):
        parse_offset(text)


@given(st.sampled_from("+-"), st.integers(0, 10_000), st.sampled_from("smhdw"))
def test_parse_offset_sign_and_unit(sign: str, amount: int, unit: str) -> None:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit]
    expected = timedelta(seconds=amount * seconds)
    assert parse_offset(f"{sign}{amount}{unit}") == (expected if sign == "+" else -expected)


def test_now_is_aware_local_and_shifted() -> None:
    fixed = datetime(2027, 1, 15, 8, 0, tzinfo=UTC)
    now = Clock(BERLIN, timedelta(days=7), source=lambda: fixed).now()
    assert now.tzinfo is BERLIN
    assert now.utcoffset() == timedelta(hours=1)
    assert now == fixed + timedelta(days=7)
    assert (now.year, now.month, now.day, now.hour, now.minute) == (2027, 1, 22, 9, 0)


def test_now_in_summer_time_with_negative_shift() -> None:
    fixed = datetime(2027, 7, 1, 10, 0, tzinfo=UTC)
    now = Clock(BERLIN, parse_offset("-2h"), source=lambda: fixed).now()
    assert now.utcoffset() == timedelta(hours=2)
    assert (now.hour, now.minute) == (10, 0)


def test_unshifted_clock_reads_its_source() -> None:
    fixed = datetime(2027, 3, 28, 0, 30, tzinfo=UTC)  # 01:30 CET, 30 minutes before DST
    now = Clock(BERLIN, source=lambda: fixed).now()
    assert now == fixed
    assert now.hour == 1
    shifted = Clock(BERLIN, timedelta(hours=1), source=lambda: fixed).now()
    assert shifted.hour == 3  # 02:00 does not exist on that day


def test_system_clock_is_aware() -> None:
    now = Clock(BERLIN).now()
    assert now.tzinfo is BERLIN
    assert abs(now - datetime.now(UTC)) < timedelta(minutes=1)
