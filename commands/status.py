"""`!zt status [Thema]`: one theme's full timeline, or every active theme at a glance."""

from __future__ import annotations

from bot.models import ThemeStatus
from bot.progress import next_step, theme_progress
from bot.rendering import Message
from commands.base import Command, Request, Services, find_theme


def _overview(request: Request, services: Services) -> Message:
    rows = []
    ideas = []
    for view in services.store.themes():
        if view.theme.status == ThemeStatus.idea:
            ideas.append(view.theme)
            continue
        progress = theme_progress(view.template, view.steps, request.today)
        rows.append((view.theme, next_step(progress)))
    return services.renderer.message(
        "overview", rows=rows, ideas=ideas, prefix=services.config.bot.prefix
    )


def handle(request: Request, services: Services) -> Message:
    if not request.args.strip():
        return _overview(request, services)
    view = find_theme(request.args, services)
    progress = theme_progress(view.template, view.steps, request.today)
    return services.renderer.message(
        "status",
        theme=view.theme,
        progress=progress,
        today=request.today,
        prefix=services.config.bot.prefix,
        coordination_room=services.config.rooms.koordination,
    )


COMMAND = Command(
    name="status",
    aliases=("stand",),
    handler=handle,
    usage="status [Thema]",
    examples=("status Mobilität", "status"),
)
