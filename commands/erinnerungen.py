"""`!zt erinnerungen [Thema]`: the next reminders that will go out, with date and room:
every theme's within four weeks, one theme's to the end of its process (issue 21)."""

from __future__ import annotations

from datetime import date

from bot import arguments as arg
from bot.command import Command, Request, Services, room_setup
from bot.domain.lead_rooms import room_role
from bot.domain.reminder_plan import coming
from bot.domain.reminder_policy import Reminder, ReminderKind, near
from bot.domain.themes import ThemeView
from bot.rendering import Message

SHOWN = 25
# One theme's whole process has about as many; a few more fit.
SHOWN_FOR_THEME = 40
# Reminders within this many days are listed (for every theme).
HORIZON_DAYS = 28
# One theme's list runs to its last step and the reminders that may follow it.
AFTER_LAST_STEP_DAYS = 14
# What comes only if a step is late: left out of one theme's whole-process list, where
# it would bury what is planned (every step's overdue reminders).
IF_LATE = frozenset({ReminderKind.overdue, ReminderKind.escalation, ReminderKind.lapsed})


def _process_end(view: ThemeView) -> date | None:
    return max((step.due for step in view.steps), default=None)


def _horizon(view: ThemeView | None, today: date) -> int:
    end = _process_end(view) if view is not None else None
    if end is None:
        return HORIZON_DAYS
    return max(HORIZON_DAYS, (end - today).days + AFTER_LAST_STEP_DAYS)


def _planned(reminder: Reminder, today: date) -> bool:
    """Whether one theme's list shows it: not what comes only when a step is late, unless
    the step is late already."""
    if reminder.theme_id is None:  # the weekly digest is about every theme
        return False
    return reminder.kind not in IF_LATE or reminder.step_date < today


def handle(request: Request, services: Services) -> Message:
    theme = request.values.theme
    config = services.config
    settings = config.reminders.policy()
    if theme is not None:
        views = [theme]
    else:  # only the themes that can have a reminder within the horizon
        window = near(settings, HORIZON_DAYS)
        views = services.store.active_themes_near(request.today, window)
    upcoming = coming(
        views,
        settings,
        config.rooms,
        services.calendar,
        request.now,
        theme.id if theme else None,
        horizon_days=_horizon(theme, request.today),
        coordination_copies=config.reminders.coordination_copies,
    )
    if theme is not None:
        upcoming = [(r, room) for r, room in upcoming if _planned(r, request.today)]
    shown = SHOWN_FOR_THEME if theme is not None else SHOWN
    by_id = {view.id: view for view in views}
    rows = []
    for reminder, room_id in upcoming:
        view = by_id.get(reminder.theme_id or -1)
        label = room_role(room_id, room_setup(services, view)) if view else "koordination"
        rows.append((reminder, label, view.theme.name if view else ""))
    return services.renderer.message(
        "reminders_list",
        rows=rows[:shown],
        more=max(0, len(rows) - shown),
        theme=theme.theme if theme else None,
        until=_process_end(theme) if theme else None,
        send_time=services.config.reminders.send_time.strftime("%H:%M"),
    )


COMMAND = Command(
    name="erinnerungen",
    changes=False,
    aliases=("reminders",),
    handler=handle,
    arguments=(arg.theme(optional=True),),
    examples=("erinnerungen", "erinnerungen Mobilität"),
)
