"""`!zt öffentlich <Thema> an|aus`: a theme on or off the public page for citizens
(issue 24; `[web] public = true` serves it). Default: not public. An idea may be public
too: the page shows it as "in Planung" with its quarter."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, UserError
from bot.rendering import Message

# The words that switch, German first; each stands for on or off.
SWITCH = arg.word("switch", {"an": "on", "aus": "off", "on": "on", "off": "off"}, optional=False)


def page_url(services: Services, slug: str | None = None) -> str | None:
    """Where citizens read it, when the page is served (else None: the answer says so)."""
    web = services.config.web
    if not (web.enabled and web.public):
        return None
    return web.base_url() + ("/" if slug is None else f"/thema/{slug}")


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    switch = request.values.words.get("switch")
    if switch is None:
        raise UserError("missing_args", usage=request.usage, theme=view.theme.name)
    public = switch == "on"
    unchanged = view.theme.public == public
    if not unchanged:
        services.store.set_public(view.id, public, actor=request.sender, now=request.now)
    return services.renderer.message(
        "public_page",
        kind="public" if public else "private",
        unchanged=unchanged,
        theme=view.theme,
        url=page_url(services),
        prefix=services.config.bot.prefix,
    )


COMMAND = Command(
    name="öffentlich",
    aliases=("oeffentlich", "public"),
    handler=handle,
    arguments=(arg.theme(), SWITCH),
    right=Right.coordinators,
    examples=("öffentlich Mobilität an", "öffentlich Regenwasserbewirtschaftung aus"),
)
