"""`!zt termin <Thema> <Schritt> <Datum>`: pin one step to a date; its followers move along."""

from __future__ import annotations

from zukunftstische.commands.base import (
    Command,
    Request,
    Right,
    Services,
    parse_day,
    replan_with_council,
    require_text,
    theme_and_step,
)
from zukunftstische.rendering import Message


def handle(request: Request, services: Services) -> Message:
    ref = theme_and_step(request)
    day = parse_day(require_text(ref.rest, request.usage), request.usage)
    view = ref.view
    changes = replan_with_council(view, services, pins={ref.step.key: day})
    changes[ref.step.key] = day
    services.store.set_step_dates(
        view.id,
        changes,
        actor=request.sender,
        now=request.now,
        action="pinned",
        pin=ref.step.key,
        step=ref.step.key,
        old=ref.step.due,
        new=day,
    )
    followers = {key: due for key, due in changes.items() if key != ref.step.key}
    return services.renderer.message(
        "step_pinned",
        theme=view.theme,
        definition=ref.definition,
        old=ref.step.due,
        day=day,
        followers=followers,
        holiday=services.calendar.holiday_name(day),
    )


COMMAND = Command(
    name="termin",
    aliases=("due", "datum"),
    handler=handle,
    usage="termin <Thema> <Schritt> <Datum>",
    right=Right.theme_members,
    examples=("termin Mobilität 6 20.05.2027", "termin Mobilität 2 KW 11/2027"),
)
