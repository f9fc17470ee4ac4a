"""Sample data for the pictures: the concept's worked example (Digitale Ethik, Z2 in KW
15/2027, council meeting in KW 20), a year of many themes, and evaluation results. Used by
tests/unit/test_charts.py, the benchmark (bench/charts.py) and the reference pictures
(bench/reference_charts.py)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache

from bot.charts import ChartWords
from bot.charts.results import (
    ComparisonData,
    ResultsData,
    comparison_data,
    results_data,
)
from bot.charts.timeline import TimelineData, timeline_data
from bot.charts.year_plan import YearPlanData, year_plan_data
from bot.domain.annual_plan import SchoolHolidays, build_annual_plan
from bot.domain.polls import Summary, Tally, summarise
from bot.domain.process import load_template
from bot.domain.questionnaire import VERSION_1, load_questionnaire
from bot.domain.themes import StepRecord, ThemeRecord, ThemeView
from bot.domain.timeline import plan
from bot.domain.working_days import WorkingCalendar
from bot.rendering import Renderer

Z2 = date(2027, 4, 12)  # KW 15/2027
COUNCIL = (date(2027, 5, 20),)  # KW 20/2027
TODAY = date(2027, 3, 18)  # between step 2 (15.03.) and step 3 (22.03.)
CREATED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@lru_cache(maxsize=2)
def words(language: str = "de") -> ChartWords:
    """As the bot has them: its renderer (templates compiled once) gives them."""
    return ChartWords.of(Renderer(language).words("chart_words"))


def record(
    name: str, theme_id: int, *, z2: date | None, status: str, quarter: str | None = None
) -> ThemeRecord:
    return ThemeRecord(
        id=theme_id,
        name=name,
        name_key=name.casefold(),
        z2=z2,
        planned_quarter=quarter,
        status=status,
        process_json=load_template().to_json(),
        created_by="@koordination:stadt.example",
        created_at=CREATED,
    )


def theme_view(
    name: str = "Digitale Ethik",
    z2: date = Z2,
    *,
    theme_id: int = 1,
    states: dict[str, str] | None = None,
    pinned: Sequence[str] = (),
    status: str = "active",
    council: Sequence[date] = COUNCIL,
) -> ThemeView:
    states = states or {}
    steps = tuple(
        StepRecord(
            theme_id=theme_id,
            key=planned.key,
            position=position,
            due=planned.due,
            state=states.get(planned.key, "open"),
            pinned=planned.key in pinned,
        )
        for position, planned in enumerate(plan(load_template(), z2, council))
    )
    return ThemeView(record(name, theme_id, z2=z2, status=status), steps)


def idea_view(name: str, quarter: str, theme_id: int) -> ThemeView:
    return ThemeView(record(name, theme_id, z2=None, status="idea", quarter=quarter), ())


def timeline(
    view: ThemeView | None = None, today: date = TODAY, language: str = "de"
) -> TimelineData:
    return timeline_data(
        view or theme_view(states={"1": "done", "2": "done"}, pinned=("5",)),
        today,
        council=COUNCIL,
        calendar=WorkingCalendar(),
        school=SchoolHolidays(),
        words=words(language),
    )


def year_views(themes: int = 60, ideas: int = 8, year: int = 2027) -> list[ThemeView]:
    """`themes` themes, Z2 spread over the year (some in the same week), and `ideas` ideas."""
    chance = random.Random(14)
    views = []
    for number in range(themes - ideas):
        z2 = date(year, 1, 11) + timedelta(days=chance.randrange(0, 340))
        status = "paused" if number == 5 else "archived" if number == 7 else "active"
        views.append(theme_view(f"Thema {number + 1} Öffentlicher Raum", z2,
                                theme_id=number + 10, status=status))  # fmt: skip
    for number in range(ideas):
        views.append(idea_view(f"Idee {number + 1} Wärmeplanung", f"Q{number % 4 + 1}/{year}",
                               theme_id=1000 + number))  # fmt: skip
    return views


def year_plan(views: list[ThemeView] | None = None, year: int = 2027) -> YearPlanData:
    views = views if views is not None else year_views()
    calendar, school = WorkingCalendar(), SchoolHolidays()
    annual = build_annual_plan(views, year, calendar, school)
    return year_plan_data(annual, views, TODAY, calendar=calendar, school=school, words=words())


def summary(seed: int, answers: int, few: str | None = "q3") -> Summary:
    """Results of the first shipped questionnaire (the reference pictures use it):
    `answers` votes per question, but only two for question `few` (fewer than
    min_answers = 3)."""
    questionnaire = load_questionnaire(None, default=VERSION_1)
    chance = random.Random(seed)
    tallies = {}
    for question in questionnaire.polls:
        counts = {answer.id: 0 for answer in question.answers}
        voters = 2 if question.key == few else answers
        for _ in range(voters):
            counts[chance.choice(list(counts))] += 1
        tallies[question.key] = Tally(counts, voters=voters, spoiled=0, ended=True)
    return summarise(questionnaire, tallies, 3)


def results() -> ResultsData:
    return results_data("Mobilität", summary(1, 9), words())


def comparison() -> ComparisonData:
    columns = [
        ("Mobilität", summary(1, 9)),
        ("Digitale Ethik", summary(2, 12, few=None)),
        ("Regenwasserbewirtschaftung", summary(3, 2)),
    ]
    return comparison_data(columns, 3, words())
