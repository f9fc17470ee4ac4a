"""`!zt verlauf <Thema>`: every change with who and when, newest first."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Services
from bot.rendering import Message

SHOWN = 30


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
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
    arguments=(arg.theme(),),
    examples=("verlauf Mobilität",),
)
