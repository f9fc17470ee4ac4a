"""`!zt jahresplan [Jahr]`: the year's themes by quarter, with same-week and holiday warnings."""

from __future__ import annotations

import re

from zukunftstische.charts.year_plan import draw_year_plan, year_plan_data
from zukunftstische.commands.base import Command, Request, Services, UserError
from zukunftstische.commands.pictures import chart_words, picture
from zukunftstische.domain.annual_plan import build_annual_plan
from zukunftstische.domain.dates import MAX_YEAR, MIN_YEAR
from zukunftstische.rendering import Message

# Warnings shown in full; more are counted (the event limit is 64 KiB).
WARNINGS_SHOWN = 40

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


def handle(request: Request, services: Services) -> Message:
    year = parse_year(request.args, request.today.year, request.usage)
    views = services.store.themes(include_archived=True)
    plan = build_annual_plan(views, year, services.calendar, services.school_holidays)
    reply = services.renderer.message(
        "annual_plan",
        plan=plan,
        step_warnings=plan.step_warnings[:WARNINGS_SHOWN],
        hidden_warnings=max(0, len(plan.step_warnings) - WARNINGS_SHOWN),
        prefix=services.config.bot.prefix,
    )
    if plan.is_empty:
        return reply
    data = year_plan_data(
        plan,
        views,
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
    usage="jahresplan [Jahr]",
    examples=("jahresplan", "jahresplan 2027"),
)
