"""`!zt jahresplan [Jahr]`: the year's themes by quarter, with same-week and holiday warnings."""

from __future__ import annotations

import re

from bot import arguments as arg
from bot.charts.year_plan import draw_year_plan, year_plan_data
from bot.command import Command, Request, Services, UserError
from bot.domain.annual_plan import AnnualPlan, build_annual_plan
from bot.domain.dates import MAX_YEAR, MIN_YEAR
from bot.domain.plan_file import write_plan
from bot.domain.themes import ThemeView
from bot.pictures import chart_words, picture
from bot.rendering import Attachment, Message

# Warnings and entries per quarter shown in full; more are counted, so that a year of a
# thousand themes fits the event limit whole, with the hint to the file at its end (the
# whole year comes as a file with `alle`).
WARNINGS_SHOWN = 20
ENTRIES_SHOWN = 25
# A week with more Z2 than this names the first ones and counts the rest: the warning is
# the clash, not the list (a city with a thousand themes has twenty in every week).
NAMES_PER_WEEK = 4
# A picture with more rows than this is unreadable (and slow to draw): left out, said so.
PICTURE_ROWS = 120
ALL_WORDS = frozenset({"alle", "all", "datei", "file"})

_DIGITS = re.compile(r"\d+")


def parse_year(text: str, default: int, usage: str) -> int:
    """The year as typed (`2027`), or `default` without one."""
    text = text.strip()
    if not text:
        return default
    if not _DIGITS.fullmatch(text):
        raise UserError("plan_year_unrecognized", text=text, usage=usage)
    # Bounded before int(): a 5,000-digit "year" is out of range, not a crash.
    if len(text) > 4 or not MIN_YEAR <= int(text) <= MAX_YEAR:
        raise UserError("plan_year_out_of_range", text=text, min=MIN_YEAR, max=MAX_YEAR)
    return int(text)


def shown_of(plan: AnnualPlan, *, drawn: bool) -> dict[str, object]:
    """What of the plan the answer shows in full, and what it counts."""
    return {
        "shown": ENTRIES_SHOWN,
        "names_shown": NAMES_PER_WEEK,
        "conflicts": plan.conflicts[:WARNINGS_SHOWN],
        "hidden_conflicts": max(0, len(plan.conflicts) - WARNINGS_SHOWN),
        "step_warnings": plan.step_warnings[:WARNINGS_SHOWN],
        "hidden_warnings": max(0, len(plan.step_warnings) - WARNINGS_SHOWN),
        "milestone_clashes": plan.milestone_clashes[:WARNINGS_SHOWN],
        "hidden_clashes": max(0, len(plan.milestone_clashes) - WARNINGS_SHOWN),
        "shortened": (not drawn and not plan.is_empty)
        or any(len(q.entries) > ENTRIES_SHOWN for q in plan.quarters),
        "drawn": drawn,
        "picture_rows": PICTURE_ROWS,
    }


def _as_file(services: Services, plan: AnnualPlan, views: list[ThemeView]) -> Message:
    names = {entry.name for entry in plan.entries}
    chosen = [view for view in views if view.theme.name in names]
    # utf-8-sig: Excel opens it with the umlauts intact; `zt-bot import` reads it back.
    named = services.store.participants_of([view.id for view in chosen])
    data = write_plan(chosen, named).encode("utf-8-sig")
    reply = services.renderer.message("themes", file=True, total=len(chosen), year=plan.year)
    return reply.with_attachment(Attachment(f"jahresplan-{plan.year}.csv", "text/csv", data))


def handle(request: Request, services: Services) -> Message:
    year = parse_year(request.values.text, request.today.year, request.usage)
    # What the plan needs of each theme; the whole views only for the file and the
    # picture (a picture has at most PICTURE_ROWS rows).
    plan = build_annual_plan(
        services.store.year_plan_of(year),
        year,
        services.calendar,
        services.school_holidays,
        milestones=services.store.milestones_of_year(year),
        today=request.today,
    )
    if request.values.has("all"):
        return _as_file(services, plan, services.store.themes_of_year(year))
    drawn = not plan.is_empty and len(plan.entries) + len(plan.milestones) <= PICTURE_ROWS
    reply = services.renderer.message(
        "annual_plan", plan=plan, prefix=services.config.bot.prefix, **shown_of(plan, drawn=drawn)
    )
    if not drawn:
        return reply
    data = year_plan_data(
        plan,
        services.store.themes_of_year(year),
        request.today,
        calendar=services.calendar,
        school=services.school_holidays,
        words=chart_words(services),
    )
    return reply.with_attachment(
        picture(services, draw_year_plan, data, filename=f"jahresplan-{year}.png")
    )


COMMAND = Command(
    name="jahresplan",
    changes=False,
    aliases=("plan", "annual"),
    handler=handle,
    arguments=(arg.text("year", optional=True), arg.word("all", ALL_WORDS)),
    examples=("jahresplan", "jahresplan 2027", "jahresplan 2027 alle"),
)
