"""`!zt archivieren <Thema>`: a finished theme leaves the overview; nothing is deleted."""

from __future__ import annotations

from zukunftstische.commands.base import Command, Request, Services, change_status
from zukunftstische.rendering import Message
from zukunftstische.store.tables import ThemeStatus

USAGE = "archivieren <Thema>"


def handle(request: Request, services: Services) -> Message:
    return change_status(
        request,
        services,
        usage=USAGE,
        allowed_from=(ThemeStatus.active, ThemeStatus.paused, ThemeStatus.idea),
        to=ThemeStatus.archived,
        action="archived",
    )


COMMAND = Command(
    name="archivieren",
    aliases=("archive",),
    handler=handle,
    usage=USAGE,
    examples=("archivieren Digitale Ethik",),
    coordinators_only=True,
)
