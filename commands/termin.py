"""`!zt termin <Thema> <Schritt> <Datum> [<HH:MM>[–<HH:MM>]] [trotzdem]`: pin one step to a
date; its followers move along. A meeting (Z1, Z2, the party meetings, the council) may
get a time on that day (issue 21): the same day with a time only sets the time. Step 4
is Z2: its date moves Z2 as `verschieben` does (and so needs a coordinator). A date that
puts the steps out of order or closer than the process's minimum distances is refused
with the reason, unless confirmed with `trotzdem`.

`!zt termin <Thema> beteiligung <Start> [<Ende>]` moves the digital participation window
(issue 12); without an end it keeps the length the process gives it (4 weeks).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from bot import arguments as arg
from bot.command import (
    Command,
    Reply,
    Request,
    Right,
    Services,
    StepRef,
    UserError,
    confirmed,
    date_error,
    moved_notices,
    parse_day,
    replan_with_council,
    require_coordinator,
    require_text,
    theme_and_step,
)
from bot.domain.date_checks import Conflict, theme_conflicts
from bot.domain.dates import DateError, parse_date_spec, split_trailing_date
from bot.domain.meetings import (
    MeetingError,
    MeetingTime,
    format_time,
    split_trailing_time,
    takes_time,
)
from bot.domain.participation import length, window
from bot.domain.process import StepRole
from bot.domain.theme_names import first_word, fold
from bot.rendering import Message, join_messages
from commands.verschieben import move_z2

# The word for the window, German first; folded (umlauts, case) before comparing.
WINDOW_WORDS = ("beteiligung", "participation")
_BETWEEN = re.compile(r"\s*(?:bis|to|-|–)$", re.IGNORECASE)


def _window_dates(text: str, usage: str) -> tuple[date, date | None]:
    """`<Start> [<Ende>]` (also `<Start> bis <Ende>`)."""
    text = require_text(text, usage)
    try:
        rest, last = split_trailing_date(text)
        if not rest:
            return last.first_day, None
        start = parse_date_spec(_BETWEEN.sub("", rest))
    except DateError as err:
        raise date_error(err, usage) from err
    return start.first_day, last.first_day


def _move_window(request: Request, services: Services, rest: str) -> Reply:
    view = request.named_theme
    usage = WINDOW_FORM.usage(services.renderer.argument_labels)
    current = window(view)
    if current is None:
        raise UserError("no_participation_window", theme=view.theme.name)
    start, end = _window_dates(rest, usage)
    if end is None:
        end = start + length(view.template)
    if end <= start:
        raise UserError("window_end_before_start", start=start, end=end, usage=usage)
    services.store.set_participation(
        view.id,
        start,
        end,
        actor=request.sender,
        now=request.now,
        old_start=current.opens,
        old_end=current.closes,
    )
    answer = services.renderer.message(
        "window_moved",
        theme=view.theme,
        old=current,
        start=start,
        end=end,
        holidays=[
            (day, name)
            for day in (start, end)
            if (name := services.calendar.holiday_name(day)) is not None
        ],
    )
    return Reply(answer, moved_notices(request, services, view, {}, cause="participation"))


def _refuse(
    conflicts: list[Conflict], request: Request, ref: StepRef, day: date, when: str = ""
) -> None:
    confirm = f"{request.verb} {ref.view.theme.name} {ref.step.key} {day:%d.%m.%Y}"
    confirm += f" {when} trotzdem" if when else " trotzdem"
    raise UserError("dates_conflict", conflicts=conflicts, confirm=confirm)


def _time(text: str, ref: StepRef, usage: str) -> tuple[str, MeetingTime | None]:
    """The date's text and the meeting's time after it, if any."""
    try:
        rest, when = split_trailing_time(text)
    except MeetingError as err:
        raise UserError(f"meeting_{err.code}", text=err.text, usage=usage) from err
    if when is not None and not takes_time(ref.definition):
        raise UserError(
            "time_only_for_meetings",
            step=ref.step.key,
            label=ref.definition.label,
            theme=ref.view.theme.name,
        )
    return rest, when


def _set_time(
    request: Request, services: Services, ref: StepRef, when: MeetingTime, day: date
) -> Message:
    services.store.set_meeting_time(
        ref.view.id, ref.step.key, when.starts, when.ends, actor=request.sender, now=request.now
    )
    step = replace(ref.step, due=day, starts_at=when.starts, ends_at=when.ends)
    return services.renderer.message(
        "meeting_set",
        theme=ref.view.theme,
        definition=ref.definition,
        step=step,
        changed="time",
        prefix=services.config.bot.prefix,
    )


def handle(request: Request, services: Services) -> Message | Reply:
    word, rest = first_word(request.args)
    if fold(word) in WINDOW_WORDS:
        return _move_window(request, services, rest)
    ref = theme_and_step(request)
    text, sure = confirmed(require_text(ref.rest, request.usage))
    text, when = _time(text, ref, request.usage)
    day = parse_day(require_text(text, request.usage), request.usage)
    if when is None:
        return _move(request, services, ref, day, sure)
    if day == ref.step.due:  # the day stays: only the time is new
        answer = _set_time(request, services, ref, when, day)
        return Reply(answer, moved_notices(request, services, ref.view, {}, cause="meeting"))
    # The time is stored once the date is found good and before the date is, so that the
    # other rooms hear of both in one notice.
    timed: list[Message] = []
    moved = _move(
        request,
        services,
        ref,
        day,
        sure,
        when=format_time(when),
        first=lambda: timed.append(_set_time(request, services, ref, when, day)),
    )
    return Reply(join_messages(moved.message, *timed), moved.notices)


def _move(
    request: Request,
    services: Services,
    ref: StepRef,
    day: date,
    sure: bool,
    when: str = "",
    first: Callable[[], object] = lambda: None,
) -> Reply:
    """The step's new date; `first` runs once the date is found good, before it is stored."""
    view = ref.view
    if ref.definition.role == StepRole.z2:
        return _move_z2(request, services, ref, day, sure, when, first)
    changes = replan_with_council(view, services, pins={ref.step.key: day})
    changes[ref.step.key] = day
    found = theme_conflicts(view, changes)
    if found and not sure:
        _refuse(found, request, ref, day, when)
    first()
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
    answer = services.renderer.message(
        "step_pinned",
        theme=view.theme,
        definition=ref.definition,
        old=ref.step.due,
        day=day,
        followers=followers,
        holiday=services.calendar.holiday_name(day),
    )
    return Reply(answer, moved_notices(request, services, view, changes, cause="pinned"))


def _move_z2(
    request: Request,
    services: Services,
    ref: StepRef,
    day: date,
    sure: bool,
    when: str,
    first: Callable[[], object],
) -> Reply:
    """Step 4 is Z2: its new date moves Z2, and every open, unpinned step follows."""
    require_coordinator(request, services)  # as for `verschieben`
    view = ref.view
    changes = replan_with_council(view, services, z2=day)
    changes[ref.step.key] = day
    found = theme_conflicts(view, changes, z2=day)
    if found and not sure:
        _refuse(found, request, ref, day, when)
    first()
    return move_z2(request, services, view, day, changes)


COMMAND = Command(
    name="termin",
    aliases=("due", "datum"),
    handler=handle,
    # Two shapes (a step's date, or the participation window's): the handler reads them.
    # A meeting may get a time after the date (issue 21).
    arguments=(arg.theme(), arg.step(), arg.day(), arg.text("time", optional=True), arg.CONFIRM),
    reads_arguments=False,
    right=Right.theme_members,
    examples=(
        "termin Mobilität 6 20.05.2027",
        "termin Mobilität 2 KW 11/2027",
        "termin Mobilität beteiligung 01.03.2027 29.03.2027",
        "termin Mobilität 4 22.04.2027",
        "termin Mobilität Z2 22.04.2027 14:00–16:00",
        "termin Mobilität 3 12.04.2027 trotzdem",
    ),
)

# The participation window's shape, for its usage line.
WINDOW_FORM = Command(
    name="termin",
    aliases=("due", "datum"),
    handler=handle,
    arguments=(
        arg.theme(),
        arg.word("window", WINDOW_WORDS, optional=False),
        arg.day("start"),
        arg.day("end", optional=True),
    ),
)
