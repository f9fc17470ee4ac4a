"""`!zt pausieren <Thema>`: no reminders until `fortsetzen`."""

from __future__ import annotations

from zukunftstische.commands.base import Command, Request, Services, change_status
from zukunftstische.rendering import Message
from zukunftstische.store.tables import ThemeStatus

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
