"""Lead times per step (issue 21 point 2): the process file's `lead_days`, the config's as
the default; Z1 and Z2 announced four weeks ("Einladung verschicken") and one week
ahead, step 3 reminding to send the material to the participants two weeks before Z2."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.process import (
    TemplateError,
    default_template_text,
    load_template,
    parse_template,
)
from bot.domain.reminder_policy import (
    OWN_LEAD_N,
    ReminderKind,
    ReminderSettings,
    ThemeFacts,
    due_reminders,
    facts_for_steps,
    upcoming,
)
from bot.domain.themes import StepRecord, ThemeRecord
from bot.domain.timeline import plan
from bot.domain.working_days import WorkingCalendar
from bot.rendering import Renderer, describe_file_error

BERLIN = ZoneInfo("Europe/Berlin")
CALENDAR = WorkingCalendar()
SETTINGS = ReminderSettings()
Z2 = date(2027, 4, 15)  # a Thursday


def facts(template=None, z2: date = Z2, states: dict[str, str] | None = None) -> ThemeFacts:
    template = template or load_template()
    states = states or {}
    planned = plan(template, z2)
    steps = facts_for_steps([(p.definition, p.due, states.get(p.key, "open")) for p in planned])
    return ThemeFacts(1, "Mobilität", True, steps)


def coming(
    theme: ThemeFacts,
    key: str,
    first: date,
    kinds: tuple[ReminderKind, ...] = (ReminderKind.advance, ReminderKind.task),
) -> list[tuple[str, int, date, int]]:
    now = datetime.combine(first, time(8), tzinfo=BERLIN)
    return [
        (str(r.kind), r.n, r.send_on, r.lead)
        for r in upcoming([theme], now, SETTINGS, CALENDAR, horizon_days=120)
        if r.step_key == key and r.kind in kinds
    ]


TASKS = (ReminderKind.task,)


def test_z1_and_z2_are_announced_four_weeks_and_one_week_ahead() -> None:
    theme = facts()
    z1 = date(2027, 3, 18)
    assert coming(theme, "4", date(2027, 1, 4)) == [
        ("advance", OWN_LEAD_N + 28, Z2 - timedelta(days=28), 28),
        # The config's seven days keep the key (n = 1) they had before steps had their own.
        ("advance", 1, Z2 - timedelta(days=7), 7),
    ]
    assert coming(theme, "2", date(2027, 1, 4)) == [
        ("advance", OWN_LEAD_N + 28, z1 - timedelta(days=28), 28),
        ("advance", 1, z1 - timedelta(days=7), 7),
    ]
    z2 = load_template().step("Z2")
    assert z2 is not None and z2.notice_text(28) == "Einladung verschicken"
    assert z2.notice_text(7) == ""


def test_step_3_reminds_to_send_the_material_two_weeks_before_z2_even_once_done() -> None:
    # Step 3 is done on its date (three weeks before Z2); the material still has to go out.
    theme = facts(states={"3": "done"})
    assert coming(theme, "3", date(2027, 3, 1)) == [
        ("task", 14, Z2 - timedelta(days=14), 14),
    ]
    on_the_day = datetime.combine(Z2 - timedelta(days=14), time(10), tzinfo=BERLIN)
    due = [r for r in due_reminders([theme], on_the_day, SETTINGS, CALENDAR) if r.step_key == "3"]
    assert [(str(r.kind), r.step_date) for r in due] == [("task", Z2)]
    text = load_template().step("3")
    assert text is not None and "Teilnehmenden" in text.notice_text(14, task=True)


def test_no_material_notice_for_a_skipped_step_3_or_once_z2_is_done_or_past() -> None:
    assert coming(facts(states={"3": "skipped"}), "3", date(2027, 3, 1), TASKS) == []
    assert coming(facts(states={"4": "done"}), "3", date(2027, 3, 1), TASKS) == []
    # Missed while the bot was down and Z2 came: not told afterwards.
    after = datetime.combine(Z2 + timedelta(days=1), time(10), tzinfo=BERLIN)
    due = due_reminders([facts()], after, SETTINGS, CALENDAR)
    assert not [r for r in due if r.kind == ReminderKind.task]


def test_a_moved_z2_moves_the_material_notice_and_voids_the_old_one() -> None:
    before, after = facts(), facts(z2=Z2 + timedelta(weeks=2))
    old = coming(before, "3", date(2027, 3, 1), TASKS)
    new = coming(after, "3", date(2027, 3, 1), TASKS)
    assert old[0][2] + timedelta(weeks=2) == new[0][2]
    now = datetime.combine(new[0][2], time(10), tzinfo=BERLIN)
    (task,) = [r for r in due_reminders([after], now, SETTINGS, CALENDAR) if r.kind == "task"]
    assert task.step_date == Z2 + timedelta(weeks=2)  # a new key: the old one is void


def test_a_city_file_sets_its_own_lead_times_and_the_config_stays_the_default() -> None:
    text = default_template_text().replace(
        'lead_days = [{ days = 28, text = "Einladung verschicken" }, 7]', "lead_days = [42]", 1
    )
    template = parse_template(text)
    z1 = template.step("Z1")
    assert z1 is not None and [lead.days for lead in z1.lead_days or ()] == [42]
    theme = facts(template)
    assert [c[3] for c in coming(theme, "2", date(2027, 1, 1))] == [42]
    # Step 5 has none of its own: the config's (here two) apply.
    settings = ReminderSettings(lead_days=(10, 3))
    now = datetime.combine(date(2027, 1, 4), time(8), tzinfo=BERLIN)
    fives = [
        r.lead
        for r in upcoming([theme], now, settings, CALENDAR, horizon_days=200)
        if r.step_key == "5" and r.kind == ReminderKind.advance
    ]
    assert fives == [10, 3]


@pytest.mark.parametrize(
    ("line", "word"),
    [
        ("lead_days = [0]", "lead_days"),
        ("lead_days = [120]", "lead_days"),
        ('lead_days = [{ days = 7, before = "9" }]', "before"),
    ],
)
def test_a_process_file_with_impossible_lead_times_is_refused(line: str, word: str) -> None:
    text = default_template_text().replace(
        'lead_days = [{ days = 28, text = "Einladung verschicken" }, 7]', line, 1
    )
    with pytest.raises(TemplateError) as info:
        parse_template(text)
    assert word in describe_file_error(info.value)


def render_reminder(kind: str, lead: int, step_key: str, step_date: date, **step_fields):
    template = load_template()
    theme = facts(template)
    now = datetime.combine(step_date - timedelta(days=lead), time(10), tzinfo=BERLIN)
    reminders = [
        r
        for r in upcoming([theme], now - timedelta(days=1), SETTINGS, CALENDAR, horizon_days=3)
        if r.kind == kind and r.step_key == step_key and r.lead == lead
    ]
    record = ThemeRecord(
        id=1,
        name="Mobilität",
        name_key="mobilitat",
        z2=Z2,
        process_json=template.to_json(),
        created_by="@k:x",
        created_at=datetime(2026, 12, 1, tzinfo=BERLIN),
    )
    step = StepRecord(theme_id=1, key=step_key, position=4, due=step_date, **step_fields)
    return Renderer().message(
        "reminder",
        kind=kind,
        reminder=reminders[0],
        theme=record,
        definition=template.step(step_key),
        step=step,
        people=(),
        core_team=(),
        overdue_days=0,
        holiday=None,
        window=None,
        today=now.date(),
        citizen_dialogue_unbound=False,
        prefix="!zt",
    )


def test_the_invitation_notice_says_what_to_do_with_time_and_place() -> None:
    message = render_reminder(
        "advance", 28, "4", Z2, starts_at=time(14), ends_at=time(16), place="Ratssaal <1>"
    )
    assert message.body.startswith(
        "📅 Bald: Schritt 4 „Z2 Strategie-Tisch“ von Mobilität am Donnerstag, 15.04.2027"
        " (KW 15), 14:00–16:00 Uhr, Ratssaal <1>."
    )
    assert "Jetzt: Einladung verschicken." in message.body
    assert "Ratssaal &lt;1&gt;" in message.html


def test_the_material_notice_names_the_task_and_the_date() -> None:
    message = render_reminder("task", 14, "3", Z2)
    headline = message.body.splitlines()[0]
    assert headline.startswith("📨 Schritt 3 „Aufbereitung für Z2“ von Mobilität: Unterlagen an")
    assert "15.04.2027" in headline and "14 Tage" in headline
    assert "Erledigt?" not in message.body  # step 3 may be done already


def test_the_follow_up_names_the_step_before_asking() -> None:
    reminder_day = date(2027, 3, 18)
    template = load_template()
    theme = facts(template)
    now = datetime.combine(reminder_day + timedelta(days=1), time(10), tzinfo=BERLIN)
    (followup,) = [
        r
        for r in due_reminders([theme], now, SETTINGS, CALENDAR)
        if r.kind == ReminderKind.followup
    ]
    record = ThemeRecord(
        id=1,
        name="Mobilität",
        name_key="mobilitat",
        z2=Z2,
        process_json=template.to_json(),
        created_by="@k:x",
        created_at=datetime(2026, 12, 1, tzinfo=BERLIN),
    )
    for language, start in (
        ("de", "❓ Schritt 2 „Z1 Expertisen-Tisch“ von Mobilität am 18.03.2027 (KW 11): Hat der"),
        ("en", "❓ Step 2 “Z1 Expertisen-Tisch” of Mobilität on 18.03.2027 (KW 11): did the"),
    ):
        message = Renderer(language).message(
            "reminder",
            kind="followup",
            reminder=followup,
            theme=record,
            definition=template.step("2"),
            step=replace(StepRecord(theme_id=1, key="2", position=2, due=reminder_day)),
            people=(),
            core_team=(),
            overdue_days=1,
            holiday=None,
            window=None,
            today=now.date(),
            citizen_dialogue_unbound=False,
            prefix="!zt",
        )
        assert message.body.startswith(start), message.body


def test_an_invitation_due_before_the_theme_existed_is_not_caught_up() -> None:
    # Created on 17.03.2027 with Z2 on 31.03.: the four-week notice (03.03.) was never missed.
    created = datetime(2027, 3, 17, 10, 0, tzinfo=BERLIN)
    theme = replace(facts(z2=date(2027, 3, 31)), created_at=created)
    due = due_reminders([theme], created, SETTINGS, CALENDAR)
    assert not [r for r in due if r.kind == ReminderKind.advance and r.step_key == "4"]
    # The material notice of the same day still goes out: it was due today.
    assert [(r.step_key, r.step_date) for r in due if r.kind == ReminderKind.task] == [
        ("3", date(2027, 3, 31))
    ]
    week_ahead = datetime(2027, 3, 24, 10, 0, tzinfo=BERLIN)
    later = [r for r in due_reminders([theme], week_ahead, SETTINGS, CALENDAR) if r.step_key == "4"]
    assert [(str(r.kind), r.lead) for r in later] == [("advance", 7)]
