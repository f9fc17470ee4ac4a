"""`!zt jahresbericht [Jahr]`: the year in short (themes with Z2 in the year, steps on time
or late, council decisions, evaluations, KVP, the trend per question). `!zt
jahresbericht <Jahr> datei`: the whole report as a self-contained HTML file in chat, for
a coordinator (issue 21), as `zt-bot report --format html` writes it."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, UserError
from bot.domain.year_report import YearReport
from bot.rendering import Attachment, Message
from bot.store.reports import load_year_report
from commands.jahresplan import parse_year


def _report(request: Request, services: Services) -> YearReport:
    try:
        year = parse_year(request.values.text, request.today.year, request.usage)
    except UserError as refusal:  # the same rules as jahresplan, its own example
        raise UserError(refusal.code.replace("plan_", "report_"), **refusal.context) from None
    return load_year_report(services.store, services.config, year, request.today)


def handle(request: Request, services: Services) -> Message:
    report = _report(request, services)
    return services.renderer.message(
        "jahresbericht", report=report, prefix=services.config.bot.prefix
    )


def as_file(request: Request, services: Services) -> Message:
    """The whole report as the HTML page a council paper takes (styles inside, no links
    out), sent as m.file."""
    report = _report(request, services)
    page = services.renderer.document("year_report", "document", html=True, report=report)
    reply = services.renderer.message("year_report_file", report=report)
    filename = f"jahresbericht-{report.year}.html"
    return reply.with_attachment(Attachment(filename, "text/html", page.encode("utf-8")))


COMMAND = Command(
    name="jahresbericht",
    changes=False,
    aliases=("annualreport", "report", "bericht"),
    handler=handle,
    arguments=(arg.text("year", optional=True),),
    examples=("jahresbericht", "jahresbericht 2027", "jahresbericht 2027 datei"),
    tails=(
        Command(
            name="datei",
            aliases=("file", "html"),
            handler=as_file,
            arguments=(arg.text("year"),),
            right=Right.coordinators,
            changes=False,
        ),
    ),
)
