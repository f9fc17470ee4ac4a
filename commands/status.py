"""`!zt status [Thema]`: one theme's full timeline, or every active theme at a glance."""

from __future__ import annotations

from dataclasses import dataclass

from bot import arguments as arg
from bot.command import (
    Command,
    Request,
    Services,
    council_dates,
    room_setup,
)
from bot.domain.lead_rooms import addressees, citizen_dialogue_unbound, room_role
from bot.domain.participation import Window, WindowState, window
from bot.domain.process import Lead, StepRole
from bot.domain.step_states import StepStatus, next_step, theme_progress
from bot.domain.themes import ThemeStatus
from bot.domain.timeline import first_council_on_or_after
from bot.rendering import Message

# An overview longer than this many themes is summarised (the event limit is 64 KiB).
OVERVIEW_LIMIT = 60


@dataclass(frozen=True)
class StatusRow:
    status: StepStatus
    rooms: tuple[str, ...]  # where its reminders go, as people call the rooms
    people: tuple[str, ...]  # responsible
    at_council: bool  # moved to a council meeting
    holiday: str | None  # a public holiday on the step's date: shown, not moved


@dataclass(frozen=True)
class ParticipationRow:
    """The digital participation window: its own line under its step (issue 12)."""

    window: Window
    state: WindowState
    rooms: tuple[str, ...]


_RUNNING = (ThemeStatus.active, ThemeStatus.paused)


def _overview(request: Request, services: Services) -> Message:
    """The first themes by Z2 (and ideas) and how many more: only what is shown is read."""
    store = services.store
    rows = [
        (view.theme, next_step(theme_progress(view.template, view.steps, request.today)))
        for view in store.themes_page(_RUNNING, OVERVIEW_LIMIT)
    ]
    ideas = [view.theme for view in store.themes_page((ThemeStatus.idea,), OVERVIEW_LIMIT)]
    return services.renderer.message(
        "overview",
        rows=rows,
        hidden=max(0, store.theme_count(_RUNNING) - len(rows)),
        ideas=ideas,
        hidden_ideas=max(0, store.theme_count((ThemeStatus.idea,)) - len(ideas)),
        prefix=services.config.bot.prefix,
    )


def handle(request: Request, services: Services) -> Message:
    view = request.values.theme
    if view is None:
        return _overview(request, services)
    setup = room_setup(services, view)
    meetings = council_dates(services)
    rows = []
    for status in theme_progress(view.template, view.steps, request.today):
        targets = addressees(status.definition.leads, setup)
        snapped = status.definition.snap == "council" and status.due in meetings
        rows.append(
            StatusRow(
                status,
                tuple(dict.fromkeys(room_role(target.room_id, setup) for target in targets)),
                view.responsible.get(status.key, ()),
                snapped and first_council_on_or_after(status.due, meetings) == status.due,
                services.calendar.holiday_name(status.due),
            )
        )
    found = window(view)
    participation = None
    if found is not None:
        targets = addressees((Lead.buergerdialog,), setup)
        participation = ParticipationRow(
            found,
            found.state(request.today),
            tuple(room_role(target.room_id, setup) for target in targets),
        )
    council = view.template.step_with_role(StepRole.council_decision)
    draft = view.template.step_with_role(StepRole.draft_resolution)
    return services.renderer.message(
        "status",
        theme=view.theme,
        rows=rows,
        today=request.today,
        prefix=services.config.bot.prefix,
        # The Beschlussvorlage: its state on the decision step, its link on the draft step.
        paper=view.paper,
        council_key=council.key if council else None,
        draft_key=draft.key if draft else None,
        participation=participation,
        documents=view.documents,
        # Where the Koordination hears steps the Fachbereich leads with it: the digest.
        coordination_in_digest=bool(setup.teams) and not setup.coordination_copies,
        citizen_dialogue_unbound=citizen_dialogue_unbound(setup),
    )


COMMAND = Command(
    name="status",
    changes=False,
    aliases=("stand",),
    handler=handle,
    arguments=(arg.theme(optional=True),),
    examples=("status Mobilität", "status"),
)
