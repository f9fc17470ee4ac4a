"""`!zt beteiligung <Thema> link <URL>`: where citizens take part in a theme's digital
participation (the city's platform); the public page links it next to the window's
dates. `… link entfernen` takes it away. Only http and https: a citizen's browser opens it."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, UserError
from bot.domain.public_page import LinkError, check_participation_link
from bot.domain.theme_names import fold
from bot.rendering import Message

LINK_WORD = arg.word("link_word", ("link",), optional=False)
REMOVE_WORDS = ("entfernen", "remove", "löschen", "loeschen")


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    if not request.values.has("link_word"):
        raise UserError("missing_args", usage=request.usage, theme=view.theme.name)
    text = request.values.text.strip()
    if fold(text) in {fold(word) for word in REMOVE_WORDS}:
        if view.theme.participation_link is None:
            raise UserError("no_participation_link", theme=view.theme.name)
        link = None
    else:
        try:
            link = check_participation_link(text)
        except LinkError as err:
            raise UserError(f"participation_{err.code}", text=err.text) from err
    services.store.set_participation_link(view.id, link, actor=request.sender, now=request.now)
    return services.renderer.message(
        "public_page",
        kind="link",
        link=link,
        theme=view.theme,
        prefix=services.config.bot.prefix,
    )


COMMAND = Command(
    name="beteiligung",
    aliases=("participation",),
    handler=handle,
    arguments=(arg.theme(), LINK_WORD, arg.text("url")),
    right=Right.coordinators,
    examples=(
        "beteiligung Mobilität link https://beteiligung.stadt.example/mobilitaet",
        "beteiligung Mobilität link entfernen",
    ),
)
