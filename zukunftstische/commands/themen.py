"""`!zt themen`: the themes, one line each."""

from __future__ import annotations

from zukunftstische.commands.base import Command, Request, Services
from zukunftstische.rendering import Message


def handle(request: Request, services: Services) -> Message:
    return services.renderer.message(
        "themes",
        themes=[view.theme for view in services.store.themes(include_archived=True)],
        prefix=services.config.bot.prefix,
    )


COMMAND = Command(
    name="themen", changes=False, aliases=("list", "liste"), handler=handle, usage="themen"
)
