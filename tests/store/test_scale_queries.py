"""The queries that keep an answer about one theme as cheap with 5,000 themes as with 5
(issue 15) give exactly what the walk over every theme gave: names as people type them,
the themes near a day for the reminders, the themes of a year for the plan, pages."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from bot.domain.annual_plan import SchoolHolidays, build_annual_plan
from bot.domain.process import load_template
from bot.domain.reminder_plan import theme_facts
from bot.domain.reminder_policy import ReminderSettings, due_reminders, near, upcoming
from bot.domain.theme_names import NameList, fold, resolve, resolve_leading
from bot.domain.themes import StepState, ThemeStatus
from bot.domain.timeline import plan
from bot.domain.working_days import WorkingCalendar
from bot.store.theme_records import NewTheme
from bot.store.themes import Store

NOW = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
BERLIN = ZoneInfo("Europe/Berlin")
CALENDAR = WorkingCalendar()
NAMES = [
    "Mobilität",
    "Mobilitätswende Nord",
    "Digitale Ethik",
    "Digitale Agenda",
    "Regenwasserbewirtschaftung",
    "Wasser",
    "Wasser*Land?",
    "[Klammer] Thema",
    "100% Grün_Fläche",
    "Back\\slash",
    "Straße",
]
QUERIES = [
    "mobilitaet", "MOBIL", "mobilitatswende", "digitale", "digitale e", "regen", "wasser",
    "wasser*", "wasser?", "wasser*land?", "w*", "?", "[", "[k", "[klammer] thema", "100%",
    "100% g", "%", "_", "100_", "back\\", "\\", "strasse", "strae", "xyz", "Mobiltät", "",
    '"digitale ethik"', "„wasser“",
]  # fmt: skip
LEADING = [
    "digitale ethik 3 Notiz", "mobil 2", "wasser 1 2", "wasser*land? 4", "[klammer] thema 1",
    "100% grün_fläche 2", "„wasser“ 15.04.2027", "digitale 3", "xyz 1", "strasse 4", "",
]  # fmt: skip


def new_theme(name: str, z2: date | None, status_quarter: str | None = None) -> NewTheme:
    template = load_template()
    planned = plan(template, z2) if z2 else ()
    return NewTheme(name, z2, status_quarter, "!team:localhost", template, planned)


def test_names_from_the_database_match_as_from_a_list(store: Store) -> None:
    store.apply_plan(
        [new_theme(name, date(2027, 4, 12)) for name in NAMES], [], actor="@k:l", now=NOW
    )
    in_memory = NameList(NAMES)
    for query in QUERIES:
        assert resolve(query, store.names) == resolve(query, in_memory), query
    for text in LEADING:
        assert resolve_leading(text, store.names) == resolve_leading(text, in_memory), text
    assert store.names.starting_with(fold("wasser*")) == ["Wasser*Land?"]
    assert store.names.starting_with("%") == []
    # Typed control characters (a NUL PostgreSQL would refuse) match nothing, quietly.
    assert resolve("mobil\x00", store.names).name is None
    assert resolve_leading("\x00 wasser 1", store.names).name is None
    assert store.names.starting_with("\x00") == []


def test_a_prefix_is_found_through_an_index(store: Store) -> None:
    store.apply_plan(
        [new_theme(f"Thema {n:04d}", None, "Q1/2027") for n in range(200)],
        [],
        actor="@k:l",
        now=NOW,
    )
    with store.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            rows = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT name FROM theme WHERE name_key GLOB 'thema 01*'"
            ).all()
            assert any("INDEX" in str(row[-1]) for row in rows), rows
        else:
            connection.exec_driver_sql("ANALYZE theme")
            connection.exec_driver_sql("SET enable_seqscan = off")
            rows = connection.exec_driver_sql(
                "EXPLAIN SELECT name FROM theme WHERE name_key LIKE 'thema 01%%'"
            ).all()
            assert any("ix_theme_name_key_pattern" in row[0] for row in rows), rows


def random_themes(seed: int, count: int) -> list[NewTheme]:
    """Themes with Z2 spread over three years (a few ideas among them)."""
    rng = random.Random(seed)
    themes = []
    for n in range(count):
        if rng.random() < 0.1:
            themes.append(
                new_theme(
                    f"Idee {n}", None, f"Q{rng.randint(1, 4)}/{rng.choice([2026, 2027, 2028])}"
                )
            )
        else:
            z2 = date(2026, 1, 5) + timedelta(days=rng.randrange(3 * 365))
            themes.append(new_theme(f"Thema {n}", z2))
    return themes


def mark_some_done(store: Store, seed: int) -> None:
    """Some steps done or skipped, some participation windows moved, some themes paused or
    archived: the states that change which reminders are due."""
    rng = random.Random(seed)
    for view in store.themes(include_archived=True):
        for step in view.steps:
            if step.due < NOW.date() and rng.random() < 0.5:
                state = rng.choice([StepState.done, StepState.skipped])
                store.set_step_state(
                    view.id, step.key, state=state, actor="@k:l", now=NOW, action="done"
                )
        if view.theme.z2 is not None and rng.random() < 0.15:  # a window moved by hand, far off
            start = view.theme.z2 + timedelta(days=rng.randrange(-300, 300))
            store.set_participation(
                view.id, start, start + timedelta(weeks=4), actor="@k:l", now=NOW
            )
        if rng.random() < 0.1:
            status = rng.choice([ThemeStatus.paused, ThemeStatus.archived])
            store.set_status(view.id, status, actor="@k:l", now=NOW, action="paused")


def test_the_themes_near_a_day_give_the_reminders_every_theme_gives(store: Store) -> None:
    store.apply_plan(random_themes(7, 120), [], actor="@k:l", now=NOW)
    mark_some_done(store, 7)
    settings = ReminderSettings(lead_days=(14, 7))
    every = [theme_facts(view) for view in store.themes(include_archived=True)]
    start = datetime(2026, 1, 1, 9, 30, tzinfo=BERLIN)
    for days in range(0, 3 * 365, 11):
        now = start + timedelta(days=days)
        window = near(settings, 8)
        chosen = [theme_facts(view) for view in store.active_themes_near(now.date(), window)]
        expected = due_reminders(every, now, settings, CALENDAR)
        found = due_reminders(chosen, now, settings, CALENDAR)
        assert found == expected, now
        expected_soon = upcoming(every, now, settings, CALENDAR, horizon_days=8)
        found_soon = upcoming(chosen, now, settings, CALENDAR, 8)
        assert found_soon == expected_soon, now
        assert len(chosen) < len(every)


def test_the_year_plan_from_the_themes_of_the_year_is_the_whole_plan(store: Store) -> None:
    store.apply_plan(random_themes(11, 150), [], actor="@k:l", now=NOW)
    mark_some_done(store, 11)
    every = store.themes(include_archived=True)
    school = SchoolHolidays()
    for year in (2025, 2026, 2027, 2028, 2029):
        of_year = store.themes_of_year(year)
        expected = build_annual_plan(every, year, CALENDAR, school, today=NOW.date())
        assert build_annual_plan(of_year, year, CALENDAR, school, today=NOW.date()) == expected
        # The year plan's own read (only what the plan needs) gives the same plan.
        planned = store.year_plan_of(year)
        assert build_annual_plan(planned, year, CALENDAR, school, today=NOW.date()) == expected
        assert len(of_year) < len(every) or not every


def test_pages_and_counts(store: Store) -> None:
    store.apply_plan(random_themes(3, 60), [], actor="@k:l", now=NOW)
    running = (ThemeStatus.active,)
    every = [view for view in store.themes() if view.theme.status == ThemeStatus.active]
    page = store.themes_page(running, 25)
    assert [view.id for view in page] == [view.id for view in every[:25]]
    assert store.theme_count(running) == len(every)
    assert store.theme_count() == len(store.themes(include_archived=True))
    ids = {view.id for view in every[:5]}
    assert store.theme_names_by_id(ids) == {view.id: view.theme.name for view in every[:5]}


def test_a_theme_row_without_a_digest_still_lists_with_its_own_copy(store: Store) -> None:
    """A row written by hand (not by the store) has no digest: read by its id."""
    store.apply_plan([new_theme("Von Hand", date(2027, 6, 7))], [], actor="@k:l", now=NOW)
    with store.engine.begin() as connection:
        connection.execute(sa.text("UPDATE theme SET process_digest = NULL"))
    (view,) = store.themes()
    assert view.theme.name == "Von Hand"
    assert view.template == load_template()
