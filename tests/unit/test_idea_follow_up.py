"""Adopted ideas are followed up (issue 21 point 6): `kvp übernommen <Nr> [@person] [bis
<Datum>]` gives an owner and a day, the owner is reminded once on it (the reminders'
sent-log), `kvp umgesetzt` closes the idea; `kvp` lists what is adopted and not yet done."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest

from bot.domain.idea_follow_up import (
    FollowUp,
    due_follow_ups,
    idea_of,
    next_follow_up,
    split_until,
    step_key,
)
from bot.domain.reminder_policy import ReminderKind, ReminderSettings
from bot.domain.working_days import WorkingCalendar
from tests.year import BERLIN, COORDINATION_ROOM, TEAM_ROOM, CityYear

CALENDAR = WorkingCalendar()
SETTINGS = ReminderSettings()


def test_the_words_after_the_number() -> None:
    assert split_until("@anna:stadt.de bis 01.06.2027") == ("@anna:stadt.de", "01.06.2027")
    assert split_until("bis KW 23/2027") == ("", "KW 23/2027")
    assert split_until("@anna:stadt.de") == ("@anna:stadt.de", None)
    assert split_until("") == ("", None)
    assert idea_of(step_key(12)) == 12 and idea_of("4") is None and idea_of("kvp-x") is None


def _item(day: date, adopted: date = date(2027, 5, 3)) -> FollowUp:
    return FollowUp(idea_id=3, theme_id=1, day=day, owner="@anna:stadt.de", adopted_on=adopted)


def test_due_on_its_day_at_the_send_time_and_not_before() -> None:
    item = _item(date(2027, 6, 1))  # a Tuesday
    before = datetime(2027, 6, 1, 8, 59, tzinfo=BERLIN)
    at = datetime(2027, 6, 1, 9, 0, tzinfo=BERLIN)
    assert due_follow_ups([item], before, SETTINGS, CALENDAR) == []
    [reminder] = due_follow_ups([item], at, SETTINGS, CALENDAR)
    assert reminder.kind == ReminderKind.idea_follow_up and reminder.step_key == "kvp-3"
    assert reminder.step_date == date(2027, 6, 1) and not reminder.late
    assert reminder.to_coordination
    assert next_follow_up([item], before, SETTINGS, CALENDAR) == at


def test_a_day_off_moves_it_to_the_working_day_before_and_a_missed_one_is_late() -> None:
    saturday = _item(date(2027, 6, 5))
    [reminder] = due_follow_ups(
        [saturday], datetime(2027, 6, 4, 9, 0, tzinfo=BERLIN), SETTINGS, CALENDAR
    )
    assert reminder.send_on == date(2027, 6, 4)
    [late] = due_follow_ups(
        [saturday], datetime(2027, 6, 8, 12, 0, tzinfo=BERLIN), SETTINGS, CALENDAR
    )
    assert late.late and late.identity == reminder.identity
    # Long after, the `kvp` list shows it; no reminder is caught up any more.
    far = datetime(2027, 8, 1, 12, 0, tzinfo=BERLIN)
    assert due_follow_ups([saturday], far, SETTINGS, CALENDAR) == []


@pytest.fixture
def city(tmp_path: Path):
    year = CityYear(tmp_path)
    year.now = datetime(2027, 5, 3, 10, 0, tzinfo=BERLIN)
    for text, room in (
        ("!zt neu Mobilität 15.04.2027", COORDINATION_ROOM),
        ("!zt raum Mobilität", TEAM_ROOM),
    ):
        assert year.say(text, room_id=room).result == "ok"
    yield year
    year.close()


def _answer(city: CityYear, text: str, *, ok: bool = True) -> str:
    outcome = city.say(text, room_id=COORDINATION_ROOM)
    assert (outcome.result == "ok") == ok, outcome
    return outcome.reply.body


def _days(city: CityYear, first: date, last: date) -> None:
    day = first
    while day <= last:
        for at in (time(8, 0), time(9, 0), time(15, 0)):
            asyncio.run(city._tick(datetime.combine(day, at, tzinfo=BERLIN)))
        day += timedelta(days=1)


def test_the_owner_is_reminded_once_on_the_day_and_umgesetzt_closes_it(city: CityYear) -> None:
    _answer(city, "!zt kvp Mobilität Einladungen vier Wochen vorher verschicken")
    answer = _answer(city, "!zt kvp übernommen 1 @anna:stadt.example bis 01.06.2027")
    assert answer == (
        "KVP-Idee Nr. 1 ist übernommen. @anna:stadt.example setzt sie um; am 01.06.2027 "
        "erinnere ich im Koordinationsraum daran. Ist sie umgesetzt: !zt kvp umgesetzt 1."
    )
    assert "verändert den Prozess" not in answer
    listed = _answer(city, "!zt kvp")
    assert "Übernommen, noch nicht umgesetzt:" in listed
    assert (
        "1. [Mobilität] Einladungen vier Wochen vorher verschicken · @anna:stadt.example" in listed
    )
    assert "bis 01.06.2027" in listed

    city.sent.clear()
    _days(city, date(2027, 5, 30), date(2027, 6, 4))
    follow_ups = [s for s in city.sent if "KVP-Idee Nr. 1" in s.body]
    assert len(follow_ups) == 1, city.sent
    [sent] = follow_ups
    assert sent.room_id == COORDINATION_ROOM
    assert sent.at == datetime(2027, 6, 1, 9, 0, tzinfo=BERLIN)
    assert "heute ist der Tag, sie umzusetzen" in sent.body and "@anna:stadt.example" in sent.body

    done = _answer(city, "!zt kvp umgesetzt 1")
    assert done.startswith("KVP-Idee Nr. 1 ist umgesetzt und abgeschlossen.")
    assert "Übernommen, noch nicht umgesetzt" not in _answer(city, "!zt kvp")
    assert "schon umgesetzt" in _answer(city, "!zt kvp umgesetzt 1", ok=False)


def test_a_new_day_makes_a_new_reminder_and_a_closed_idea_gets_none(city: CityYear) -> None:
    _answer(city, "!zt kvp Mobilität Protokoll früher")
    _answer(city, "!zt kvp übernommen 1 bis 01.06.2027")
    _answer(city, "!zt kvp übernommen 1 @ben:stadt.example bis 08.06.2027")
    city.sent.clear()
    _days(city, date(2027, 6, 1), date(2027, 6, 1))
    assert not [s for s in city.sent if "KVP-Idee" in s.body]
    _answer(city, "!zt kvp umgesetzt 1")
    _days(city, date(2027, 6, 8), date(2027, 6, 9))
    assert not [s for s in city.sent if "KVP-Idee" in s.body]


def test_wrong_calls_get_a_clear_answer(city: CityYear) -> None:
    _answer(city, "!zt kvp Mobilität Idee eins")
    _answer(city, "!zt kvp Mobilität Idee zwei")
    assert "schon vorbei" in _answer(city, "!zt kvp übernommen 1 bis 01.01.2027", ok=False)
    assert "keine Matrix-ID" in _answer(city, "!zt kvp übernommen 1 anna bis 01.06.2027", ok=False)
    assert "Datum" in _answer(city, "!zt kvp übernommen 1 bis morgen", ok=False)
    assert "nicht übernommen" in _answer(city, "!zt kvp umgesetzt 2", ok=False)
    _answer(city, "!zt kvp verworfen 2")
    assert "sondern verworfen" in _answer(city, "!zt kvp umgesetzt 2", ok=False)
    assert "gibt es nicht" in _answer(city, "!zt kvp umgesetzt 9", ok=False)
    without = _answer(city, "!zt kvp übernommen 1")
    assert "Wer setzt sie bis wann um?" in without


def test_the_year_report_lists_what_is_adopted_and_not_yet_done(city: CityYear) -> None:
    _answer(city, "!zt kvp Mobilität Einladungen früher")
    _answer(city, "!zt kvp Mobilität Protokoll am selben Tag")
    _answer(city, "!zt kvp übernommen 1 @anna:stadt.example bis 01.06.2027")
    _answer(city, "!zt kvp übernommen 2")
    _answer(city, "!zt kvp umgesetzt 2")
    summary = _answer(city, "!zt jahresbericht 2027")
    assert "KVP: 2 übernommen (davon 1 noch nicht umgesetzt), 0 verworfen" in summary
    assert "Übernommen, noch nicht umgesetzt:" in summary
    assert "Mobilität: Einladungen früher · @anna:stadt.example · bis 01.06.2027" in summary
    assert "Protokoll am selben Tag ·" not in summary
