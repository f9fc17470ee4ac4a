"""Day words that are true on the day they are read: a notice sent early because its day
is a weekend or a holiday names the day ("am Montag, 29.03.2027"), never "Heute"; so does a
continuous step's start and the participation's notices. Every step kind, every move."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config import parse_config
from bot.domain.process import load_template
from bot.domain.reminder_plan import theme_facts
from bot.domain.reminder_policy import ReminderKind, due_reminders, schedule_for_step
from bot.domain.themes import StepRecord, ThemeRecord, ThemeView
from bot.domain.timeline import plan
from bot.domain.working_days import WorkingCalendar
from bot.engines.reminders import ReminderEngine
from bot.rendering import Renderer
from tests.matrix_port import RecordingMatrix

BERLIN = ZoneInfo("Europe/Berlin")
TEMPLATE = load_template()
CALENDAR = WorkingCalendar()
Z2 = date(2027, 4, 12)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> ReminderEngine:
    directory: Path = tmp_path_factory.mktemp("day-words")
    config = parse_config(
        '[matrix]\nhomeserver = "https://m.example"\nuser_id = "@zt:m.example"\n'
        f'password = "x"\n[bot]\ndata_dir = "{directory}"\n',
        directory,
        environ={},
    )

    # Rendering needs no store and sends nothing: the config, the words and the calendar.
    return ReminderEngine(config, None, Renderer(), CALENDAR, RecordingMatrix())  # type: ignore[arg-type]


def theme_with(key: str, day: date) -> ThemeView:
    """Digitale Ethik with step `key` on `day` (the others as planned)."""
    record = ThemeRecord(
        id=1,
        name="Digitale Ethik",
        name_key="digitale ethik",
        z2=Z2,
        process_json=TEMPLATE.to_json(),
        created_by="@k:stadt.de",
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
    )
    steps = tuple(
        StepRecord(theme_id=1, key=p.key, position=n, due=day if p.key == key else p.due)
        for n, p in enumerate(plan(TEMPLATE, Z2))
    )
    return ThemeView(record, steps)


def headline(engine: ReminderEngine, key: str, day: date, kind: ReminderKind) -> tuple[date, str]:
    """(the day the stage goes out, its first line as read that day at 09:00)."""
    view = theme_with(key, day)
    facts = theme_facts(view)
    step = next(s for s in facts.steps if s.key == key)
    stage = next(
        s for s in schedule_for_step(facts, step, engine.settings, CALENDAR) if s.kind == kind
    )
    now = datetime.combine(stage.send_on, time(9, 0), tzinfo=BERLIN)
    body = engine.render(stage, view, {view.id: view}, now).body
    return stage.send_on, body.splitlines()[0]


# (case, the step's date, the day its notice goes out)
MOVES = [
    ("weekday", date(2027, 3, 24), date(2027, 3, 24)),
    ("weekend", date(2027, 3, 21), date(2027, 3, 19)),  # Sunday → Friday
    ("single holiday", date(2027, 5, 27), date(2027, 5, 26)),  # Fronleichnam, Thursday
    ("Easter Monday after Good Friday", date(2027, 3, 29), date(2027, 3, 25)),
    ("turn of the year", date(2027, 1, 1), date(2026, 12, 31)),  # Neujahr, Friday
    ("Christmas", date(2026, 12, 26), date(2026, 12, 24)),  # 2. Weihnachtstag, Saturday
]
WEEKDAYS = ["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"]


def named(day: date) -> str:
    return f"{WEEKDAYS[day.weekday()]}, {day:%d.%m.%Y}"


@pytest.mark.parametrize(("case", "day", "sent"), MOVES, ids=[m[0] for m in MOVES])
@pytest.mark.parametrize(
    ("key", "kind", "today_words", "ahead_words"),
    [
        ("3a", ReminderKind.due, "📌 Heute: Schritt 3a", "📌 Am {day}: Schritt 3a"),
        ("3", ReminderKind.due, "📌 Heute fällig: Schritt 3", "📌 Fällig am {day}: Schritt 3"),
        ("1", ReminderKind.start, "beginnt heute", "beginnt am {day}"),
        ("7", ReminderKind.start, "🔄 Ab heute fortlaufend", "🔄 Ab {day}"),
    ],
    ids=["meeting", "deadline", "phase", "continuous"],
)
def test_a_notice_says_the_day_it_tells_of(
    engine: ReminderEngine,
    case: str,
    day: date,
    sent: date,
    key: str,
    kind: ReminderKind,
    today_words: str,
    ahead_words: str,
) -> None:
    send_on, line = headline(engine, key, day, kind)
    assert send_on == sent, case
    if sent == day:
        assert today_words in line, line
    else:
        assert ahead_words.format(day=named(day)) in line, line
        assert "Heute" not in line and "heute" not in line, line
        assert "Ab jetzt" not in line, line


def test_a_holiday_is_named_where_the_notice_goes_out_before_it(engine: ReminderEngine) -> None:
    _, line = headline(engine, "7", date(2027, 5, 27), ReminderKind.start)
    assert line.startswith("🔄 Ab Donnerstag, 27.05.2027 (Fronleichnam) fortlaufend: Schritt 7")


@pytest.mark.parametrize(("case", "day", "sent"), MOVES, ids=[m[0] for m in MOVES])
def test_the_participation_notices_say_their_day_too(
    engine: ReminderEngine, case: str, day: date, sent: date
) -> None:
    planned = theme_with("2", date(2027, 3, 15))
    window = {"participation_start": day, "participation_end": day + timedelta(weeks=4)}
    view = dataclasses.replace(planned, theme=dataclasses.replace(planned.theme, **window))
    now = datetime.combine(sent, time(9, 0), tzinfo=BERLIN)
    found = due_reminders([theme_facts(view)], now, engine.settings, CALENDAR)
    opening = next(r for r in found if r.kind == ReminderKind.participation_open)
    line = engine.render(opening, view, {view.id: view}, now).body.splitlines()[0]
    if sent == day:
        assert "startet heute" in line, case
    else:
        assert f"startet am {named(day)}" in line, case
