"""`!zt löschen <Thema> bestätigen`: remove a theme created by mistake (asks first)."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
)
from bot.rendering import Message

CONFIRM = {"bestatigen", "bestaetigen", "confirm"}


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    if not request.values.has("sure"):
        return services.renderer.sentence(
            "changes", "delete_ask", theme=view.theme.name, prefix=services.config.bot.prefix
        )
    services.store.delete_theme(view.id)
    return services.renderer.sentence("changes", "deleted", theme=view.theme.name)


COMMAND = Command(
    name="löschen",
    aliases=("loeschen", "delete"),
    handler=handle,
    arguments=(arg.theme(), arg.word("sure", CONFIRM)),
    examples=("löschen Testthema bestätigen",),
    right=Right.coordinators,
)
