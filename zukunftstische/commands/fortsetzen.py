"""`!zt fortsetzen <Thema>`: a paused or archived theme runs again."""

from __future__ import annotations

from zukunftstische.commands.base import Command, Request, Services, change_status
from zukunftstische.rendering import Message
from zukunftstische.store.tables import ThemeStatus

USAGE = "fortsetzen <Thema>"


def handle(request: Request, services: Services) -> Message:
    return change_status(
        request,
        services,
        usage=USAGE,
        allowed_from=(ThemeStatus.paused, ThemeStatus.archived),
        to=ThemeStatus.active,
        action="resumed",
    )


COMMAND = Command(
    name="fortsetzen",
    aliases=("resume",),
    handler=handle,
    usage=USAGE,
    examples=("fortsetzen Mobilität",),
    coordinators_only=True,
)
