"""`!zt fachbereich <Thema> <Name>`: the department that leads the theme; `entfernen`
clears it. `status` and `themen` show it."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Right, Services, UserError
from bot.domain.theme_names import clean_name, fold, unquote
from bot.rendering import Message

MAX_DEPARTMENT_LENGTH = 200
CLEAR = {"entfernen", "keiner", "remove", "none"}


def handle(request: Request, services: Services) -> Message:
    view = request.named_theme
    name = clean_name(unquote(request.values.text))
    if not name:
        raise UserError("missing_department", usage=request.usage, theme=view.theme.name)
    if len(name) > MAX_DEPARTMENT_LENGTH:
        raise UserError("text_too_long", limit=MAX_DEPARTMENT_LENGTH, length=len(name))
    department = None if fold(name) in CLEAR else name
    services.store.set_department(view.id, department, actor=request.sender, now=request.now)
    return services.renderer.sentence(
        "changes", "department", theme=view.theme.name, department=department
    )


COMMAND = Command(
    name="fachbereich",
    aliases=("department",),
    handler=handle,
    arguments=(arg.theme(), arg.text("department", missing="missing_department")),
    examples=("fachbereich Mobilität Amt für Verkehrsplanung", "fachbereich Mobilität entfernen"),
    right=Right.theme_members,
)
