"""`!zt pausieren <Thema>`: no reminders until `fortsetzen`."""

from __future__ import annotations

from bot.models import ThemeStatus
from bot.rendering import Message
from commands.base import Command, Request, Services, change_status

USAGE = "pausieren <Thema>"


def handle(request: Request, services: Services) -> Message:
    return change_status(
        request,
        services,
        usage=USAGE,
        allowed_from=(ThemeStatus.active,),
        to=ThemeStatus.paused,
        action="paused",
    )


COMMAND = Command(
    name="pausieren",
    aliases=("pause",),
    handler=handle,
    usage=USAGE,
    examples=("pausieren Mobilität",),
    coordinators_only=True,
)
