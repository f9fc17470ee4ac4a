"""`!zt zeitplan <Thema>`: the theme's timeline as a picture."""

from __future__ import annotations

from bot import arguments as arg
from bot.charts.timeline import draw_timeline, timeline_data
from bot.command import (
    Command,
    Request,
    Services,
    UserError,
    council_dates,
)
from bot.pictures import chart_words, picture, slug
from bot.rendering import Message


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    if not view.steps:
        raise UserError("idea_has_no_steps", theme=view.theme.name)
    data = timeline_data(
        view,
        request.today,
        council=council_dates(services),
        calendar=services.calendar,
        school=services.school_holidays,
        words=chart_words(services),
    )
    attachment = picture(
        services, draw_timeline, data, filename=f"zeitplan-{slug(view.theme.name)}.png"
    )
    reply = services.renderer.message(
        "timeline", theme=view.theme, prefix=services.config.bot.prefix
    )
    return reply.with_attachment(attachment)


COMMAND = Command(
    name="zeitplan",
    changes=False,
    aliases=("timeline",),
    handler=handle,
    arguments=(arg.theme(),),
    examples=("zeitplan Mobilität",),
)
