"""`!zt fortsetzen <Thema>`: a paused or archived theme runs again."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, change_status
from bot.domain.themes import ThemeStatus
from bot.rendering import Message


def handle(request: Request, services: Services) -> Message:
    return change_status(
        request,
        services,
        allowed_from=(ThemeStatus.paused, ThemeStatus.archived),
        to=ThemeStatus.active,
        action="resumed",
    )


COMMAND = Command(
    name="fortsetzen",
    aliases=("resume",),
    handler=handle,
    arguments=(arg.theme(),),
    examples=("fortsetzen Mobilität",),
    right=Right.coordinators,
)
