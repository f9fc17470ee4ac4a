"""`!zt pausieren <Thema>`: no reminders until `fortsetzen`."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, change_status
from bot.domain.themes import ThemeStatus
from bot.rendering import Message


def handle(request: Request, services: Services) -> Message:
    return change_status(
        request,
        services,
        allowed_from=(ThemeStatus.active,),
        to=ThemeStatus.paused,
        action="paused",
    )


COMMAND = Command(
    name="pausieren",
    aliases=("pause",),
    handler=handle,
    arguments=(arg.theme(),),
    examples=("pausieren Mobilität",),
    right=Right.coordinators,
)
