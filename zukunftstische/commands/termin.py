"""`!zt termin <Thema> <Schritt> <Datum> [trotzdem]`: pin one step to a date; its
followers move along. Step 4 is Z2: its date moves Z2 as `verschieben` does (and so needs
a coordinator). A date that puts the steps out of order or closer than the process's
minimum distances is refused with the reason, unless confirmed with `trotzdem`."""

from __future__ import annotations

from datetime import date

from zukunftstische.commands.base import (
    Command,
    Request,
    Right,
    Services,
    StepRef,
    UserError,
    parse_day,
    replan_with_council,
    require_coordinator,
    require_text,
    strip_tail,
    theme_and_step,
)
from zukunftstische.domain.date_checks import Conflict, theme_conflicts
from zukunftstische.domain.process import StepRole
from zukunftstische.rendering import Message

CONFIRM = ("trotzdem", "anyway")


def _confirmed(text: str) -> tuple[str, bool]:
    """(the date text, whether `trotzdem` ends it)."""
    for word in CONFIRM:
        before = strip_tail(text, word)
        if before is not None:
            return before, True
    return text, False


def _refuse(conflicts: list[Conflict], request: Request, ref: StepRef, day: date) -> None:
    confirm = f"{request.verb} {ref.view.theme.name} {ref.step.key} {day:%d.%m.%Y} trotzdem"
    raise UserError("dates_conflict", conflicts=conflicts, confirm=confirm)


def handle(request: Request, services: Services) -> Message:
    ref = theme_and_step(request)
    text, confirmed = _confirmed(require_text(ref.rest, request.usage))
    day = parse_day(require_text(text, request.usage), request.usage)
    view = ref.view
    if ref.definition.role == StepRole.z2:
        return _move_z2(request, services, ref, day, confirmed)
    changes = replan_with_council(view, services, pins={ref.step.key: day})
    changes[ref.step.key] = day
    found = theme_conflicts(view, changes)
    if found and not confirmed:
        _refuse(found, request, ref, day)
    services.store.set_step_dates(
        view.id,
        changes,
        actor=request.sender,
        now=request.now,
        action="pinned",
        pin=ref.step.key,
        step=ref.step.key,
        old=ref.step.due,
        new=day,
    )
    followers = {key: due for key, due in changes.items() if key != ref.step.key}
    return services.renderer.message(
        "step_pinned",
        theme=view.theme,
        definition=ref.definition,
        old=ref.step.due,
        day=day,
        followers=followers,
        holiday=services.calendar.holiday_name(day),
    )


def _move_z2(
    request: Request, services: Services, ref: StepRef, day: date, confirmed: bool
) -> Message:
    """Step 4 is Z2: its new date moves Z2, and every open, unpinned step follows."""
    require_coordinator(request, services)  # as for `verschieben`
    view = ref.view
    changes = replan_with_council(view, services, z2=day)
    changes[ref.step.key] = day
    found = theme_conflicts(view, changes, z2=day)
    if found and not confirmed:
        _refuse(found, request, ref, day)
    old_z2 = view.theme.z2
    services.store.set_step_dates(
        view.id,
        changes,
        actor=request.sender,
        now=request.now,
        action="moved",
        z2=day,
        old=old_z2,
        new=day,
        moved=len(changes),
    )
    # Those that stay because they are done, skipped or pinned (not those the council holds).
    kept = [s for s in view.steps if s.key not in changes and (s.pinned or s.state != "open")]
    return services.renderer.message(
        "moved",
        theme=view.theme,
        old=old_z2,
        new=day,
        moved=len(changes),
        kept=kept,
        holiday=services.calendar.holiday_name(day),
    )


COMMAND = Command(
    name="termin",
    aliases=("due", "datum"),
    handler=handle,
    usage="termin <Thema> <Schritt> <Datum> [trotzdem]",
    right=Right.theme_members,
    examples=(
        "termin Mobilität 6 20.05.2027",
        "termin Mobilität 2 KW 11/2027",
        "termin Mobilität 4 22.04.2027",
        "termin Mobilität 3 12.04.2027 trotzdem",
    ),
)
