"""The smaller points of issue 21 (point 7), each as a user meets it in chat: a date with
a German month name, one theme's reminders over its whole process, step 7 that runs
rather than falls due, the themes with a Z2 before the ideas; and a meeting's time and
place set in chat (point 1), with every bad input answered in German."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.router import Outcome, Router
from tests.conftest import COORDINATOR

NOW = datetime(2027, 1, 11, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ROOM = "!koordination:stadt.example"


def say(router: Router, text: str, now: datetime = NOW) -> Outcome:
    outcome = router.handle(f"!zt {text}", sender=COORDINATOR, room_id=ROOM, now=now)
    assert outcome is not None
    return outcome


def test_a_date_with_a_german_month_name_is_read(router: Router) -> None:
    created = say(router, "neu Klimaanpassung 15. April 2027")
    assert created.result == "ok"
    assert created.reply.body.startswith(
        "Thema „Klimaanpassung“ angelegt: Z2 KW 15/2027 (15.04.2027)."
    )
    assert say(router, "verschieben Klimaanpassung 3. Mai 2027").result == "ok"
    assert say(router, "neu Wasser 1. Okt. 2027").result == "ok"
    refused = say(router, "neu Hitze 31. Februar 2027")
    assert refused.result == "refused"
    assert refused.reply.body.startswith("Das Datum 31. Februar 2027 gibt es nicht.")


def test_one_themes_reminders_run_to_the_end_of_its_process(router: Router) -> None:
    say(router, "neu Klimaanpassung 15.04.2027")
    body = say(router, "erinnerungen Klimaanpassung").reply.body
    lines = body.splitlines()
    assert lines[0] == (
        "Erinnerungen für „Klimaanpassung“ bis zum Ende des Prozesses (20.05.2027), jeweils"
        " 09:00 Uhr, nur wenn der Schritt dann noch offen ist (bei Verspätung kommen"
        " Erinnerungen dazu):"
    )
    # Months ahead, not four weeks: Z2's invitation and step 7's start are listed.
    assert "• 18.03.2027: Vorankündigung, Klimaanpassung Schritt 4 → Teamraum" in lines
    assert "• 20.05.2027: Beginn, Klimaanpassung Schritt 7 → Teamraum" in lines
    assert "• 01.04.2027: Aufgabe, Klimaanpassung Schritt 3 → Teamraum" in lines
    assert not [line for line in lines if "Wochenübersicht" in line or "überfällig" in line]
    # Every theme's list still looks four weeks ahead.
    assert "Schritt 7" not in say(router, "erinnerungen").reply.body


def test_step_7_runs_instead_of_falling_due(router: Router) -> None:
    say(router, "neu Klimaanpassung 15.04.2027")
    later = datetime(2027, 7, 12, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    body = say(router, "status Klimaanpassung", now=later).reply.body
    (line,) = [line for line in body.splitlines() if "Evaluation & KVP" in line]
    assert "läuft seit 20.05.2027 (fortlaufend)" in line
    assert "fällig" not in line and "vor 53 Tagen" not in line


def test_themen_lists_the_themes_with_a_z2_before_the_ideas(router: Router) -> None:
    say(router, "neu Aaa Idee Q2/2027")
    say(router, "neu Zukunft 10.10.2027")
    say(router, "neu Mobilität 15.04.2027")
    lines = say(router, "themen").reply.body.splitlines()
    names = [line.split(":")[0].removeprefix("• ") for line in lines[1:]]
    assert names == ["Mobilität", "Zukunft", "Aaa Idee"]


def test_a_meetings_time_and_place_in_chat(router: Router) -> None:
    say(router, "neu Mobilität 15.04.2027")
    timed = say(router, "termin Mobilität Z2 15.04.2027 14:00–16:00")
    assert timed.reply.body.splitlines()[0] == (
        "🕑 Schritt 4 „Z2 Strategie-Tisch“ von Mobilität: Donnerstag, 15.04.2027, 14:00–16:00 Uhr."
    )
    placed = say(router, "ort Mobilität Z2 Ratssaal <b>1</b>")
    assert placed.reply.body.splitlines()[0] == (
        "📍 Schritt 4 „Z2 Strategie-Tisch“ von Mobilität: Donnerstag, 15.04.2027,"
        " 14:00–16:00 Uhr, Ratssaal <b>1</b>."
    )
    assert "Ratssaal &lt;b&gt;1&lt;/b&gt;" in placed.reply.html
    status = say(router, "status Mobilität").reply.body
    (line,) = [line for line in status.splitlines() if "Z2 Strategie-Tisch" in line]
    assert "15.04.2027, 14:00–16:00 Uhr, Ratssaal <b>1</b>" in line
    # Another day with a time: the date moves (Z2 with every open step) and the time is set.
    moved = say(router, "termin Mobilität Z2 22.04.2027 9:30")
    assert moved.result == "ok"
    assert "Donnerstag, 22.04.2027, 09:30 Uhr, Ratssaal <b>1</b>." in moved.reply.body
    assert "Ohne Ende steht der Termin mit 2 Stunden im Kalender." in moved.reply.body
    history = say(router, "verlauf Mobilität").reply.body
    assert "Schritt 4: Uhrzeit 09:30" in history and "Schritt 4: Ort Ratssaal" in history
    removed = say(router, "ort Mobilität Z2 entfernen")
    assert "Der Ort ist entfernt." in removed.reply.body


def test_every_bad_time_or_place_gets_a_german_answer_and_changes_nothing(
    router: Router,
) -> None:
    say(router, "neu Mobilität 15.04.2027")
    answers = {
        "termin Mobilität 3 01.04.2027 10:00": "ist kein Termin, sondern hat nur ein Datum",
        "termin Mobilität Z1 18.03.2027 25:00": "Die Uhrzeit „25:00“ gibt es nicht.",
        "termin Mobilität Z1 18.03.2027 16:00–14:00": "liegt das Ende nicht nach dem Beginn",
        "termin Mobilität Z1 14:00": "Da fehlt noch etwas. So geht es: !zt termin",
        "ort Mobilität 5 Ratssaal": "ist kein Termin: Einen Ort haben nur Sitzungen",
        "ort Mobilität Z2": "Da fehlt noch etwas",
        "ort Mobilität Z2 entfernen": "hat keinen Ort, den ich entfernen könnte",
        f"ort Mobilität Z2 {'x' * 201}": "Der Ort ist zu lang (höchstens 200 Zeichen)",
        "ort Mobilität Z9 Ratssaal": "Einen Schritt „Z9“ gibt es nicht.",
        # A time whose date would put Z1 too near Z2: refused, the time undone too.
        "termin Mobilität Z1 08.04.2027 14:00": "trotzdem",
    }
    for command, expected in answers.items():
        outcome = say(router, command)
        assert outcome.result == "refused", command
        assert expected in outcome.reply.body, (command, outcome.reply.body)
    assert (
        "termin Mobilität 2 08.04.2027 14:00 trotzdem"
        in say(router, "termin Mobilität Z1 08.04.2027 14:00").reply.body
    )
    status = say(router, "status Mobilität").reply.body
    assert "Uhr" not in status  # nothing was set
