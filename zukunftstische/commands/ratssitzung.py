"""`!zt ratssitzung [entfernen] [Datum]`: known council meetings; step 6 moves to them."""

from __future__ import annotations

from datetime import date

from zukunftstische.commands.base import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    council_dates,
    parse_day,
)
from zukunftstische.domain.themes import ThemeStatus
from zukunftstische.domain.timeline import replan
from zukunftstische.rendering import Message


def _follow_council(request: Request, services: Services) -> list[tuple[str, dict[str, date]]]:
    """Re-plan every running theme against the new list of council meetings."""
    meetings = council_dates(services)
    moved = []
    for view in services.store.themes():
        if view.theme.status != ThemeStatus.active or view.theme.z2 is None:
            continue
        changes = replan(view.template, view.theme.z2, meetings, view.steps)
        if changes:
            services.store.set_step_dates(
                view.id, changes, actor=request.sender, now=request.now, action="council"
            )
            moved.append((view.theme.name, changes))
    return moved


def show(request: Request, services: Services) -> Message:
    configured = set(services.config.council.meetings)
    return services.renderer.message(
        "council", meetings=council_dates(services), configured=configured, today=request.today
    )


def add(request: Request, services: Services) -> Message:
    day = parse_day(request.args, request.usage)
    if day in council_dates(services) or not services.store.add_council_meeting(
        day, request.sender
    ):
        raise UserError("council_known", day=day)
    return _changed(request, services, "council_added", day)


def remove(request: Request, services: Services) -> Message:
    day = parse_day(request.args, request.usage)
    if day in services.config.council.meetings:
        raise UserError("council_in_config", day=day)
    if not services.store.remove_council_meeting(day):
        raise UserError("council_unknown", day=day)
    return _changed(request, services, "council_removed", day)


def _changed(request: Request, services: Services, action: str, day: date) -> Message:
    moved = _follow_council(request, services)
    return services.renderer.message("council_changed", action=action, day=day, moved=moved)


COMMAND = Command(
    name="ratssitzung",
    aliases=("council",),
    handler=add,
    usage="ratssitzung [entfernen] <Datum>",
    right=Right.coordinators,
    examples=("ratssitzung", "ratssitzung 20.05.2027", "ratssitzung entfernen 20.05.2027"),
    subcommands=(
        Command(
            name="entfernen",
            aliases=("remove", "löschen"),
            handler=remove,
            usage="ratssitzung entfernen <Datum>",
            right=Right.coordinators,
        ),
    ),
    bare=Command(name="ratssitzung", aliases=(), handler=show, usage="ratssitzung", changes=False),
)
