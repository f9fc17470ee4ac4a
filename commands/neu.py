"""`!zt neu <Thema> <Z2>`: a coordinator creates a theme; a quarter makes it an idea."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Right,
    Services,
    UserError,
    council_dates,
)
from bot.domain.dates import Quarter
from bot.domain.step_states import steps_in_the_past
from bot.domain.theme_names import MAX_NAME_LENGTH, clean_name, unquote
from bot.domain.timeline import plan
from bot.rendering import Message
from bot.store.theme_records import ThemeExists


def handle(request: Request, services: Services) -> Message:
    spec = request.values.date
    assert spec is not None
    name = clean_name(unquote(request.values.text))
    if not name:
        raise UserError("missing_name", usage=request.usage)
    if len(name) > MAX_NAME_LENGTH:
        raise UserError("name_too_long", limit=MAX_NAME_LENGTH, length=len(name))
    coordination_room = services.config.rooms.koordination
    team_room = None if request.room_id == coordination_room else request.room_id
    is_idea = isinstance(spec, Quarter)
    z2 = None if is_idea else spec.first_day
    planned = [] if z2 is None else plan(services.template, z2, council_dates(services))
    try:
        view = services.store.create_theme(
            name=name,
            z2=z2,
            planned_quarter=str(spec) if is_idea else None,
            team_room=team_room,
            template=services.template,
            planned=planned,
            created_by=request.sender,
            now=request.now,
        )
    except ThemeExists as err:
        raise UserError("theme_exists", name=err.existing) from err
    return services.renderer.message(
        "created",
        theme=view.theme,
        steps=view.steps,
        past=steps_in_the_past(view, request.today),
        prefix=services.config.bot.prefix,
        has_team_room=team_room is not None,
    )


COMMAND = Command(
    name="neu",
    aliases=("new",),
    handler=handle,
    arguments=(arg.text("name", missing="missing_name"), arg.day("z2", quarter=True)),
    examples=(
        "neu Digitale Ethik KW 15/2027",
        "neu Mobilität 15.04.2027",
        "neu Regenwasser Q4/2027",
    ),
    right=Right.coordinators,
)
