"""`!zt löschen <Thema> bestätigen`: remove a theme created by mistake (asks first)."""

from __future__ import annotations

from zukunftstische.commands.base import (
    Command,
    Request,
    Services,
    find_theme,
    require_args,
    require_coordinator,
)
from zukunftstische.domain.theme_names import fold
from zukunftstische.rendering import Message

USAGE = "löschen <Thema> bestätigen"
CONFIRM = {"bestatigen", "bestaetigen", "confirm"}


def handle(request: Request, services: Services) -> Message:
    require_coordinator(request, services)
    words = require_args(request, USAGE).split()
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
    usage=USAGE,
    examples=("löschen Testthema bestätigen",),
    coordinators_only=True,
)
