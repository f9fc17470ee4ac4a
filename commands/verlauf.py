"""`!zt verlauf <Thema>`: every change with who and when, newest first."""

from __future__ import annotations

from bot.command import Command, Request, Services, find_theme, require_args
from bot.rendering import Message

SHOWN = 30


def handle(request: Request, services: Services) -> Message:
    view = find_theme(require_args(request), services)
    entries = services.store.history(view.id, limit=SHOWN + 1)
    return services.renderer.message(
        "history",
        theme=view.theme,
        entries=entries[:SHOWN],
        more=len(entries) > SHOWN,
        zone=services.config.bot.zone,
    )


COMMAND = Command(
    name="verlauf",
    changes=False,
    aliases=("history",),
    handler=handle,
    usage="verlauf <Thema>",
    examples=("verlauf Mobilität",),
)
