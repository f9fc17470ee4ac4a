"""domain.reminder_policy: the reminder policy over simulated time.

The simulation plays the engine: it ticks once a day at 10:00 Europe/Berlin, asks the
policy what is due and "sends" what its sent set does not hold yet.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.process import Lead, StepKind, load_template
from bot.domain.reminder_policy import (
    Reminder,
    ReminderKind,
    ReminderSettings,
    StepFacts,
    ThemeFacts,
    due_reminders,
    facts_for_steps,
    schedule_for_step,
    send_at,
    task_stages,
    upcoming,
)
from bot.domain.timeline import milestone_dates, plan
from bot.domain.working_days import WorkingCalendar

BERLIN = ZoneInfo("Europe/Berlin")
# The config's lead times for every step, as before steps had their own: the process's
# own lead times (Z1 and Z2 four weeks ahead, step 3's material before Z2) are tested in
# tests/unit/test_lead_times.py.
TEMPLATE = load_template().model_copy(
    update={
        "steps": tuple(
            step.model_copy(update={"lead_days": None}) for step in load_template().steps
        )
    }
)
CALENDAR = WorkingCalendar()
DEFAULTS = ReminderSettings()
START, END = date(2026, 11, 30), date(2027, 12, 31)
TEAM = (Lead.fachbereich, Lead.koordination)

Identity = tuple[int | None, str, str, int, date]


# --- building the facts -------------------------------------------------------------------


@dataclass(frozen=True)
class SimTheme:
    """A theme as the engine would load it from the store on a given day."""

    theme_id: int
    name: str
    z2: date
    # When a step is marked done (after that day's tick), from its facts; None = never.
    done: Callable[[StepFacts], date | None] = lambda step: None
    active: bool = True
    skipped: frozenset[str] = frozenset()
    # (day, new Z2): the theme is moved after that day's tick.
    move: tuple[date, date] | None = None
    pinned_done: dict[str, date] = field(default_factory=dict)

    def z2_on(self, day: date) -> date:
        if self.move is not None and day > self.move[0]:
            return self.move[1]
        return self.z2

    def facts(self, day: date) -> ThemeFacts:
        z2 = self.z2_on(day)
        planned = plan(TEMPLATE, z2)
        base = facts_for_steps([(p.definition, p.due, "open") for p in planned])
        steps = tuple(replace(step, state=self._state(step, day)) for step in base)
        milestones = milestone_dates(TEMPLATE, z2)
        return ThemeFacts(
            theme_id=self.theme_id,
            name=self.name,
            active=self.active,
            steps=steps,
            participation_opens=milestones["beteiligung-start"],
            participation_closes=milestones["beteiligung-ende"],
            participation_step="2",
        )

    def _state(self, step: StepFacts, day: date) -> str:
        if step.key in self.skipped:
            return "skipped"
        done_on = self.pinned_done.get(step.key) or self.done(step)
        return "done" if done_on is not None and day > done_on else "open"


def on_deadline(step: StepFacts) -> date:
    return step.deadline


def five_working_days_late(step: StepFacts) -> date:
    return CALENDAR.add_working_days(step.deadline, 5)


# Digitale Ethik: the concept's worked example (Z2 in KW 15/2027); every step done on time.
ETHIK = SimTheme(1, "Digitale Ethik", date(2027, 4, 12), done=on_deadline)
# Mobilität: done a week late, 3a skipped, moved three weeks later on 20.05.2027.
MOBIL = SimTheme(
    2,
    "Mobilität",
    date(2027, 6, 17),
    done=five_working_days_late,
    skipped=frozenset({"3a"}),
    move=(date(2027, 5, 20), date(2027, 7, 8)),
    pinned_done={"1": date(2027, 5, 10)},
)
# Regenwasserbewirtschaftung: nobody ever marks anything.
REGEN = SimTheme(3, "Regenwasserbewirtschaftung", date(2027, 10, 14))
# A paused theme gets nothing.
PAUSED = SimTheme(4, "Pausiert", date(2027, 5, 20), active=False)
THEMES = (ETHIK, MOBIL, REGEN, PAUSED)


def at(day: date, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=BERLIN)


def days(first: date, last: date) -> Iterable[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)


@dataclass
class Sent:
    """The engine's sent-log: identity → (tick day, reminder as sent)."""

    log: dict[Identity, tuple[date, Reminder]] = field(default_factory=dict)

    def tick(self, themes: Sequence[ThemeFacts], now: datetime, cfg: ReminderSettings) -> list:
        new = []
        for reminder in due_reminders(themes, now, cfg, CALENDAR):
            if reminder.identity not in self.log:
                self.log[reminder.identity] = (now.date(), reminder)
                new.append(reminder)
        return new

    def of(self, theme_id: int | None, step_key: str) -> list[Reminder]:
        found = [
            r for _, r in self.log.values() if (r.theme_id, r.step_key) == (theme_id, step_key)
        ]
        return sorted(found, key=lambda r: (r.send_on, r.kind))

    def kinds(self, theme_id: int | None, step_key: str) -> list[tuple[str, int]]:
        return [(str(r.kind), r.n) for r in self.of(theme_id, step_key)]


def simulate(
    themes: Sequence[SimTheme] = THEMES,
    first: date = START,
    last: date = END,
    *,
    gaps: Iterable[tuple[date, date]] = (),
    cfg: ReminderSettings = DEFAULTS,
    hour: int = 10,
) -> Sent:
    """Tick every day at `hour`, except inside the (inclusive) gaps, when the bot is down."""
    down = {day for start, stop in gaps for day in days(start, stop)}
    sent = Sent()
    for day in days(first, last):
        if day not in down:
            sent.tick([theme.facts(day) for theme in themes], at(day, hour), cfg)
    return sent


@pytest.fixture(scope="module")
def year() -> Sent:
    return simulate()


def expected_identities(themes: Sequence[SimTheme], cfg: ReminderSettings = DEFAULTS) -> dict:
    """What an engine ticking daily must send: every stage on its day, while it applies."""
    expected: dict[Identity, date] = {}
    for day in days(START, END):
        facts = [theme.facts(day) for theme in themes]
        active = [theme for theme in facts if theme.active]
        for theme in active:
            for step in theme.steps:
                # A notice before another step's date (step 3: two weeks before Z2), sent
                # whatever became of its own step but skipping, while that date is ahead.
                for task in task_stages(theme, step, CALENDAR):
                    if task.send_on <= day < task.step_date and task.identity not in expected:
                        expected[task.identity] = day
                if step.state != "open":
                    continue
                stages = schedule_for_step(theme, step, cfg, CALENDAR)
                for stage, following in itertools.pairwise(stages):
                    # An advance notice whose day a move left behind comes at the next tick
                    # (Z1's invitation four weeks ahead, when Z2 moves three weeks later).
                    catch_up = stage.kind == "advance" and stage.send_on <= day < following.send_on
                    if stage.send_on == day or (catch_up and stage.identity not in expected):
                        expected.setdefault(stage.identity, day)
                if stages[-1].send_on == day:
                    expected[stages[-1].identity] = day
            step2 = next(step for step in theme.steps if step.key == "2")
            if step2.state != "skipped":
                opens = theme.participation_opens
                assert opens is not None
                # A week ahead of the opening, the citizen dialogue office prepares; when a
                # move brings the opening nearer than that, it hears at the next tick.
                advance = (theme.theme_id, "2", "participation_advance", 1, opens)
                ahead = CALENDAR.on_or_before(opens - WEEK) <= day < CALENDAR.on_or_before(opens)
                if ahead and advance not in expected:
                    expected[advance] = day
                for kind, milestone in (
                    ("participation_open", opens),
                    ("participation_close", theme.participation_closes),
                ):
                    if CALENDAR.on_or_before(milestone) == day:
                        expected[(theme.theme_id, "2", kind, 1, milestone)] = day
        monday = day - timedelta(days=day.weekday())
        if CALENDAR.on_or_after(monday) == day and any(something_to_say(t, day) for t in active):
            iso = day.isocalendar()
            expected[(None, "digest", "digest", iso.year * 100 + iso.week, monday)] = day
    return expected


WEEK = timedelta(weeks=1)


def something_to_say(theme: ThemeFacts, day: date) -> bool:
    """Whether the digest of `day`'s week lists a step of the theme: one overdue, one due
    by the end of next week, or one that begins this week or next."""
    fortnight_end = day - timedelta(days=day.weekday()) + timedelta(days=13)
    for step in theme.steps:
        if step.state != "open":
            continue
        begins = step.kind == StepKind.continuous or (
            step.kind == StepKind.phase and step.due > day
        )
        if begins and day <= step.due <= fortnight_end:
            return True
        if not begins and step.deadline <= fortnight_end:
            return True
    return False


# --- the year -----------------------------------------------------------------------------


def test_year_every_reminder_exactly_once_on_its_day(year: Sent) -> None:
    expected = expected_identities(THEMES)
    sent_days = {identity: day for identity, (day, _) in year.log.items()}
    assert sent_days == expected
    for day, reminder in year.log.values():
        # Sent on its day; only a notice a move made due yesterday comes a day late.
        assert reminder.send_on == day or (reminder.late and reminder.send_on < day)
        assert reminder.late == (reminder.send_on < day)
        assert CALENDAR.is_working_day(day)
    late = [r for day, r in year.log.values() if r.late]
    assert [(r.theme_id, str(r.kind), r.step_date) for r in late] == [
        (2, "participation_advance", date(2027, 5, 27))
    ]


def test_year_at_most_one_reminder_per_step_and_day(year: Sent) -> None:
    per_step_day = Counter((r.theme_id, r.step_key, day) for day, r in year.log.values())
    doubled = {key: count for key, count in per_step_day.items() if count > 1}
    # Only step 2 may share a day: its meeting notice and the participation notice.
    assert all(step == "2" for _, step, _ in doubled), doubled


def test_year_on_time_theme_gets_advance_and_day_notices_only(year: Sent) -> None:
    assert year.kinds(1, "1") == [("start", 1)]
    assert year.kinds(1, "3") == [("advance", 1), ("due", 1)]
    assert year.kinds(1, "4") == [("advance", 1), ("due", 1)]
    assert year.kinds(1, "7") == [("start", 1)]
    # 3a is on Easter Monday 29.03.2027: day notice on Thursday before Good Friday.
    assert [r.send_on for r in year.of(1, "3a")] == [date(2027, 3, 22), date(2027, 3, 25)]


def test_year_overdue_capped_then_one_escalation_to_coordination(year: Sent) -> None:
    step5 = year.of(3, "5")  # due Thursday 28.10.2027, 01.11. is Allerheiligen
    assert [(str(r.kind), r.n, r.send_on) for r in step5] == [
        ("advance", 1, date(2027, 10, 21)),
        ("due", 1, date(2027, 10, 28)),
        ("overdue", 1, date(2027, 11, 3)),
        ("overdue", 2, date(2027, 11, 8)),
        ("overdue", 3, date(2027, 11, 11)),
        ("escalation", 4, date(2027, 11, 16)),
    ]
    assert [r.to_coordination for r in step5] == [False] * 5 + [True]
    assert step5[-1].audience == (Lead.koordination,)
    assert step5[-1].leads == TEAM


def test_year_phase_overdue_counts_from_the_next_steps_date(year: Sent) -> None:
    # Step 1 of Regenwasser starts 05.08. and must be done by step 2 (16.09.2027).
    step1 = year.of(3, "1")
    assert [(str(r.kind), r.step_date, r.send_on) for r in step1] == [
        ("start", date(2027, 8, 5), date(2027, 8, 5)),
        ("overdue", date(2027, 9, 16), date(2027, 9, 21)),
        ("overdue", date(2027, 9, 16), date(2027, 9, 24)),
        ("overdue", date(2027, 9, 16), date(2027, 9, 29)),
        ("escalation", date(2027, 9, 16), date(2027, 10, 4)),
    ]


def test_year_meetings_get_one_followup_continuous_only_a_start(year: Sent) -> None:
    assert year.kinds(3, "4") == [("advance", 1), ("due", 1), ("followup", 1)]
    assert year.kinds(3, "6") == [("advance", 1), ("due", 1), ("followup", 1)]
    assert year.kinds(3, "7") == [("start", 1)]


def test_year_done_steps_stop_reminders(year: Sent) -> None:
    # Mobilität marks its steps five working days late: one overdue, never a second.
    assert year.kinds(2, "5") == [("advance", 1), ("due", 1), ("overdue", 1)]
    assert year.kinds(2, "6") == [("advance", 1), ("due", 1), ("followup", 1)]
    # Digitale Ethik marks on the day: no follow-up, no overdue.
    assert year.kinds(1, "5") == [("advance", 1), ("due", 1)]


def test_year_an_unmarked_optional_meeting_lapses_instead_of_nagging(year: Sent) -> None:
    # Regenwasserbewirtschaftung never marks 3a (23.09.2027): after its follow-up it lapses,
    # told once, as long after the follow-up as an overdue reminder would come.
    assert year.kinds(3, "3a") == [("advance", 1), ("due", 1), ("followup", 1), ("lapsed", 1)]
    followup, lapse = year.of(3, "3a")[-2:]
    assert lapse.send_on == CALENDAR.add_working_days(followup.send_on, 3)
    # A step that must happen never lapses: Z2 unmarked gets its follow-up only.
    assert year.kinds(3, "4") == [("advance", 1), ("due", 1), ("followup", 1)]


def test_a_lapsed_step_tells_a_room_that_missed_it_for_a_week_then_nothing() -> None:
    day = date(2027, 3, 22)
    meeting = StepFacts("3a", StepKind.meeting, TEAM, day, day, "open", optional=True)
    lapse_day = stages(meeting)[-1][2]
    assert stages(meeting)[-1][0] == "lapsed"
    lapsed = theme_with(replace(meeting, state="lapsed"))

    def steps_of(on: date) -> list[str]:
        found = due_reminders([lapsed], at(on), DEFAULTS, CALENDAR)
        return [str(r.kind) for r in found if r.step_key == "3a"]

    assert steps_of(lapse_day) == ["lapsed"]
    assert steps_of(lapse_day + timedelta(days=7)) == ["lapsed"]
    assert steps_of(lapse_day + timedelta(days=8)) == []
    # Nor does a lapsed step count as overdue for the digest.
    assert not [
        r for r in due_reminders([lapsed], at(lapse_day), DEFAULTS, CALENDAR) if r.kind == "digest"
    ]


def test_year_skipped_step_and_paused_theme_get_nothing(year: Sent) -> None:
    assert year.of(2, "3a") == []
    assert not [r for _, r in year.log.values() if r.theme_id == 4]


def test_year_move_voids_old_dates_and_schedules_new_ones(year: Sent) -> None:
    step3 = year.of(2, "3")
    # Before the move (20.05.) only the advance notice for 27.05. went out.
    assert [(str(r.kind), r.step_date, r.send_on) for r in step3] == [
        ("advance", date(2027, 5, 27), date(2027, 5, 20)),
        ("advance", date(2027, 6, 17), date(2027, 6, 10)),
        ("due", date(2027, 6, 17), date(2027, 6, 17)),
        ("overdue", date(2027, 6, 17), date(2027, 6, 22)),
    ]
    # Step 2 had its day on 20.05.: the follow-up of that date is void, the new one runs.
    step2 = {(str(r.kind), r.step_date) for r in year.of(2, "2")}
    assert ("due", date(2027, 5, 20)) in step2
    assert ("followup", date(2027, 5, 20)) not in step2
    assert {("advance", date(2027, 6, 10)), ("due", date(2027, 6, 10))} <= step2
    assert ("followup", date(2027, 6, 10)) in step2


def test_year_participation_opens_and_closes_for_citizen_dialogue(year: Sent) -> None:
    notices = [r for r in year.of(1, "2") if r.kind.startswith("participation")]
    assert [(str(r.kind), r.step_date, r.send_on) for r in notices] == [
        # Prepared a week ahead, like a step's advance notice.
        ("participation_advance", date(2027, 3, 1), date(2027, 2, 22)),
        ("participation_open", date(2027, 3, 1), date(2027, 3, 1)),
        # Closes on Easter Monday: the notice goes out the Thursday before.
        ("participation_close", date(2027, 3, 29), date(2027, 3, 25)),
    ]
    assert all(r.leads == (Lead.buergerdialog,) and not r.to_coordination for r in notices)


def test_year_digest_once_per_iso_week_on_working_days(year: Sent) -> None:
    digests = year.of(None, "digest")
    weeks = [r.n for r in digests]
    assert len(weeks) == len(set(weeks))
    # Weeks with nothing in them send nothing: before Digitale Ethik's step 1 comes near
    # (it begins in KW 5/2027, so KW 4 lists it for next week) there is no digest.
    assert min(weeks) == 202704
    assert not any(202649 <= week <= 202653 for week in weeks)
    # Regenwasserbewirtschaftung is never marked: from its first step on, every week.
    assert set(range(202736, 202753)) <= set(weeks)
    by_week = {r.n: r for r in digests}
    assert by_week[202713].send_on == date(2027, 3, 30)  # Easter Monday → Tuesday
    assert by_week[202720].send_on == date(2027, 5, 18)  # Whit Monday → Tuesday
    assert by_week[202744].send_on == date(2027, 11, 2)  # Allerheiligen → Tuesday
    assert all(r.to_coordination and r.theme_id is None for r in digests)
    assert all(r.step_date.weekday() == 0 for r in digests)


def test_year_send_time_is_nine_local_across_dst(year: Sent) -> None:
    offsets = {}
    for _, reminder in year.log.values():
        moment = send_at(reminder, DEFAULTS, BERLIN)
        assert (moment.hour, moment.minute) == (9, 0)
        offsets[reminder.send_on] = moment.utcoffset()
    # Around the switches of 28.03.2027 and 31.10.2027.
    assert offsets[date(2027, 3, 25)] == timedelta(hours=1)
    assert offsets[date(2027, 3, 30)] == timedelta(hours=2)
    assert offsets[date(2027, 10, 28)] == timedelta(hours=2)
    assert offsets[date(2027, 11, 2)] == timedelta(hours=1)


# --- working days and holidays ------------------------------------------------------------


def deadline(due: date, *, kind: StepKind = StepKind.deadline, until: date | None = None):
    return StepFacts("5", kind, TEAM, due, until or due, "open")


def theme_with(*steps: StepFacts, active: bool = True, **extra) -> ThemeFacts:
    return ThemeFacts(7, "Test", active, steps, **extra)


def stages(step: StepFacts, cfg: ReminderSettings = DEFAULTS) -> list[tuple[str, int, date]]:
    return [
        (str(r.kind), r.n, r.send_on)
        for r in schedule_for_step(theme_with(step), step, cfg, CALENDAR)
    ]


def test_deadline_on_good_friday_is_reminded_on_thursday() -> None:
    assert stages(deadline(date(2027, 3, 26)))[:2] == [
        ("advance", 1, date(2027, 3, 19)),
        ("due", 1, date(2027, 3, 25)),
    ]


def test_overdue_landing_on_easter_monday_moves_to_tuesday() -> None:
    # Tuesday 23.03. + 3 working days: 24., 25., (Good Friday, weekend, Easter Monday) 30.
    assert stages(deadline(date(2027, 3, 23)))[2] == ("overdue", 1, date(2027, 3, 30))
    every_day = ReminderSettings(overdue_every_days=1)
    assert stages(deadline(date(2027, 3, 25)), every_day)[2] == ("overdue", 1, date(2027, 3, 30))


def test_advance_on_a_weekend_moves_to_the_friday_before() -> None:
    # 7 days before Sunday 18.04. is Sunday 11.04.; due notice on Friday 16.04.
    assert stages(deadline(date(2027, 4, 18)))[:2] == [
        ("advance", 1, date(2027, 4, 9)),
        ("due", 1, date(2027, 4, 16)),
    ]


def test_advance_on_the_same_day_as_the_due_notice_is_dropped() -> None:
    # Due Monday after Easter? Use lead 1 on a Monday: Sunday → Friday, due Monday.
    short = ReminderSettings(lead_days=(1,))
    assert [k for k, _, _ in stages(deadline(date(2027, 4, 19)), short)][:2] == ["advance", "due"]
    # Due Sunday: the day notice moves to Friday, the 1-day advance would be Friday too.
    assert [k for k, _, _ in stages(deadline(date(2027, 4, 18)), short)][:2] == ["due", "overdue"]


def test_several_lead_times_each_get_their_own_n() -> None:
    cfg = ReminderSettings(lead_days=(7, 14, 1))
    assert stages(deadline(date(2027, 6, 30)), cfg)[:4] == [
        ("advance", 1, date(2027, 6, 16)),
        ("advance", 2, date(2027, 6, 23)),
        ("advance", 3, date(2027, 6, 29)),
        ("due", 1, date(2027, 6, 30)),
    ]


def test_phase_is_never_overdue_before_its_deadline() -> None:
    phase = deadline(date(2027, 2, 1), kind=StepKind.phase, until=date(2027, 3, 15))
    assert stages(phase) == [
        ("start", 1, date(2027, 2, 1)),
        ("overdue", 1, date(2027, 3, 18)),
        ("overdue", 2, date(2027, 3, 23)),
        ("overdue", 3, date(2027, 3, 30)),
        ("escalation", 4, date(2027, 4, 2)),
    ]


def test_continuous_gets_a_start_notice_only() -> None:
    assert stages(deadline(date(2027, 5, 17), kind=StepKind.continuous)) == [
        ("start", 1, date(2027, 5, 14))  # Whit Monday → Friday before
    ]


# --- due_reminders: catch-up, supersession, DST -------------------------------------------


def test_catch_up_after_ten_days_sends_one_collapsed_late_overdue() -> None:
    sent = simulate(
        [REGEN],
        date(2027, 10, 1),
        date(2027, 11, 30),
        gaps=[(date(2027, 11, 1), date(2027, 11, 9))],
    )
    step5 = [
        (str(r.kind), r.n, r.late, day)
        for day, r in sorted(sent.log.values(), key=lambda x: x[0])
        if r.step_key == "5"
    ]
    assert step5 == [
        ("advance", 1, False, date(2027, 10, 21)),
        ("due", 1, False, date(2027, 10, 28)),
        # Overdue 1 (03.11.) and 2 (08.11.) fell into the outage: one reminder, marked late.
        ("overdue", 2, True, date(2027, 11, 10)),
        ("overdue", 3, False, date(2027, 11, 11)),
        ("escalation", 4, False, date(2027, 11, 16)),
    ]


def test_missed_due_day_notice_is_sent_late_once() -> None:
    sent = simulate(
        [REGEN],
        date(2027, 10, 20),
        date(2027, 10, 31),
        gaps=[(date(2027, 10, 27), date(2027, 10, 29))],
    )
    due = [(day, r.late) for day, r in sent.log.values() if r.step_key == "5" and r.kind == "due"]
    assert due == [(date(2027, 10, 30), True)]


def test_missed_advance_notice_is_dropped_once_the_step_date_passed() -> None:
    # Down from 14.03. to 22.03.: step 3 (22.03.) missed its advance notice (15.03.).
    sent = simulate(
        [replace(ETHIK, done=lambda step: None)],
        date(2027, 3, 1),
        date(2027, 3, 31),
        gaps=[(date(2027, 3, 14), date(2027, 3, 22))],
    )
    assert sent.kinds(1, "3") == [("due", 1), ("overdue", 1)]
    assert sent.log[(1, "3", "due", 1, date(2027, 3, 22))][1].late


def test_missed_advance_is_still_sent_late_before_the_step_date() -> None:
    theme = replace(ETHIK, done=lambda step: None).facts(date(2027, 3, 23))
    found = {
        r.step_key: r for r in due_reminders([theme], at(date(2027, 3, 23)), DEFAULTS, CALENDAR)
    }
    # 3a is on 29.03.: its advance (22.03.) is late but its date has not passed.
    assert (found["3a"].kind, found["3a"].late) == (ReminderKind.advance, True)
    # 3 was on 22.03.: its day notice supersedes the advance.
    assert (found["3"].kind, found["3"].late) == (ReminderKind.due, True)


def test_due_only_from_send_time_on_in_local_time_on_both_sides_of_dst() -> None:
    # Thursday 25.03.2027 is CET (UTC+1), Tuesday 30.03.2027 CEST (UTC+2).
    for day, offset in ((date(2027, 3, 25), 1), (date(2027, 3, 30), 2)):
        theme = theme_with(deadline(day))
        nine_local = datetime(day.year, day.month, day.day, 9 - offset, tzinfo=UTC)

        def kinds(now: datetime, theme: ThemeFacts = theme) -> list[str]:
            found = due_reminders([theme], now, DEFAULTS, CALENDAR)
            return [str(r.kind) for r in found if r.kind != ReminderKind.digest]

        # A minute before nine the day notice is not due yet, and the week's advance notice
        # is never sent on the step's own day (issue 12).
        assert kinds((nine_local - timedelta(minutes=1)).astimezone(BERLIN)) == []
        assert kinds(nine_local.astimezone(BERLIN)) == ["due"]
        # The same instant given in UTC compares the same way.
        assert kinds(nine_local - timedelta(minutes=1)) == []


def test_due_reminders_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="time zone"):
        due_reminders([], datetime(2027, 3, 1, 10), DEFAULTS, CALENDAR)


def test_done_and_skipped_steps_and_inactive_themes_get_nothing() -> None:
    now = at(date(2027, 11, 20))
    open_step = deadline(date(2027, 10, 28))
    # The escalation and the digest that lists the overdue step.
    assert len(due_reminders([theme_with(open_step)], now, DEFAULTS, CALENDAR)) == 2
    for state in ("done", "skipped", "lapsed"):
        theme = theme_with(replace(open_step, state=state))
        # Nothing left to do: not even the digest has something to say.
        assert due_reminders([theme], now, DEFAULTS, CALENDAR) == []
    assert due_reminders([theme_with(open_step, active=False)], now, DEFAULTS, CALENDAR) == []


def test_returning_a_still_due_reminder_every_tick_is_stable() -> None:
    theme = REGEN.facts(date(2027, 12, 1))
    first = due_reminders([theme], at(date(2027, 12, 1)), DEFAULTS, CALENDAR)
    again = due_reminders([theme], at(date(2027, 12, 1), 15), DEFAULTS, CALENDAR)
    assert first == again
    assert {r.kind for r in first if r.step_key == "5"} == {ReminderKind.escalation}


# --- participation ------------------------------------------------------------------------


def participation(**extra) -> ThemeFacts:
    step2 = StepFacts(
        "2",
        StepKind.meeting,
        (*TEAM, Lead.buergerdialog),
        date(2027, 3, 15),
        date(2027, 3, 15),
        "done",
    )
    window = {"participation_opens": date(2027, 3, 1), "participation_closes": date(2027, 3, 29)}
    return theme_with(step2, **({"participation_step": "2"} | window | extra))


def participation_kinds(theme: ThemeFacts, day: date, cfg: ReminderSettings = DEFAULTS) -> list:
    return [
        (str(r.kind), r.late)
        for r in due_reminders([theme], at(day), cfg, CALENDAR)
        if r.kind != "digest"
    ]


def test_participation_close_supersedes_open_and_stops_a_week_after() -> None:
    theme = participation()
    assert participation_kinds(theme, date(2027, 2, 19)) == []
    assert participation_kinds(theme, date(2027, 2, 22)) == [("participation_advance", False)]
    assert participation_kinds(theme, date(2027, 2, 26)) == [("participation_advance", True)]
    assert participation_kinds(theme, date(2027, 3, 1)) == [("participation_open", False)]
    assert participation_kinds(theme, date(2027, 3, 25)) == [("participation_close", False)]
    assert participation_kinds(theme, date(2027, 4, 5)) == [("participation_close", True)]
    assert participation_kinds(theme, date(2027, 4, 6)) == []


def test_participation_silenced_by_a_skipped_step_2_or_the_setting() -> None:
    theme = participation()
    skipped = replace(theme, steps=(replace(theme.steps[0], state="skipped"),))
    assert participation_kinds(skipped, date(2027, 3, 1)) == []
    off = ReminderSettings(participation=False)
    assert participation_kinds(theme, date(2027, 3, 1), off) == []


def test_participation_for_a_skipped_step_2_in_the_simulation() -> None:
    quiet = replace(ETHIK, skipped=frozenset({"2"}))
    sent = simulate([quiet], date(2027, 2, 1), date(2027, 4, 30))
    assert sent.of(1, "2") == []


# --- digest -------------------------------------------------------------------------------


def test_digest_missed_for_a_whole_week_is_dropped() -> None:
    # Down all of KW 20/2027 (17.–23.05.): no digest 202720, the next week's as usual.
    sent = simulate(
        [ETHIK], date(2027, 5, 1), date(2027, 6, 7), gaps=[(date(2027, 5, 17), date(2027, 5, 23))]
    )
    weeks = [r.n for r in sent.of(None, "digest")]
    assert 202720 not in weeks
    # KW 18 and 19 list step 6 (10.05.); KW 20 would have listed step 7's start (17.05.);
    # later weeks have nothing to say.
    assert set(weeks) == {202718, 202719}


def test_digest_missed_on_its_day_is_sent_late_in_the_same_week() -> None:
    sent = simulate(
        [ETHIK], date(2027, 5, 1), date(2027, 5, 31), gaps=[(date(2027, 5, 10), date(2027, 5, 11))]
    )
    digest = next(r for day, r in sent.log.values() if r.n == 202719)
    assert (digest.send_on, digest.late) == (date(2027, 5, 10), True)
    assert sent.log[digest.identity][0] == date(2027, 5, 12)


def test_digest_off_or_without_active_themes() -> None:
    now = at(date(2027, 5, 10))
    assert due_reminders([PAUSED.facts(now.date())], now, DEFAULTS, CALENDAR) == []
    off = ReminderSettings(digest=False)
    assert not [
        r
        for r in due_reminders([ETHIK.facts(now.date())], now, off, CALENDAR)
        if r.kind == "digest"
    ]


def test_digest_on_a_late_weekday_holiday_stays_in_its_week() -> None:
    friday = ReminderSettings(digest_weekday=4)
    # Good Friday 26.03.2027: the digest of KW 12 goes out on Thursday, not next Monday.
    found = due_reminders([ETHIK.facts(date(2027, 3, 25))], at(date(2027, 3, 25)), friday, CALENDAR)
    digest = next(r for r in found if r.kind == "digest")
    assert (digest.n, digest.send_on) == (202712, date(2027, 3, 25))


# --- upcoming -----------------------------------------------------------------------------


def test_upcoming_lists_what_will_go_out_if_nothing_changes() -> None:
    now = at(date(2027, 10, 18))
    listed = upcoming([REGEN.facts(now.date())], now, DEFAULTS, CALENDAR)
    assert listed == sorted(listed, key=lambda r: r.send_on)
    assert all(now < send_at(r, DEFAULTS, BERLIN) for r in listed)
    assert all(r.send_on <= date(2027, 11, 15) for r in listed)
    # Not yet overdue, but listed: it goes out if step 5 stays open.
    assert ("5", "overdue", 1) in {(r.step_key, str(r.kind), r.n) for r in listed}
    assert any(r.kind == "digest" for r in listed)
    # The simulation (nobody marks anything) sends exactly these on their days.
    sent = simulate([REGEN], date(2027, 10, 1), date(2027, 11, 30))
    for reminder in listed:
        assert sent.log[reminder.identity][0] == reminder.send_on


def test_upcoming_today_before_send_time_and_not_after() -> None:
    step = deadline(date(2027, 10, 28))
    theme = theme_with(step)
    before = upcoming([theme], at(date(2027, 10, 28), 8), DEFAULTS, CALENDAR, 7)
    after = upcoming([theme], at(date(2027, 10, 28), 9), DEFAULTS, CALENDAR, 7)
    # The next digest (KW 44: Allerheiligen → Tuesday 02.11.) is in the window too: it
    # lists the step, overdue by then if nobody marks it.
    assert [(str(r.kind), r.send_on) for r in after] == [
        ("digest", date(2027, 11, 2)),
        ("overdue", date(2027, 11, 3)),
    ]
    assert (before[0].kind, before[0].send_on) == (ReminderKind.due, date(2027, 10, 28))
    assert upcoming([replace(theme, active=False)], at(date(2027, 10, 1)), DEFAULTS, CALENDAR) == []
    done = theme_with(replace(step, state="done"))
    # Nothing left to do: no digest would have anything to say.
    assert upcoming([done], at(date(2027, 10, 1)), DEFAULTS, CALENDAR) == []


# --- keys and settings --------------------------------------------------------------------


def test_key_is_stable_and_names_everything_that_makes_it_unique() -> None:
    reminder = Reminder(
        3,
        "5",
        ReminderKind.overdue,
        2,
        date(2027, 10, 28),
        date(2027, 11, 8),
        late=True,
        leads=TEAM,
    )
    room = "!abc:example.org"
    assert reminder.key(room) == "3/5/overdue/2/2027-10-28/!abc:example.org"
    # Not part of the identity: when it is sent and whether it is late.
    assert replace(reminder, late=False, send_on=date(2027, 11, 10)).key(room) == reminder.key(room)
    assert replace(reminder, step_date=date(2027, 11, 4)).key(room) != reminder.key(room)
    assert reminder.key("!other:example.org") != reminder.key(room)
    digest = Reminder(
        None, "digest", ReminderKind.digest, 202720, date(2027, 5, 17), date(2027, 5, 18)
    )
    assert digest.key(room).startswith("-/digest/digest/202720/2027-05-17/")
    txn = reminder.txn_id(room)
    assert txn == reminder.txn_id(room) != reminder.txn_id("!other:example.org")
    assert txn.startswith("zt-") and txn[3:].isalnum() and len(txn) <= 64


@pytest.mark.parametrize(
    "bad",
    [
        {"lead_days": (0,)},
        {"overdue_every_days": 0},
        {"overdue_max": -1},
        {"digest_weekday": 7},
        {"send_time": time(9, tzinfo=UTC)},
    ],
)
def test_settings_are_validated(bad: dict) -> None:
    with pytest.raises(ValueError):
        ReminderSettings(**bad)


def test_settings_accept_a_config_list() -> None:
    cfg = ReminderSettings(lead_days=[14, 7])  # type: ignore[arg-type]
    assert cfg.lead_days == (14, 7)
    hash(cfg)


def test_facts_for_steps_gives_a_phase_the_next_steps_date() -> None:
    planned = plan(TEMPLATE, date(2027, 4, 12))
    facts = facts_for_steps([(p.definition, p.due, "open") for p in planned])
    assert facts[0].kind == StepKind.phase
    assert (facts[0].due, facts[0].deadline) == (date(2027, 2, 1), date(2027, 3, 15))
    assert all(f.deadline == f.due for f in facts[1:])


def test_overdue_max_zero_escalates_directly() -> None:
    cfg = ReminderSettings(overdue_max=0)
    assert stages(deadline(date(2027, 10, 28)), cfg)[2:] == [("escalation", 1, date(2027, 11, 3))]


# --- properties ---------------------------------------------------------------------------

DUE_DATES = st.dates(min_value=date(2026, 1, 1), max_value=date(2031, 12, 31))
LEAD_DAYS = st.lists(st.integers(min_value=1, max_value=60), min_size=1, max_size=4).map(tuple)
KINDS = st.sampled_from([StepKind.deadline, StepKind.meeting])


@given(DUE_DATES, LEAD_DAYS, KINDS)
def test_advance_and_due_notices_are_working_days_on_or_before_the_date(
    due: date, lead_days: tuple[int, ...], kind: StepKind
) -> None:
    cfg = ReminderSettings(lead_days=lead_days)
    step = deadline(due, kind=kind)
    schedule = schedule_for_step(theme_with(step), step, cfg, CALENDAR)
    before = [r for r in schedule if r.kind in (ReminderKind.advance, ReminderKind.due)]
    after = [r for r in schedule if r not in before]
    assert [r.kind for r in before].count(ReminderKind.due) == 1
    assert all(CALENDAR.is_working_day(r.send_on) and r.send_on <= due for r in before)
    assert all(CALENDAR.is_working_day(r.send_on) and r.send_on > due for r in after)
    sends = [r.send_on for r in schedule]
    assert sends == sorted(set(sends))  # strictly increasing: never two on one day
    assert len({r.identity for r in schedule}) == len(schedule)


@settings(max_examples=60)
@given(
    DUE_DATES,
    st.sampled_from(list(StepKind)),
    st.integers(min_value=-20, max_value=60),
    st.integers(min_value=0, max_value=23),
)
def test_at_most_one_due_reminder_per_step_and_never_before_its_time(
    due: date, kind: StepKind, days_after: int, hour: int
) -> None:
    step = deadline(
        due, kind=kind, until=due + timedelta(weeks=4) if kind == StepKind.phase else due
    )
    theme = theme_with(step)
    now = at(due + timedelta(days=days_after), hour)
    found = [r for r in due_reminders([theme], now, DEFAULTS, CALENDAR) if r.step_key == "5"]
    assert len(found) <= 1
    for reminder in found:
        assert send_at(reminder, DEFAULTS, BERLIN) <= now
        assert reminder.late == (reminder.send_on < now.date())
        # A missed advance notice never outlives the step's date.
        assert reminder.kind != ReminderKind.advance or now.date() <= due
    listed = upcoming([theme], now, DEFAULTS, CALENDAR, horizon_days=90)
    assert all(send_at(r, DEFAULTS, BERLIN) > now for r in listed if r.step_key == "5")


# --- issue 12: a new theme does not catch up -------------------------------------------------


def _kinds(themes: Sequence[ThemeFacts], now: datetime) -> list[tuple[str, str, bool]]:
    found = due_reminders(themes, now, DEFAULTS, CALENDAR)
    return [(r.step_key, str(r.kind), r.late) for r in found if r.kind != ReminderKind.digest]


def test_nothing_from_before_the_theme_was_created_is_caught_up() -> None:
    # Created on Tuesday 23.03.2027 at 10:00 with a deadline a week past, a meeting
    # yesterday and a phase whose next step is far off: nothing was missed.
    created = at(date(2027, 3, 23))
    past = StepFacts("1", StepKind.deadline, TEAM, date(2027, 3, 16), date(2027, 3, 16))
    met = StepFacts("2", StepKind.meeting, TEAM, date(2027, 3, 22), date(2027, 3, 22))
    theme = theme_with(past, met, created_at=created)
    assert _kinds([theme], created) == []
    assert _kinds([theme], created + timedelta(hours=5)) == []
    # The same theme without a creation time (or created long before) catches up.
    assert {k for k, _, _ in _kinds([theme_with(past, met)], created)} == {"1", "2"}


def test_after_creation_the_schedule_runs_on() -> None:
    created = at(date(2027, 3, 23))
    past = StepFacts("1", StepKind.deadline, TEAM, date(2027, 3, 16), date(2027, 3, 16))
    theme = theme_with(past, created_at=created)
    # The next overdue stage after the creation is sent at its time (not a catch-up).
    later = [
        r
        for r in schedule_for_step(theme, past, DEFAULTS, CALENDAR)
        if datetime.combine(r.send_on, DEFAULTS.send_time, tzinfo=BERLIN) > created
    ]
    first = later[0]
    found = _kinds([theme], at(first.send_on))
    assert found == [("1", str(first.kind), False)]


def test_missed_while_the_bot_was_down_is_still_caught_up() -> None:
    created = at(date(2027, 3, 1))
    step = StepFacts("3", StepKind.deadline, TEAM, date(2027, 3, 16), date(2027, 3, 16))
    theme = theme_with(step, created_at=created)
    # The bot was down from 15.03. to 17.03.: the day notice of 16.03. comes late, once.
    assert _kinds([theme], at(date(2027, 3, 17))) == [("3", "due", True)]


def test_created_before_the_send_time_of_a_due_day_gets_the_day_notice_only() -> None:
    # The flood: created at 08:55 on the step's own day. The advance notice of a
    # week ago must not come "(nachgeholt)", and the day notice comes at nine, once.
    day = date(2027, 3, 25)
    step = StepFacts("3", StepKind.deadline, TEAM, day, day)
    theme = theme_with(step, created_at=at(day, 8, 55))
    assert _kinds([theme], at(day, 8, 56)) == []
    assert _kinds([theme], at(day, 9, 0)) == [("3", "due", False)]


def test_never_an_advance_notice_for_a_step_due_today_or_past() -> None:
    day = date(2027, 3, 25)
    step = StepFacts("3", StepKind.deadline, TEAM, day, day)
    for now in (at(day, 8, 0), at(day, 8, 59)):
        assert [k for _, k, _ in _kinds([theme_with(step)], now)] == []


def test_a_late_stage_waits_for_a_stage_of_the_same_step_later_today() -> None:
    # The bot was down from the meeting's advance notice (18.03.) to the meeting's day
    # (Thursday 25.03.), whose day notice is due at nine.
    meeting = StepFacts("2", StepKind.meeting, TEAM, date(2027, 3, 25), date(2027, 3, 25))
    theme = theme_with(meeting)
    # 08:00 on the meeting day: the missed advance is not sent now, only the day notice
    # at nine; one reminder for the step in this send time.
    assert _kinds([theme], at(date(2027, 3, 25), 8, 0)) == []
    assert _kinds([theme], at(date(2027, 3, 25), 9, 0)) == [("2", "due", False)]


def test_participation_reminders_from_before_the_creation_are_not_sent() -> None:
    theme = theme_with(
        created_at=at(date(2027, 3, 10)),
        participation_opens=date(2027, 3, 1),
        participation_closes=date(2027, 3, 22),
        participation_step="2",
    )
    assert _kinds([theme], at(date(2027, 3, 10))) == []
    assert _kinds([theme], at(date(2027, 3, 22), 9, 0)) == [("2", "participation_close", False)]


def test_a_step_due_on_the_day_of_creation_keeps_its_day_notice() -> None:
    # Created at 10:00, after the send time, with a step due today: told at once, once,
    # and not as a catch-up.
    day = date(2027, 3, 25)
    step = StepFacts("3", StepKind.deadline, TEAM, day, day)
    theme = theme_with(step, created_at=at(day, 10, 0))
    assert _kinds([theme], at(day, 10, 0)) == [("3", "due", False)]
