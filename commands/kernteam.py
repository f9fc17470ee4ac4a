"""`!zt kernteam <Thema> @a:server @b:server`: add people to the theme's Kernteam (the
Fachbereich's reminders mention them); `kernteam <Thema> entfernen @x:server` removes."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, UserError
from bot.rendering import Message

MAX_CORE_TEAM = 20
REMOVE = {"entfernen", "remove", "losen"}


def handle(request: Request, services: Services) -> Message:
    view = request.named_theme
    remove = request.values.has("remove")
    # A reply to the bot mentions the bot: it is never part of a Kernteam.
    users = list(request.values.users)
    if not users:
        raise UserError("missing_core_team", usage=request.usage, core_team=view.theme.core_team)
    store, name = services.store, view.theme.name
    if remove:
        removed = store.remove_core_team(view.id, users, actor=request.sender, now=request.now)
        left = [u for u in view.theme.core_team if u not in removed]
        return services.renderer.sentence(
            "changes", "core_team_removed", theme=name, removed=removed, core_team=left
        )
    if len(set(view.theme.core_team) | set(users)) > MAX_CORE_TEAM:
        raise UserError("too_many_core_team", limit=MAX_CORE_TEAM)
    added = store.add_core_team(view.id, users, actor=request.sender, now=request.now)
    return services.renderer.sentence(
        "changes",
        "core_team_added",
        theme=name,
        added=added,
        core_team=[*view.theme.core_team, *added],
    )


COMMAND = Command(
    name="kernteam",
    aliases=("coreteam", "core-team"),
    handler=handle,
    arguments=(arg.theme(), arg.REMOVE, arg.users(optional=True)),
    examples=(
        "kernteam Mobilität @anna:stadt.de @ben:stadt.de",
        "kernteam Mobilität entfernen @ben:stadt.de",
    ),
    right=Right.theme_members,
)
