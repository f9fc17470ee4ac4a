"""`!zt archivieren <Thema>`: a finished theme leaves the overview; nothing is deleted."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, change_status
from bot.domain.themes import ThemeStatus
from bot.rendering import Message


def handle(request: Request, services: Services) -> Message:
    return change_status(
        request,
        services,
        allowed_from=(ThemeStatus.active, ThemeStatus.paused, ThemeStatus.idea),
        to=ThemeStatus.archived,
        action="archived",
    )


COMMAND = Command(
    name="archivieren",
    aliases=("archive",),
    handler=handle,
    arguments=(arg.theme(),),
    examples=("archivieren Digitale Ethik",),
    right=Right.coordinators,
)
