"""`!zt kalender <Thema>`: every step as an all-day event in an .ics file."""

from __future__ import annotations

import re

from zukunftstische.commands.base import (
    Command,
    Request,
    Services,
    UserError,
    find_theme,
    require_args,
)
from zukunftstische.domain.ics import theme_calendar
from zukunftstische.domain.theme_names import fold
from zukunftstische.rendering import Attachment, Message


def handle(request: Request, services: Services) -> Message:
    view = find_theme(require_args(request), services)
    if not view.steps:
        raise UserError("idea_has_no_steps", theme=view.theme.name)
    data = theme_calendar(view, lead_names=services.renderer.lead_names(), now=request.now)
    slug = re.sub(r"[^a-z0-9]+", "-", fold(view.theme.name)).strip("-")[:40] or "thema"
    filename = f"zukunftstisch-{slug}.ics"
    reply = services.renderer.message("calendar", theme=view.theme, steps=len(view.steps))
    return reply.with_attachment(Attachment(filename, "text/calendar", data))


COMMAND = Command(
    name="kalender",
    changes=False,
    aliases=("calendar", "ics"),
    handler=handle,
    usage="kalender <Thema>",
    examples=("kalender Mobilität",),
)
