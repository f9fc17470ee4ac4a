"""`!zt themen [alle]`: the themes, one line each; with `alle` the whole plan as a file."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Services
from bot.domain.plan_file import write_plan
from bot.rendering import Attachment, Message

# Lines in the answer; the rest is counted and comes as a file on request (64 KiB limit).
SHOWN = 100
ALL_WORDS = frozenset({"alle", "all", "datei", "file"})
FILENAME = "zukunftstische-themen.csv"


def handle(request: Request, services: Services) -> Message:
    store = services.store
    if request.values.has("all"):
        views = store.themes(include_archived=True)
        # utf-8-sig: Excel opens it with the umlauts intact; read_plan reads it back.
        named = services.store.participants_of([view.id for view in views])
        data = write_plan(views, named).encode("utf-8-sig")
        reply = services.renderer.message(
            "themes", file=True, total=len(views), themes=[], year=None
        )
        return reply.with_attachment(Attachment(FILENAME, "text/csv", data))
    shown = [view.theme for view in store.themes_page(None, SHOWN)]
    return services.renderer.message(
        "themes",
        themes=shown,
        total=store.theme_count(),
        file=False,
        year=None,
        prefix=services.config.bot.prefix,
    )


COMMAND = Command(
    name="themen",
    changes=False,
    aliases=("list", "liste"),
    handler=handle,
    arguments=(arg.word("all", ALL_WORDS),),
    examples=("themen", "themen alle"),
)
