"""`!zt erinnerungen [Thema]`: the next reminders that will go out, with date and room."""

from __future__ import annotations

from bot import arguments as arg
from bot.command import Command, Request, Services, room_setup
from bot.domain.lead_rooms import room_role
from bot.domain.reminder_plan import coming
from bot.domain.reminder_policy import near
from bot.rendering import Message

SHOWN = 25
# Reminders within this many days are listed.
HORIZON_DAYS = 28


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
        horizon_days=HORIZON_DAYS,
        coordination_copies=config.reminders.coordination_copies,
    )
    by_id = {view.id: view for view in views}
    rows = []
    for reminder, room_id in upcoming:
        view = by_id.get(reminder.theme_id or -1)
        label = room_role(room_id, room_setup(services, view)) if view else "koordination"
        rows.append((reminder, label, view.theme.name if view else ""))
    return services.renderer.message(
        "reminders_list",
        rows=rows[:SHOWN],
        more=max(0, len(rows) - SHOWN),
        theme=theme.theme if theme else None,
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
