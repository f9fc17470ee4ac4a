"""`!zt pausieren <Thema>`: no reminders until `fortsetzen`."""

from __future__ import annotations

from zukunftstische.commands.base import Command, Request, Right, Services, change_status
from zukunftstische.domain.themes import ThemeStatus
from zukunftstische.rendering import Message


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
    usage="pausieren <Thema>",
    examples=("pausieren Mobilität",),
    right=Right.coordinators,
)
