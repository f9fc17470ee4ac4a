"""`!zt kalender <Thema>`: every step as an all-day event in an .ics file (a meeting with a
time as a timed one); `!zt kalender <Thema> abo` (or `!zt kalender abo` for every
theme): the URL of a calendar feed that Outlook and Thunderbird subscribe to; `… abo
neu` replaces its secret token."""

from __future__ import annotations

from datetime import datetime

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
)
from bot.domain.ics import CalendarLabels, theme_calendar
from bot.domain.meetings import takes_time
from bot.domain.participation import window
from bot.pictures import slug
from bot.rendering import Attachment, Message


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    if not view.steps:
        raise UserError("idea_has_no_steps", theme=view.theme.name)
    data = theme_calendar(
        view,
        lead_names=services.renderer.lead_names(),
        now=request.now,
        labels=CalendarLabels.from_words(services.renderer.words("calendar_words")),
        zone=services.config.bot.zone,
    )
    filename = f"zukunftstisch-{slug(view.theme.name)}.ics"
    reply = services.renderer.message(
        "calendar",
        theme=view.theme,
        steps=len(view.steps),
        timed=sum(
            1
            for step in view.steps
            if step.starts_at is not None
            and (definition := view.template.step(step.key)) is not None
            and takes_time(definition)
        ),
        window=window(view) is not None,
    )
    return reply.with_attachment(Attachment(filename, "text/calendar", data))


def _feed_reply(
    request: Request, services: Services, theme_id: int | None, name: str | None, *, renew: bool
) -> Message:
    web = services.config.web
    if not web.enabled:
        raise UserError("feeds_off")
    feeds = services.feeds
    now: datetime = request.now
    if renew:
        token = feeds.renew(theme_id, actor=request.sender, now=now)
    else:
        token = feeds.token(theme_id, actor=request.sender, now=now)
    return services.renderer.message(
        "calendar_feed",
        name=name,
        url=web.feed_url(token),
        renewed=renew,
        prefix=services.config.bot.prefix,
    )


def subscribe(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    return _feed_reply(request, services, view.id, view.theme.name, renew=False)


def renew(request: Request, services: Services) -> Message:
    view = request.named_theme
    return _feed_reply(request, services, view.id, view.theme.name, renew=True)


def _all_themes(request: Request, services: Services, *, renew: bool) -> Message:
    if request.args.strip():  # no arguments declared: nothing may follow
        raise UserError("too_many_args", usage=request.usage, rest=request.args.strip())
    return _feed_reply(request, services, None, None, renew=renew)


def subscribe_all(request: Request, services: Services) -> Message:
    return _all_themes(request, services, renew=False)


def renew_all(request: Request, services: Services) -> Message:
    return _all_themes(request, services, renew=True)


COMMAND = Command(
    name="kalender",
    changes=False,
    aliases=("calendar", "ics"),
    handler=handle,
    arguments=(arg.theme(),),
    examples=("kalender Mobilität", "kalender Mobilität abo", "kalender abo"),
    tails=(
        Command(
            name="abo neu",
            aliases=("subscribe new",),
            handler=renew,
            arguments=(arg.theme(),),
            right=Right.theme_members,
        ),
        Command(
            name="abo",
            aliases=("subscribe",),
            handler=subscribe,
            arguments=(arg.theme(),),
            changes=False,
        ),
    ),
    subcommands=(
        Command(
            name="abo",
            aliases=("subscribe",),
            handler=subscribe_all,
            changes=False,
            subcommands=(
                Command(
                    name="neu",
                    aliases=("new",),
                    handler=renew_all,
                    right=Right.coordinators,
                ),
            ),
        ),
    ),
)
