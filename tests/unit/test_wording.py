"""German that reads well (and its English twin): what a coordinator reads, checked in the
rendered text (issue 12, point 8)."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from bot.domain.process import load_template
from bot.rendering import Renderer

DE, EN = Renderer("de"), Renderer("en")
TEMPLATE = load_template()
THEME = SimpleNamespace(name="Mobilität")


def reminder(kind: str, overdue_days: int, renderer: Renderer = DE, n: int = 1) -> str:
    step = TEMPLATE.step("3")
    return renderer.message(
        "reminder",
        kind=kind,
        reminder=SimpleNamespace(step_key="3", step_date=date(2027, 3, 22), n=n, late=False),
        theme=THEME,
        definition=step,
        step=None,
        people=(),
        core_team=(),
        overdue_days=overdue_days,
        holiday=None,
        window=None,
        today=date(2027, 3, 25),
        citizen_dialogue_unbound=False,
        prefix="!zt",
    ).body


def test_the_overdue_reminder_says_theme_step_and_date_plainly() -> None:
    first = reminder("overdue", 3).splitlines()[0]
    assert first == (
        "⏰ Mobilität: Schritt 3 „Aufbereitung für Z2“ ist seit 22.03.2027 (KW 12) fällig"
        " – 1. Erinnerung."
    )
    assert (
        reminder("overdue", 3, EN)
        .splitlines()[0]
        .startswith(
            "⏰ Mobilität: step 3 “Aufbereitung für Z2” has been due since 22.03.2027 (KW 12)"
        )
    )


def test_one_day_is_singular() -> None:
    assert "ist seit 1 Tag überfällig" in reminder("escalation", 1)
    assert "ist seit 9 Tagen überfällig" in reminder("escalation", 9)
    assert "overdue for 1 day (" in reminder("escalation", 1, EN)


def test_offsets_read_as_in_the_concept() -> None:
    step_2 = DE.message("help_step", step=TEMPLATE.step("2"), prefix="!zt").body
    assert "4 Wochen vor Z2" in step_2
    assert "Digitale Beteiligung startet: 6 Wochen vor Z2" in step_2
    step_7 = DE.message("help_step", step=TEMPLATE.step("7"), prefix="!zt").body
    assert "1 Woche nach Schritt 6" in step_7
    assert "+1" not in step_7 and "Wochen zu" not in step_2
    assert (
        "1 week after step 6" in EN.message("help_step", step=TEMPLATE.step("7"), prefix="!zt").body
    )


@pytest.mark.parametrize(("renderer", "text"), [(DE, "4,2"), (EN, "4.2")])
def test_numbers_with_the_languages_decimal_point(renderer: Renderer, text: str) -> None:
    question = SimpleNamespace(
        text="Wie zufrieden?", answers=5, too_few=False, mean=4.2, distribution=()
    )
    summary = SimpleNamespace(questions=[question], min_answers=3)
    body = renderer.message(
        "evaluation_summary",
        summary=summary,
        theme=THEME,
        participants=5,
        anonym=False,
        internal=False,
        open_answers=(),
        prefix="!zt",
    ).body
    assert f" {text} " in body


def test_refusals_say_it_once_and_point_nowhere_a_coordinator_cannot_look() -> None:
    refused = DE.error("not_coordinator", verb="verschieben", prefix="!zt").body
    assert refused == (
        "Das dürfen nur Koordinator*innen („!zt verschieben“)."
        " Bitte wenden Sie sich an die Koordinationsstelle."
    )
    internal = DE.error("internal", prefix="!zt").body
    assert "Protokoll" not in internal and "Log" not in internal
    assert "technischen Betreuung" in internal
    assert "log" not in EN.error("internal", prefix="!zt").body


def test_every_hint_has_the_prefix() -> None:
    paused = DE.sentence("changes", "paused", theme="Mobilität", prefix="!zt").body
    assert "„!zt fortsetzen Mobilität“" in paused
    archived = DE.sentence("changes", "archived", theme="Mobilität", prefix="!zt").body
    assert "„!zt fortsetzen Mobilität“ holt es zurück" in archived


def test_the_z2_room_promises_no_reminders() -> None:
    z2 = DE.sentence(
        "changes", "room_bound", theme="Mobilität", role="z2", replaced=False, other_team_rooms=0
    ).body
    assert "Erinnerungen für" not in z2 and "Umfrage" in z2
    team = DE.sentence(
        "changes", "room_bound", theme="Mobilität", role="team", replaced=False, other_team_rooms=2
    ).body
    assert team.startswith("Dieser Raum ist jetzt Teamraum von „Mobilität“ (neben 2 weiteren).")


def test_two_digit_years_are_asked_for_with_four() -> None:
    text = DE.error(
        "date_two_digit_year",
        text="15.04.27",
        suggestion="15.04.2027",
        usage="termin <Thema> <Schritt> <Datum>",
        prefix="!zt",
    ).body
    assert text.startswith("„15.04.27“: die Jahreszahl bitte vierstellig: 15.04.2027.")


def test_one_word_for_the_team_room() -> None:
    from pathlib import Path

    from bot.rendering import templates_dir

    german = "".join(p.read_text("utf-8") for p in Path(templates_dir(), "de").glob("*.j2"))
    assert "Fachbereichsraum" not in german


def test_a_z2_moved_onto_a_holiday_says_so() -> None:
    theme = SimpleNamespace(name="Mobilität")
    body = DE.message(
        "moved",
        theme=theme,
        old=date(2027, 4, 12),
        new=date(2027, 5, 13),
        moved=1,
        kept=[],
        holiday="Christi Himmelfahrt",
    ).body
    assert "1 Schritt folgt." in body
    assert body.endswith("⚠ Der 13.05.2027 ist ein Feiertag (Christi Himmelfahrt).")
