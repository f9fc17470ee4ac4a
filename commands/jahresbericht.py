"""`!zt jahresbericht [Jahr]`: the year in short (themes with Z2 in the year, steps on time
or late, council decisions, evaluations, KVP, the trend per question). The full report
for the council is `zt-bot report`."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Services, UserError
from bot.rendering import Message
from bot.store.reports import load_year_report
from commands.jahresplan import parse_year


def handle(request: Request, services: Services) -> Message:
    try:
        year = parse_year(request.values.text, request.today.year, request.usage)
    except UserError as refusal:  # the same rules as jahresplan, its own example
        raise UserError(refusal.code.replace("plan_", "report_"), **refusal.context) from None
    report = load_year_report(services.store, services.config, year, request.today)
    return services.renderer.message("jahresbericht", report=report)


COMMAND = Command(
    name="jahresbericht",
    changes=False,
    aliases=("annualreport", "report", "bericht"),
    handler=handle,
    arguments=(arg.text("year", optional=True),),
    examples=("jahresbericht", "jahresbericht 2027"),
)
