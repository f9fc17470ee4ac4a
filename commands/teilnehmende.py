"""`!zt teilnehmende <Thema> @a:server @b:server`: name the people who sit at the theme's
Z2 (politicians, administration, experts); the evaluation after Z2 asks them, besides
the members of the Z2 room. `teilnehmende <Thema> entfernen @x:server` removes, and
`teilnehmende <Thema>` alone lists them."""

from __future__ import annotations

from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    find_leading_theme,
    require_args,
    user_ids,
)
from bot.domain.theme_names import first_word, fold
from bot.rendering import Message

# A Z2 has politicians, administration and experts: a few dozen people at most.
MAX_PARTICIPANTS = 100
REMOVE = {"entfernen", "remove", "losen"}


def handle(request: Request, services: Services) -> Message:
    view, rest = find_leading_theme(require_args(request), services)
    store, renderer, name = services.store, services.renderer, view.theme.name
    known = store.participants(view.id)
    word, after = first_word(rest)
    remove = fold(word) in REMOVE
    text = after if remove else rest
    # A reply to the bot mentions the bot: it is never a participant.
    mentions = tuple(m for m in request.mentions if m != services.config.matrix.user_id)
    users = user_ids(text, mentions)
    room = view.theme.z2_room
    context = {
        "theme": name,
        "room": room,
        "room_name": services.rooms.room_name(room) if room else None,
        "prefix": services.config.bot.prefix,
        "added": None,
        "removed": None,
    }
    if not users:
        if remove:
            raise UserError("missing_participants", usage=request.usage)
        return renderer.message("participants", participants=known, **context)
    if remove:
        removed = store.remove_participants(view.id, users, actor=request.sender, now=request.now)
        left = [u for u in known if u not in removed]
        return renderer.message(
            "participants", **{**context, "removed": removed, "participants": left}
        )
    if len(set(known) | set(users)) > MAX_PARTICIPANTS:
        raise UserError("too_many_participants", limit=MAX_PARTICIPANTS)
    added = store.add_participants(view.id, users, actor=request.sender, now=request.now)
    return renderer.message(
        "participants", **{**context, "added": added, "participants": [*known, *added]}
    )


COMMAND = Command(
    name="teilnehmende",
    aliases=("participants", "teilnehmer"),
    handler=handle,
    usage="teilnehmende <Thema> [entfernen] [@person:server …]",
    examples=(
        "teilnehmende Mobilität @ratsfrau.meyer:stadt.de @prof.schulz:uni.de",
        "teilnehmende Mobilität entfernen @prof.schulz:uni.de",
        "teilnehmende Mobilität",
    ),
    right=Right.coordinators,
)
