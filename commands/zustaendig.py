"""`!zt zuständig <Thema> <Schritt> @person …`: who is responsible; reminders mention them."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
)
from bot.rendering import Message

CLEAR = {"niemand", "keine", "keiner", "entfernen", "none"}
MAX_PEOPLE = 10


def handle(request: Request, services: Services) -> Message:
    ref = request.values.step
    clear = request.values.has("nobody")
    people = [] if clear else list(request.values.users)
    if not people and not clear:
        raise UserError("missing_people", usage=request.usage)
    if len(people) > MAX_PEOPLE:
        raise UserError("too_many_people", limit=MAX_PEOPLE)
    services.store.set_responsible(
        ref.view.id, ref.step.key, people, actor=request.sender, now=request.now
    )
    return services.renderer.sentence(
        "changes", "responsible", theme=ref.view.theme.name, step=ref.definition, people=people
    )


COMMAND = Command(
    name="zuständig",
    aliases=("zustaendig", "responsible"),
    handler=handle,
    arguments=(arg.theme(), arg.step(), arg.word("nobody", CLEAR), arg.users(optional=True)),
    right=Right.theme_members,
    examples=(
        "zuständig Mobilität 3 @anna:stadt.de @ben:stadt.de",
        "zuständig Mobilität 3 niemand",
    ),
)
