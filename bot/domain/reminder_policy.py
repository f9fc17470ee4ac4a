"""The reminder policy: given the themes' state and `now`, which reminders are due. Pure.

Every step kind has a fixed schedule of stages:

- deadline: advance notice(s) `lead_days` calendar days before, a notice on the day,
  overdue reminders every `overdue_every_days` working days (at most `overdue_max`),
  then one escalation to the coordination room;
- meeting: advance notice(s), a notice on the day, one follow-up the working day after;
  an optional meeting nobody marked lapses `overdue_every_days` working days after its
  follow-up ("entfallen", told once; the engine records it);
- phase: a start notice; overdue reminders and escalation once the next step's date
  (its deadline) has passed;
- continuous: a start notice only.

A step may have its own advance notices (the process file's `lead_days`: Z1 and Z2 four
weeks and one week ahead); the config's are the default. A notice counted from another
step's date (step 3: the material to the participants two weeks before Z2) is a `task`,
sent while that step is still to come, whatever became of its own step but skipping.

Advance and day notices on a non-working day move to the working day before, overdue
ones (counted in working days) land on working days after the date. A stage is due at
`send_time` local time on its `send_on` day. The policy returns, per step, only the
latest stage that is due: missed earlier stages are superseded, which makes catch-up
after downtime send one reminder, not a burst. The engine subtracts its sent-log, keyed
by `Reminder.key(room_id)`, so returning a still-due reminder on every tick is correct.

Catch-up is for reminders the bot missed, never for ones from before the theme existed:
a stage whose send time lies before the theme was created (or imported) and
which tells of a date before that day is not sent, nor are the stages it superseded.
Two more rules keep one send time to one reminder per step: an advance notice is never
sent for a step due today or earlier, and a missed (late) stage is not caught up when a
later stage of the same step falls due later today (that one is sent at its time).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from enum import StrEnum

from bot.domain.digest import DigestItem as DigestItem
from bot.domain.digest import DigestWhen as DigestWhen
from bot.domain.digest import digest_items
from bot.domain.process import MAX_LEAD_DAYS, Lead, StepKind

# The facts the policy works on live beside it (imported from here as before).
from bot.domain.reminder_facts import StepFacts, ThemeFacts
from bot.domain.reminder_facts import facts_for_steps as facts_for_steps
from bot.domain.themes import StepState
from bot.domain.timeline import iso_week
from bot.domain.working_days import WorkingCalendar

DIGEST_KEY = "digest"
# Reminders carry their sent-log key in the event content under this name, so that the
# bot can find them in a room's history after a long outage.
# Participation reminders stop being caught up this long after the window closed.
PARTICIPATION_GRACE = timedelta(days=7)
# A notice moves to the working day before its date: no run of days off in NRW comes
# near this.
CALENDAR_SLACK = timedelta(days=14)
# The milestones around Z2 (the participation window) lie within this of Z2 (the
# concept's process spans 10 weeks before to 5 weeks after).
MILESTONE_REACH = timedelta(weeks=12)
# A step's own lead time that is not one of the config's is numbered from here, so that
# the config's notices keep the sent-log keys (n) they had before steps had their own.
OWN_LEAD_N = 1000


class ReminderKind(StrEnum):
    advance = "advance"
    due = "due"
    overdue = "overdue"
    followup = "followup"
    start = "start"
    escalation = "escalation"
    lapsed = "lapsed"
    participation_advance = "participation_advance"
    participation_open = "participation_open"
    participation_close = "participation_close"
    # A notice of a step counted from another step's date (step 3: two weeks before Z2).
    task = "task"
    digest = "digest"
    # An adopted improvement idea's day (domain.idea_follow_up): its owner is reminded.
    idea_follow_up = "idea_follow_up"


# Notices before a date: never sent once the date has come (the day notice supersedes).
ADVANCE_KINDS = (ReminderKind.advance, ReminderKind.participation_advance, ReminderKind.task)


@dataclass(frozen=True)
class ReminderSettings:
    """The `[reminders]` section of the config."""

    lead_days: tuple[int, ...] = (7,)
    overdue_every_days: int = 3
    overdue_max: int = 3
    send_time: time = time(9, 0)
    digest_weekday: int = 0  # Monday, as date.weekday()
    digest: bool = True
    participation: bool = True

    def __post_init__(self) -> None:
        # A config list becomes a tuple so settings stay hashable.
        object.__setattr__(self, "lead_days", tuple(self.lead_days))
        if any(days < 1 for days in self.lead_days):
            raise ValueError("lead_days: jede Vorlaufzeit muss mindestens 1 Tag sein")
        if self.overdue_every_days < 1:
            raise ValueError("overdue_every_days must be at least 1")
        if self.overdue_max < 0:
            raise ValueError("overdue_max must not be negative")
        if not 0 <= self.digest_weekday <= 6:
            raise ValueError("digest_weekday must be 0 (Monday) to 6 (Sunday)")
        if self.send_time.tzinfo is not None:
            raise ValueError("send_time is a time without a zone (the zone comes from now)")


@dataclass(frozen=True)
class Reminder:
    theme_id: int | None  # None for the digest
    step_key: str
    kind: ReminderKind
    n: int
    step_date: date
    send_on: date
    late: bool = False
    to_coordination: bool = False
    leads: tuple[Lead, ...] = field(default=())
    # An advance notice or task: how many days before `step_date` (its process text).
    lead: int = 0

    @property
    def identity(self) -> tuple[int | None, str, str, int, date]:
        """What makes it the same reminder, room aside (`late` and `send_on` do not)."""
        return (self.theme_id, self.step_key, str(self.kind), self.n, self.step_date)

    @property
    def audience(self) -> tuple[Lead, ...]:
        """The leads whose rooms receive it: escalations and digests go to coordination."""
        return (Lead.koordination,) if self.to_coordination else self.leads

    def key(self, room_id: str) -> str:
        """Stable sent-log key; the room id goes last because it contains ':' itself."""
        theme = "-" if self.theme_id is None else str(self.theme_id)
        return "/".join(
            (theme, self.step_key, str(self.kind), str(self.n), self.step_date.isoformat(), room_id)
        )

    def txn_id(self, room_id: str) -> str:
        """Matrix transaction id from the key: URL-safe, same key → same id."""
        return "zt-" + hashlib.sha256(self.key(room_id).encode("utf-8")).hexdigest()[:40]


# --- the schedule of one step -------------------------------------------------------------


def _stage(
    theme: ThemeFacts,
    step: StepFacts,
    kind: ReminderKind,
    send_on: date,
    *,
    n: int = 1,
    step_date: date | None = None,
    to_coordination: bool = False,
) -> Reminder:
    return Reminder(
        theme_id=theme.theme_id,
        step_key=step.key,
        kind=kind,
        n=n,
        step_date=step.due if step_date is None else step_date,
        send_on=send_on,
        to_coordination=to_coordination,
        leads=step.leads,
    )


def _lead_number(days: int, settings: ReminderSettings) -> int:
    """n of the notice `days` ahead: its place among the config's lead times (as before
    steps had their own), or OWN_LEAD_N + days for a step's own."""
    ordered = sorted(set(settings.lead_days), reverse=True)
    return ordered.index(days) + 1 if days in ordered else OWN_LEAD_N + days


def _advance_days(
    day: date,
    settings: ReminderSettings,
    calendar: WorkingCalendar,
    lead_days: tuple[int, ...] | None = None,
) -> list[tuple[int, date, int]]:
    """(n, send day, days ahead) of the advance notices before `day`: earliest first, each
    on a working day before the day notice; n numbers the lead times so several never
    share a key. `lead_days`: the step's own (None: the config's)."""
    due_on = calendar.on_or_before(day)
    found: list[tuple[int, date, int]] = []
    chosen = settings.lead_days if lead_days is None else lead_days
    for days in sorted(set(chosen), reverse=True):
        send_on = calendar.on_or_before(day - timedelta(days=days))
        if send_on < due_on and not (found and found[-1][1] == send_on):
            found.append((_lead_number(days, settings), send_on, days))
    return found


def _advance_and_due(
    theme: ThemeFacts, step: StepFacts, settings: ReminderSettings, calendar: WorkingCalendar
) -> list[Reminder]:
    stages = [
        replace(_stage(theme, step, ReminderKind.advance, send_on, n=n), lead=days)
        for n, send_on, days in _advance_days(step.due, settings, calendar, step.lead_days)
    ]
    stages.append(_stage(theme, step, ReminderKind.due, calendar.on_or_before(step.due)))
    return stages


def _lapse(
    theme: ThemeFacts, step: StepFacts, settings: ReminderSettings, calendar: WorkingCalendar
) -> Reminder:
    """The day an unmarked optional meeting lapses: as long after its follow-up as an
    overdue reminder would come."""
    followup = calendar.add_working_days(step.due, 1)
    day = calendar.add_working_days(followup, settings.overdue_every_days)
    return _stage(theme, step, ReminderKind.lapsed, day)


def _overdue(
    theme: ThemeFacts,
    step: StepFacts,
    since: date,
    settings: ReminderSettings,
    calendar: WorkingCalendar,
) -> list[Reminder]:
    """Overdue reminders counted in working days after `since`, then one escalation.

    `since` is also their step date, so moving the date a step is overdue from voids them.
    """
    every = settings.overdue_every_days
    stages = [
        _stage(
            theme,
            step,
            ReminderKind.overdue,
            calendar.add_working_days(since, n * every),
            n=n,
            step_date=since,
        )
        for n in range(1, settings.overdue_max + 1)
    ]
    escalation_n = settings.overdue_max + 1
    stages.append(
        _stage(
            theme,
            step,
            ReminderKind.escalation,
            calendar.add_working_days(since, escalation_n * every),
            n=escalation_n,
            step_date=since,
            to_coordination=True,
        )
    )
    return stages


def schedule_for_step(
    theme: ThemeFacts, step: StepFacts, settings: ReminderSettings, calendar: WorkingCalendar
) -> list[Reminder]:
    """Every stage of the step's reminder schedule, in order (send_on strictly increasing)."""
    if step.kind == StepKind.deadline:
        return _advance_and_due(theme, step, settings, calendar) + _overdue(
            theme, step, step.due, settings, calendar
        )
    if step.kind == StepKind.meeting:
        followup = _stage(
            theme, step, ReminderKind.followup, calendar.add_working_days(step.due, 1)
        )
        lapse = [_lapse(theme, step, settings, calendar)] if step.optional else []
        return [*_advance_and_due(theme, step, settings, calendar), followup, *lapse]
    start = _stage(theme, step, ReminderKind.start, calendar.on_or_before(step.due))
    if step.kind == StepKind.phase:
        # Never overdue before its own start, even if the next step was pinned earlier.
        since = max(step.due, step.deadline)
        return [start, *_overdue(theme, step, since, settings, calendar)]
    return [start]


def _participation_stages(
    theme: ThemeFacts, settings: ReminderSettings, calendar: WorkingCalendar
) -> list[Reminder]:
    if not settings.participation or theme.participation_step is None:
        return []
    wanted = theme.participation_step.casefold()
    step = next((s for s in theme.steps if s.key.casefold() == wanted), None)
    if step is not None and step.state == StepState.skipped:
        return []
    step_key = step.key if step is not None else theme.participation_step

    def notice(kind: ReminderKind, day: date, send_on: date, n: int = 1) -> Reminder:
        leads = (Lead.buergerdialog,)
        return Reminder(theme.theme_id, step_key, kind, n, day, send_on, leads=leads)

    stages = []
    opens, closes = theme.participation_opens, theme.participation_closes
    if opens is not None:
        # The citizen dialogue office prepares the participation: told ahead, like a step.
        stages += [
            notice(ReminderKind.participation_advance, opens, send_on, n)
            for n, send_on, _ in _advance_days(opens, settings, calendar)
        ]
        stages.append(notice(ReminderKind.participation_open, opens, calendar.on_or_before(opens)))
    if closes is not None:
        stages.append(
            notice(ReminderKind.participation_close, closes, calendar.on_or_before(closes))
        )
    return sorted(stages, key=lambda stage: stage.send_on)


def task_stages(theme: ThemeFacts, step: StepFacts, calendar: WorkingCalendar) -> list[Reminder]:
    """The step's notices before other steps' dates, each a schedule of its own (one
    stage): none for a skipped or lapsed step."""
    if step.state in (StepState.skipped, StepState.lapsed):
        return []
    return [
        replace(
            _stage(
                theme,
                step,
                ReminderKind.task,
                calendar.on_or_before(day - timedelta(days=days)),
                n=days,
                step_date=day,
            ),
            lead=days,
        )
        for days, day in step.tasks
    ]


def _participation_end(theme: ThemeFacts) -> date | None:
    return theme.participation_closes or theme.participation_opens


def _digest_for_week(
    year: int, week: int, settings: ReminderSettings, calendar: WorkingCalendar
) -> Reminder | None:
    """The digest of one ISO week, on its weekday or the next working day of that week."""
    monday = date.fromisocalendar(year, week, 1)
    day = monday + timedelta(days=settings.digest_weekday)
    send_on = calendar.on_or_after(day)
    if iso_week(send_on) != (year, week):
        # A late-week holiday would push it into the next week: send it earlier instead.
        send_on = calendar.on_or_before(day)
        if send_on < monday:
            return None  # a week without a working day
    return Reminder(
        theme_id=None,
        step_key=DIGEST_KEY,
        kind=ReminderKind.digest,
        n=year * 100 + week,
        step_date=monday,
        send_on=send_on,
        to_coordination=True,
        leads=(Lead.koordination,),
    )


# --- what is due now ----------------------------------------------------------------------


def _zone(now: datetime) -> tzinfo:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must carry a time zone (zoneinfo), e.g. Europe/Berlin")
    return now.tzinfo


def send_at(reminder: Reminder, settings: ReminderSettings, zone: tzinfo) -> datetime:
    """The stage's send time: wall time `send_time` on `send_on` in `zone`.

    With a ZoneInfo zone the UTC offset is that of the day itself, so DST never shifts
    the hour. Pass the configured ZoneInfo, not a fixed offset.
    """
    return datetime.combine(reminder.send_on, settings.send_time, tzinfo=zone)


def _is_due(reminder: Reminder, now: datetime, settings: ReminderSettings) -> bool:
    # Compared in UTC: aware datetimes sharing one tzinfo compare by wall time otherwise.
    return send_at(reminder, settings, _zone(now)).astimezone(UTC) <= now.astimezone(UTC)


def _latest_due(
    stages: Sequence[Reminder],
    now: datetime,
    settings: ReminderSettings,
    created_at: datetime | None = None,
) -> Reminder | None:
    """The latest stage whose send time has come, marked late if its day has passed.

    Earlier stages are superseded by it; an advance notice therefore never survives the
    step's date, because the day notice (on or before that date) supersedes it. None when
    that stage was due before `created_at` and tells of an earlier day (the theme did not
    exist: nothing was missed),
    when it is an advance notice for a step due today or earlier, or when it is late and
    another stage of the step is due later today (one reminder per step and send time).
    """
    latest = None
    following = None
    for stage in stages:
        if _is_due(stage, now, settings):
            latest = stage
        elif following is None:
            following = stage
    if latest is None:
        return None
    today = now.date()
    if created_at is not None and _before(latest, created_at, now, settings):
        return None
    if latest.kind in ADVANCE_KINDS and latest.step_date <= today:
        return None
    late = latest.send_on < today
    if late and following is not None and following.send_on == today:
        return None
    return replace(latest, late=late)


def _before(
    reminder: Reminder, moment: datetime, now: datetime, settings: ReminderSettings
) -> bool:
    """Whether the reminder was due before `moment` (the theme's creation) and tells of a
    date before that day: nothing the bot could have missed. A step due on the day of
    creation keeps its day notice, sent at once if its send time has passed. A notice
    ahead of a date (Z2's invitation four weeks before) that fell on a day before the
    theme existed was not missed either, though its date is still to come."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=UTC)  # stored times are UTC
    zone = _zone(now)
    created = moment.astimezone(zone).date()
    if reminder.kind in ADVANCE_KINDS and reminder.send_on < created:
        return True
    sent = send_at(reminder, settings, zone).astimezone(UTC)
    return sent < moment.astimezone(UTC) and reminder.step_date < created


def _open_steps(theme: ThemeFacts) -> Iterable[StepFacts]:
    return (step for step in theme.steps if step.state == StepState.open)


@dataclass(frozen=True)
class Near:
    """The themes that can have a reminder due around a day: those with an open step due
    by `today + steps_ahead` (overdue ones included) or with Z2 within `z2_behind` before
    and `z2_ahead` after it. Handing the policy only those gives the same reminders as
    handing it every theme."""

    steps_ahead: timedelta
    z2_behind: timedelta
    z2_ahead: timedelta


def near(settings: ReminderSettings, horizon_days: int = 0) -> Near:
    """Which themes matter for what is due now and within `horizon_days`."""
    # A step's own notice may come up to MAX_LEAD_DAYS ahead (the process file's).
    longest = max(*settings.lead_days, MAX_LEAD_DAYS)
    lead = timedelta(days=longest + horizon_days) + CALENDAR_SLACK
    return Near(
        steps_ahead=lead,
        z2_behind=MILESTONE_REACH + PARTICIPATION_GRACE,
        z2_ahead=MILESTONE_REACH + lead,
    )


def _stages_due(
    theme: ThemeFacts, settings: ReminderSettings, calendar: WorkingCalendar
) -> Iterator[list[Reminder]]:
    """Per step, the stages the policy considers: an open step's whole schedule; a lapsed
    step's lapse notice, while it is recent, so that a room that did not hear it yet still
    does (the engine records the lapse once)."""
    for step in theme.steps:
        if step.state == StepState.open:
            yield schedule_for_step(theme, step, settings, calendar)
        elif step.state == StepState.lapsed and step.optional:
            yield [_lapse(theme, step, settings, calendar)]
        for task in task_stages(theme, step, calendar):
            yield [task]


def due_reminders(
    themes: Iterable[ThemeFacts],
    now: datetime,
    settings: ReminderSettings,
    calendar: WorkingCalendar,
) -> list[Reminder]:
    """The reminders that should have gone out by `now` (at most one per step).

    `now` must be timezone-aware, in the configured zone (its date is "today"). The
    weekly digest is due when it has something to say (`digest_items`).
    """
    _zone(now)
    today = now.date()
    active = [theme for theme in themes if theme.active]
    result: list[Reminder] = []
    for theme in active:
        for stages in _stages_due(theme, settings, calendar):
            found = _latest_due(stages, now, settings, theme.created_at)
            if found is None:
                continue
            if found.kind == ReminderKind.lapsed and today - found.send_on > PARTICIPATION_GRACE:
                continue
            result.append(found)
        end = _participation_end(theme)
        if end is not None and today - end <= PARTICIPATION_GRACE:
            stages = _participation_stages(theme, settings, calendar)
            found = _latest_due(stages, now, settings, theme.created_at)
            if found is not None:
                result.append(found)
    digest = _due_digest(active, now, settings, calendar)
    if digest is not None:
        result.append(digest)
    return result


def _due_digest(
    themes: Sequence[ThemeFacts],
    now: datetime,
    settings: ReminderSettings,
    calendar: WorkingCalendar,
) -> Reminder | None:
    """This ISO week's digest once its time has come and it has something to say; a past
    week's is never caught up."""
    if not settings.digest:
        return None
    digest = _digest_for_week(*iso_week(now.date()), settings, calendar)
    if digest is None or not _is_due(digest, now, settings):
        return None
    if not digest_items(themes, now.date()):
        return None  # a week with nothing in it sends nothing
    return replace(digest, late=digest.send_on < now.date())


def upcoming(
    themes: Iterable[ThemeFacts],
    now: datetime,
    settings: ReminderSettings,
    calendar: WorkingCalendar,
    horizon_days: int = 28,
) -> list[Reminder]:
    """Stages still to come (send time after `now`, within the horizon), by send day.

    For open steps of active themes; overdue stages are included, as they go out if the
    step stays open. Digests (theme_id None) are included in the weeks they would have
    something to say, as the themes stand now.
    """
    _zone(now)
    last_day = now.date() + timedelta(days=horizon_days)
    active = [theme for theme in themes if theme.active]
    stages: list[Reminder] = []
    for theme in active:
        for step in _open_steps(theme):
            stages.extend(schedule_for_step(theme, step, settings, calendar))
        for step in theme.steps:
            stages.extend(task_stages(theme, step, calendar))
        stages.extend(_participation_stages(theme, settings, calendar))
    if settings.digest:
        digests = _digests_until(now.date(), last_day, settings, calendar)
        stages.extend(d for d in digests if digest_items(active, d.send_on))
    coming = [
        stage for stage in stages if stage.send_on <= last_day and not _is_due(stage, now, settings)
    ]
    return sorted(coming, key=lambda stage: stage.send_on)


def _digests_until(
    first_day: date, last_day: date, settings: ReminderSettings, calendar: WorkingCalendar
) -> list[Reminder]:
    digests = []
    monday = first_day - timedelta(days=first_day.weekday())
    while monday <= last_day:
        digest = _digest_for_week(*iso_week(monday), settings, calendar)
        if digest is not None:
            digests.append(digest)
        monday += timedelta(weeks=1)
    return digests
