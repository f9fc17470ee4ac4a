"""`!zt ratssitzung [entfernen] [Datum]`: known council meetings; step 6 moves to them."""

from __future__ import annotations

from datetime import date

from zukunftstische.commands.base import (
    Command,
    Request,
    Services,
    UserError,
    council_dates,
    parse_day,
    require_coordinator,
)
from zukunftstische.domain.theme_names import first_word, fold
from zukunftstische.domain.timeline import replan
from zukunftstische.rendering import Message
from zukunftstische.store.tables import ThemeStatus

USAGE = "ratssitzung [entfernen] <Datum>"


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


def handle(request: Request, services: Services) -> Message:
    args = request.args.strip()
    renderer = services.renderer
    if not args:
        configured = set(services.config.council.meetings)
        return renderer.message(
            "council", meetings=council_dates(services), configured=configured, today=request.today
        )
    require_coordinator(request, services)
    word, rest = first_word(args)
    if fold(word) in {"entfernen", "remove", "loschen"}:
        day = parse_day(rest, USAGE)
        if day in services.config.council.meetings:
            raise UserError("council_in_config", day=day)
        if not services.store.remove_council_meeting(day):
            raise UserError("council_unknown", day=day)
        action = "council_removed"
    else:
        day = parse_day(args, USAGE)
        if day in council_dates(services) or not services.store.add_council_meeting(
            day, request.sender
        ):
            raise UserError("council_known", day=day)
        action = "council_added"
    moved = _follow_council(request, services)
    return renderer.message("council_changed", action=action, day=day, moved=moved)


COMMAND = Command(
    name="ratssitzung",
    aliases=("council",),
    handler=handle,
    usage=USAGE,
    examples=("ratssitzung", "ratssitzung 20.05.2027", "ratssitzung entfernen 20.05.2027"),
)
