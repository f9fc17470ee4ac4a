"""`!zt zuständig <Thema> <Schritt> @person …`: who is responsible; reminders mention them."""

from __future__ import annotations

import re

from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    theme_and_step,
)
from bot.domain.theme_names import fold
from bot.rendering import Message

USER_ID = re.compile(r"@[A-Za-z0-9._=\-/+]+:[A-Za-z0-9.\-]+(?::\d+)?")
MAX_USER_ID = 255  # the Matrix limit
CLEAR = {"niemand", "keine", "keiner", "entfernen", "none"}
MAX_PEOPLE = 10


def people_in(text: str, mentions: tuple[str, ...]) -> list[str]:
    """User ids typed as @name:server, and the people mentioned with a pill. A client's
    `m.mentions` is not trusted: only well-formed user ids are taken."""
    found = USER_ID.findall(text) + [m for m in mentions if USER_ID.fullmatch(m)]
    return list(dict.fromkeys(user for user in found if len(user) <= MAX_USER_ID))


def handle(request: Request, services: Services) -> Message:
    ref = theme_and_step(request)
    clear = fold(ref.rest) in CLEAR
    people = [] if clear else people_in(ref.rest, request.mentions)
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
    usage="zuständig <Thema> <Schritt> @person:server …",
    right=Right.theme_members,
    examples=(
        "zuständig Mobilität 3 @anna:stadt.de @ben:stadt.de",
        "zuständig Mobilität 3 niemand",
    ),
)
