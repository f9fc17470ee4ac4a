"""`!zt meilenstein <Name> <Datum|KW|Quartal>`: a milestone of one of the city's other
strategies (Masterplan Mobilität Q3/2027, Reallabor Verwaltung 2.030 ab 01.05.2027),
beside the themes in the year plan and the calendar feed; `… <Name> entfernen` takes it
off; `!zt meilenstein` lists them. "Jahresplanung in Abstimmung mit Smart City
Strategie, Masterplan Mobilität, Verwaltung 2.030, Global Nachhaltige Kommune."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, UserError
from bot.domain.milestones import Milestone, milestone_span
from bot.domain.theme_names import clean_name, unquote
from bot.rendering import Message

MAX_NAME_LENGTH = 80
# The list names this many; the year plan shows each year's.
LISTED = 50


def _name(text: str) -> str:
    name = clean_name(unquote(text))
    if len(name) > MAX_NAME_LENGTH:
        raise UserError("milestone_name_too_long", limit=MAX_NAME_LENGTH, length=len(name))
    return name


def handle(request: Request, services: Services) -> Message:
    spec = request.values.date
    assert spec is not None
    name = _name(request.values.text)
    if not name:
        raise UserError("milestone_missing", usage=request.usage)
    first, last, written, precision = milestone_span(spec)
    milestone = Milestone(name, first, last, written, precision)
    new = services.store.set_milestone(milestone, actor=request.sender, now=request.now)
    return services.renderer.message(
        "milestones",
        kind="set",
        new=new,
        milestone=milestone,
        prefix=services.config.bot.prefix,
        feeds=services.config.web.enabled,
    )


def remove(request: Request, services: Services) -> Message:
    name = _name(request.values.text)
    removed = services.store.remove_milestone(name)
    if removed is None:
        known = [m.name for m in services.store.milestones()][:LISTED]
        raise UserError("unknown_milestone", name=name, names=known)
    return services.renderer.message("milestones", kind="removed", name=removed)


def list_all(request: Request, services: Services) -> Message:
    found = services.store.milestones()
    return services.renderer.message(
        "milestones",
        kind="list",
        milestones=found[:LISTED],
        more=max(0, len(found) - LISTED),
        prefix=services.config.bot.prefix,
    )


COMMAND = Command(
    name="meilenstein",
    aliases=("meilensteine", "milestone", "milestones"),
    handler=handle,
    arguments=(arg.text("milestone", missing="milestone_missing"), arg.day("when", quarter=True)),
    right=Right.coordinators,
    examples=(
        "meilenstein Masterplan Mobilität Q3/2027",
        "meilenstein Reallabor Verwaltung 2.030 03.05.2027",
        "meilenstein Smart City Strategie KW 40/2027",
        "meilenstein Masterplan Mobilität entfernen",
    ),
    tails=(
        Command(
            name="entfernen",
            aliases=("remove", "löschen", "loeschen"),
            handler=remove,
            arguments=(arg.text("milestone", missing="milestone_missing"),),
            right=Right.coordinators,
        ),
    ),
    bare=Command(name="meilenstein", aliases=(), handler=list_all, changes=False),
)
