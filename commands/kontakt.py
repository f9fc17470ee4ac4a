"""`!zt kontakt <Thema> <Text>`: who to ask about the theme (name, mail, phone);
`entfernen` clears it. `status` shows it."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, UserError
from bot.domain.theme_names import clean_name, fold, unquote
from bot.rendering import Message

MAX_CONTACT_LENGTH = 500
CLEAR = {"entfernen", "keiner", "niemand", "remove", "none"}


def handle(request: Request, services: Services) -> Message:
    view = request.named_theme
    text = clean_name(unquote(request.values.text))
    if not text:
        raise UserError("missing_contact", usage=request.usage, theme=view.theme.name)
    if len(text) > MAX_CONTACT_LENGTH:
        raise UserError("text_too_long", limit=MAX_CONTACT_LENGTH, length=len(text))
    contact = None if fold(text) in CLEAR else text
    services.store.set_contact(view.id, contact, actor=request.sender, now=request.now)
    return services.renderer.sentence("changes", "contact", theme=view.theme.name, contact=contact)


COMMAND = Command(
    name="kontakt",
    aliases=("contact",),
    handler=handle,
    arguments=(arg.theme(), arg.text("contact", missing="missing_contact")),
    examples=("kontakt Mobilität Anna Beispiel, Tel. 0123 456-78",),
    right=Right.theme_members,
)
