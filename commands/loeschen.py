"""`!zt löschen <Thema> bestätigen`: remove a theme created by mistake (asks first)."""

from __future__ import annotations

from bot.command import (
    Command,
    Request,
    Right,
    Services,
    find_theme,
    require_args,
)
from bot.domain.theme_names import fold
from bot.rendering import Message

CONFIRM = {"bestatigen", "bestaetigen", "confirm"}


def handle(request: Request, services: Services) -> Message:
    words = require_args(request).split()
    confirmed = len(words) > 1 and fold(words[-1]) in CONFIRM
    view = find_theme(" ".join(words[:-1] if confirmed else words), services)
    if not confirmed:
        return services.renderer.sentence(
            "changes", "delete_ask", theme=view.theme.name, prefix=services.config.bot.prefix
        )
    services.store.delete_theme(view.id)
    return services.renderer.sentence("changes", "deleted", theme=view.theme.name)


COMMAND = Command(
    name="löschen",
    aliases=("loeschen", "delete"),
    handler=handle,
    usage="löschen <Thema> bestätigen",
    examples=("löschen Testthema bestätigen",),
    right=Right.coordinators,
)
