"""`!zt raum <Thema> [team|buergerdialog|z2]`: bind this room to a theme (a theme has
several team rooms: each one added hears the Fachbereich); `entfernen` unbinds this room
only."""

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

ROLES = {"team": "team", "buergerdialog": "buergerdialog", "burgerdialog": "buergerdialog"}
ROLES |= {"z2": "z2", "fachbereich": "team"}
REMOVE = {"entfernen", "remove", "losen"}


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    assert view is not None
    role = request.values.words.get("role", "team")
    store, renderer = services.store, services.renderer
    if request.room_id == services.config.rooms.koordination and role == "team":
        raise UserError("coordination_room_is_not_a_team_room", theme=view.theme.name)
    if role == "remove":
        roles = store.unbind_room_everywhere(
            view.id, request.room_id, actor=request.sender, now=request.now
        )
        if not roles:
            raise UserError("room_not_bound", theme=view.theme.name)
        remaining = [room for room in view.theme.team_rooms if room != request.room_id]
        return renderer.sentence(
            "changes",
            "room_unbound",
            theme=view.theme.name,
            roles=roles,
            team_rooms_left=len(remaining) if "team" in roles else None,
        )
    # A theme has several team rooms (a second one is added); one room per other role.
    previous = None if role == "team" else view.room(role)
    others = [room for room in view.theme.team_rooms if room != request.room_id]
    store.bind_room(view.id, role, request.room_id, actor=request.sender, now=request.now)
    return renderer.sentence(
        "changes",
        "room_bound",
        theme=view.theme.name,
        role=role,
        replaced=previous is not None and previous != request.room_id,
        other_team_rooms=len(others) if role == "team" else 0,
    )


COMMAND = Command(
    name="raum",
    aliases=("room",),
    handler=handle,
    arguments=(arg.theme(), arg.word("role", ROLES | dict.fromkeys(REMOVE, "remove"))),
    examples=("raum Mobilität", "raum Mobilität buergerdialog", "raum Mobilität entfernen"),
    right=Right.coordinators,
)
