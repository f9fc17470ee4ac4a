"""`!zt verschieben <Thema> <Z2>`: move Z2; every open, unpinned step follows.

An idea (a theme with only a quarter) gets its Z2 this way, or a new quarter.
"""

from __future__ import annotations

from datetime import date

from bot import arguments as arg
from bot.command import (
    Command,
    Reply,
    Request,
    Right,
    Services,
    UserError,
    council_dates,
    moved_notices,
    replan_with_council,
)
from bot.domain.dates import Quarter
from bot.domain.participation import window
from bot.domain.step_states import steps_in_the_past
from bot.domain.themes import StepState, ThemeStatus, ThemeView
from bot.domain.timeline import plan
from bot.rendering import Message


def handle(request: Request, services: Services) -> Message | Reply:
    view, spec = request.values.theme, request.values.date
    assert view is not None and spec is not None
    store, renderer = services.store, services.renderer
    is_idea = view.theme.status == ThemeStatus.idea
    if isinstance(spec, Quarter):
        if not is_idea:
            raise UserError("quarter_for_active_theme", theme=view.theme.name, usage=request.usage)
        store.set_quarter(view.id, str(spec), actor=request.sender, now=request.now)
        return renderer.sentence("changes", "requartered", theme=view.theme.name, quarter=spec)
    new_z2 = spec.first_day
    meetings = council_dates(services)
    if is_idea or not view.steps:
        planned = plan(view.template, new_z2, meetings)
        store.schedule_idea(view.id, new_z2, planned, actor=request.sender, now=request.now)
        scheduled = store.theme_by_id(view.id) or view
        return renderer.message(
            "idea_scheduled",
            theme=view.theme,
            z2=new_z2,
            steps=planned,
            past=steps_in_the_past(scheduled, request.today),
            prefix=services.config.bot.prefix,
        )
    changes = replan_with_council(view, services, z2=new_z2)
    return move_z2(request, services, view, new_z2, changes)


def move_z2(
    request: Request, services: Services, view: ThemeView, new_z2: date, changes: dict[str, date]
) -> Reply:
    """Record a new Z2 with the steps that follow it (`verschieben`, and `termin` on the
    Z2 step), say what moved and what stayed, and tell the theme's other rooms."""
    old_z2 = view.theme.z2
    services.store.set_step_dates(
        view.id,
        changes,
        actor=request.sender,
        now=request.now,
        action="moved",
        z2=new_z2,
        participation=_window_to_keep(view),
        old=old_z2,
        new=new_z2,
        moved=len(changes),
    )
    # Those that stay because they are done, skipped or pinned (not those the council holds).
    kept = [s for s in view.steps if s.key not in changes and (s.pinned or s.state != "open")]
    answer = services.renderer.message(
        "moved",
        theme=view.theme,
        old=old_z2,
        new=new_z2,
        moved=len(changes),
        kept=kept,
        holiday=services.calendar.holiday_name(new_z2),
    )
    notices = moved_notices(request, services, view, changes, cause="z2", z2=new_z2)
    return Reply(answer, notices)


def _window_to_keep(view: ThemeView) -> tuple[date, date] | None:
    """The participation window follows Z2 like an open step: where its step is done or
    skipped, it stays where it was (moved by hand, it stays anyway)."""
    found = window(view)
    if found is None or found.moved:
        return None
    owner = view.step(found.step_key)
    if owner is None or owner.state == StepState.open:
        return None
    return found.opens, found.closes


COMMAND = Command(
    name="verschieben",
    aliases=("move",),
    handler=handle,
    arguments=(arg.theme(missing="missing_name"), arg.day("z2", quarter=True)),
    examples=("verschieben Mobilität KW 20/2027", "verschieben Regenwasser 14.10.2027"),
    right=Right.coordinators,
)
