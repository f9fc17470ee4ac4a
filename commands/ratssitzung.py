"""`!zt ratssitzung [entfernen] [Datum]`: known council meetings, from the configuration,
from chat and from the council information system; step 6 moves to them."""

from __future__ import annotations

from datetime import date, timedelta

from bot import arguments as arg
from bot.command import (
    Command,
    Reply,
    Request,
    Right,
    Services,
    UserError,
    council_dates,
    moved_notices,
)
from bot.domain.council import MeetingSource, Moved
from bot.rendering import Message

# The list shows past meetings this far back (the council information system keeps years).
SHOWN_PAST = timedelta(days=90)


def _follow_council(request: Request, services: Services) -> list[Moved]:
    """Re-plan every running theme against the new list of council meetings."""
    return services.council.follow(
        services.config.council.meetings, actor=request.sender, now=request.now
    )


def show(request: Request, services: Services) -> Message:
    entries = services.council.entries(services.config.council.meetings)
    since = request.today - SHOWN_PAST
    return services.renderer.message(
        "council",
        entries=[entry for entry in entries if entry.day >= since],
        hidden=sum(entry.day < since for entry in entries),
        sync=services.council.sync_state() if services.config.council.oparl else None,
        oparl=services.config.council.oparl is not None,
        zone=services.config.bot.zone,
        today=request.today,
        prefix=services.config.bot.prefix,
    )


def add(request: Request, services: Services) -> Reply:
    day = _day(request)
    if day in council_dates(services) or not services.store.add_council_meeting(
        day, request.sender
    ):
        raise UserError("council_known", day=day)
    return _changed(request, services, "council_added", day)


def _day(request: Request) -> date:
    assert request.values.date is not None
    return request.values.date.first_day


def remove(request: Request, services: Services) -> Reply:
    day = _day(request)
    if day in services.config.council.meetings:
        raise UserError("council_in_config", day=day)
    if not services.store.remove_council_meeting(day):
        known = {e.day: e.sources for e in services.council.entries(())}
        if MeetingSource.oparl in known.get(day, ()):
            raise UserError("council_from_oparl", day=day)
        raise UserError("council_unknown", day=day)
    return _changed(request, services, "council_removed", day)


def _changed(request: Request, services: Services, action: str, day: date) -> Reply:
    moved = _follow_council(request, services)
    # Public holidays on the meeting's day and on the days steps moved to: said, not moved.
    days = {day, *(due for m in moved for due in m.changes.values())}
    holidays = {d: name for d in days if (name := services.calendar.holiday_name(d))}
    answer = services.renderer.message(
        "council_changed", action=action, day=day, moved=moved, holidays=holidays
    )
    # Each moved theme's rooms hear of it, beside the answer where it was typed.
    notices = tuple(
        notice
        for m in moved
        for notice in moved_notices(request, services, m.before, m.changes, cause=action, day=day)
    )
    return Reply(answer, notices)


COMMAND = Command(
    name="ratssitzung",
    aliases=("council",),
    handler=add,
    arguments=(arg.day(),),
    right=Right.coordinators,
    examples=("ratssitzung", "ratssitzung 20.05.2027", "ratssitzung entfernen 20.05.2027"),
    subcommands=(
        Command(
            name="entfernen",
            aliases=("remove", "löschen"),
            handler=remove,
            arguments=(arg.day(),),
            right=Right.coordinators,
        ),
    ),
    bare=Command(name="ratssitzung", aliases=(), handler=show, changes=False),
)
