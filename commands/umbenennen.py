"""`!zt umbenennen <Thema> <neuer Name>`: fix a mistyped name."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
)
from bot.domain.theme_names import MAX_NAME_LENGTH, clean_name, unquote
from bot.rendering import Message
from bot.store.theme_records import ThemeExists


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    new_name = clean_name(unquote(request.values.text))
    if not new_name:
        raise UserError("missing_new_name", usage=request.usage)
    if len(new_name) > MAX_NAME_LENGTH:
        raise UserError("name_too_long", limit=MAX_NAME_LENGTH, length=len(new_name))
    try:
        services.store.rename(view.id, new_name, actor=request.sender, now=request.now)
    except ThemeExists as err:
        raise UserError("theme_exists", name=err.existing) from err
    return services.renderer.sentence("changes", "renamed", old=view.theme.name, new=new_name)


COMMAND = Command(
    name="umbenennen",
    aliases=("rename",),
    handler=handle,
    arguments=(arg.theme(), arg.text("new_name", missing="missing_new_name")),
    examples=('umbenennen "Mobilitat" Mobilität',),
    right=Right.coordinators,
)
