"""`!zt teilnehmende <Thema> @a:server @b:server`: name the people who sit at the theme's
Z2 (politicians, administration, experts); the evaluation after Z2 asks them, besides
the members of the Z2 room. `teilnehmende <Thema> entfernen @x:server` removes, and
`teilnehmende <Thema>` alone lists them."""

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

# A Z2 has politicians, administration and experts: a few dozen people at most.
MAX_PARTICIPANTS = 100
REMOVE = {"entfernen", "remove", "losen"}


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    store, renderer, name = services.store, services.renderer, view.theme.name
    known = store.participants(view.id)
    remove = request.values.has("remove")
    # A reply to the bot mentions the bot: it is never a participant.
    users = list(request.values.users)
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
    arguments=(arg.theme(), arg.REMOVE, arg.users(optional=True)),
    examples=(
        "teilnehmende Mobilität @ratsfrau.meyer:stadt.de @prof.schulz:uni.de",
        "teilnehmende Mobilität entfernen @prof.schulz:uni.de",
        "teilnehmende Mobilität",
    ),
    right=Right.coordinators,
)
