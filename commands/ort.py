"""`!zt ort <Thema> <Schritt> <Text>`: a meeting's place (a room, an address, a video
link; issue 21), shown in `status`, the reminders, the timeline picture and the
calendar (LOCATION); `… entfernen` takes it away. Only meetings have a place."""

from __future__ import annotations

from dataclasses import replace

from bot import arguments as arg
from bot.arguments import StepRef
from bot.command import (
    Command,
    Reply,
    Request,
    Right,
    Services,
    UserError,
    moved_notices,
)
from bot.domain.meetings import MeetingError, check_place, takes_time
from bot.domain.theme_names import fold

# The word that takes the place away, German first; folded (umlauts, case) before comparing.
REMOVE_WORDS = ("entfernen", "remove", "loeschen")


def _place(text: str, usage: str) -> str | None:
    if fold(text) in REMOVE_WORDS:
        return None
    try:
        return check_place(text)
    except MeetingError as err:
        raise UserError(f"meeting_{err.code}", text=err.text, usage=usage) from err


def handle(request: Request, services: Services) -> Reply:
    ref: StepRef = request.values.step
    if not takes_time(ref.definition):
        raise UserError(
            "place_only_for_meetings",
            step=ref.step.key,
            label=ref.definition.label,
            theme=ref.view.theme.name,
        )
    place = _place(request.values.text, request.usage)
    if place is None and ref.step.place is None:
        raise UserError("no_place", step=ref.step.key, theme=ref.view.theme.name)
    services.store.set_meeting_place(
        ref.view.id, ref.step.key, place, actor=request.sender, now=request.now
    )
    answer = services.renderer.message(
        "meeting_set",
        theme=ref.view.theme,
        definition=ref.definition,
        step=replace(ref.step, place=place),
        changed="place",
        prefix=services.config.bot.prefix,
    )
    return Reply(answer, moved_notices(request, services, ref.view, {}, cause="meeting"))


COMMAND = Command(
    name="ort",
    aliases=("place", "location"),
    handler=handle,
    arguments=(arg.theme(), arg.step(), arg.text("place")),
    right=Right.theme_members,
    examples=(
        "ort Mobilität Z2 Ratssaal, Rathaus, Marktplatz 1",
        "ort Mobilität Z1 https://meet.stadt.example/zukunftstisch",
        "ort Mobilität Z2 entfernen",
    ),
)
