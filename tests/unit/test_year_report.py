"""domain.year_report: what the year report says per theme and across the year, and how it
is written (Markdown, a self-contained HTML page, CSV)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import replace
from datetime import date

from bot.domain.evaluation import OpenAnswers, open_answers
from bot.domain.papers import LinkedPaper, PaperConsultation
from bot.domain.polls import Tally, summarise
from bot.domain.process import load_template
from bot.domain.questionnaire import INTERNAL, VERSION_1, load_questionnaire
from bot.domain.themes import StepRecord, ThemeView
from bot.domain.timeline import plan
from bot.domain.year_report import (
    EvaluationInput,
    IdeaInput,
    StepTiming,
    build_year_report,
    year_report_csv,
)
from bot.rendering import Renderer
from tests.chart_samples import record

TODAY = date(2027, 12, 1)
CURRENT = {"teilnehmende": load_questionnaire(), "intern": load_questionnaire(default=INTERNAL)}


def view(
    name: str,
    z2: date,
    theme_id: int,
    done: dict[str, date] | None = None,
    skipped: tuple[str, ...] = (),
    paper: LinkedPaper | None = None,
    status: str = "active",
) -> ThemeView:
    done = done or {}
    steps = tuple(
        StepRecord(
            theme_id=theme_id,
            key=planned.key,
            position=position,
            due=planned.due,
            state="done"
            if planned.key in done
            else "skipped"
            if planned.key in skipped
            else "open",
            done_on=done.get(planned.key),
        )
        for position, planned in enumerate(plan(load_template(), z2, ()))
    )
    return ThemeView(record(name, theme_id, z2=z2, status=status), steps, paper=paper)


def tallies(**counts: dict[str, int]) -> dict[str, Tally]:
    return {key: Tally(c, sum(c.values()), 0, ended=True) for key, c in counts.items()}


def evaluation(theme_id: int, kind: str = "teilnehmende", questionnaire=None, **counts):
    questionnaire = questionnaire or CURRENT[kind]
    return EvaluationInput(theme_id, kind, summarise(questionnaire, tallies(**counts), 3))


def step(report, theme: str, key: str):
    line = next(t for t in report.themes if t.name == theme)
    return next(s for s in line.steps if s.key == key)


def test_each_step_on_time_or_days_late_overdue_planned_or_skipped() -> None:
    mobility = view(
        "Mobilität",
        date(2027, 4, 12),
        1,
        # Step 1 due 01.02.2027: done two days early; step 2 due 15.03.: done 3 days late.
        done={"1": date(2027, 1, 30), "2": date(2027, 3, 18), "4": date(2027, 4, 12)},
        skipped=("3a",),
    )
    report = build_year_report(2027, [mobility], [], [], today=TODAY, min_answers=3)
    assert step(report, "Mobilität", "1").timing is StepTiming.on_time
    late = step(report, "Mobilität", "2")
    assert (late.timing, late.days_late, late.done_on) == (StepTiming.late, 3, date(2027, 3, 18))
    assert step(report, "Mobilität", "3a").timing is StepTiming.skipped
    assert step(report, "Mobilität", "4").timing is StepTiming.on_time
    overdue = step(report, "Mobilität", "3")  # due 22.03.2027, still open on 01.12.2027
    assert (overdue.timing, overdue.days_late) == (StepTiming.overdue, 254)
    # Step 7 is continuous: once started it runs, it is never overdue.
    assert step(report, "Mobilität", "7").timing is StepTiming.running
    assert (report.steps_on_time, report.steps_late) == (2, 1)
    assert report.themes[0].late_steps == 1 + 3  # step 2 late; 3, 5, 6 overdue
    early = build_year_report(2027, [mobility], [], [], today=date(2027, 3, 1), min_answers=3)
    assert step(early, "Mobilität", "3").timing is StepTiming.planned
    assert step(early, "Mobilität", "7").timing is StepTiming.planned


def test_only_themes_with_z2_in_the_year_ordered_by_z2_archived_ones_too() -> None:
    themes = [
        view("Wasser", date(2027, 9, 6), 1),
        view("Klima", date(2027, 5, 20), 2, status="archived"),
        view("Vorjahr", date(2026, 11, 2), 3),
    ]
    report = build_year_report(2027, themes, [], [], today=TODAY, min_answers=3)
    assert [t.name for t in report.themes] == ["Klima", "Wasser"]
    assert report.themes[0].archived


def test_council_decision_from_the_paper_else_step_6_else_open() -> None:
    paper = LinkedPaper(
        key="https://ris.example/paper/1",
        reference="BV/2027/0012",
        decided=True,
        result="einstimmig beschlossen",
        result_day=date(2027, 5, 20),
    )
    by_paper = view("Mobilität", date(2027, 4, 12), 1, paper=paper)
    by_hand = view("Klima", date(2027, 5, 20), 2, done={"6": date(2027, 6, 24)})
    still_open = view("Wasser", date(2027, 9, 6), 3)
    report = build_year_report(
        2027, [by_paper, by_hand, still_open], [], [], today=TODAY, min_answers=3
    )
    councils = {t.name: t.council for t in report.themes}
    assert (
        councils["Mobilität"].decided and councils["Mobilität"].result == "einstimmig beschlossen"
    )
    assert councils["Mobilität"].reference == "BV/2027/0012"
    # Marked on 24.06., decided at the meeting on step 6's date (Z2 + 4 weeks).
    assert councils["Klima"].decided and councils["Klima"].day == date(2027, 6, 17)
    assert not councils["Wasser"].decided and councils["Wasser"].day == date(2027, 10, 4)
    assert report.decided == 2


def test_the_decision_is_dated_on_the_council_meeting_not_the_day_it_was_marked() -> None:
    # The case: the council met on 20.05.2027, step 6 was marked on 10.06.2027.
    consultations = (
        PaperConsultation("Ausschuss", "Vorberatung", False, date(2027, 5, 6), None, None),
        PaperConsultation("Rat", "Entscheidung", True, date(2027, 5, 20), None, None),
    )
    paper = LinkedPaper(key="k", reference="BV/2027/0012", consultations=consultations)
    marked = view("Mobilität", date(2027, 4, 12), 1, done={"6": date(2027, 6, 10)}, paper=paper)
    report = build_year_report(2027, [marked], [], [], today=TODAY, min_answers=3)
    (line,) = report.themes
    assert line.council.decided and line.council.day == date(2027, 5, 20)
    text = Renderer().message("jahresbericht", report=report, prefix="!zt").body
    assert "entschieden am 20.05.2027" in text and "10.06.2027" not in text


def test_evaluations_show_only_what_has_enough_answers_and_ideas_by_decision() -> None:
    themes = [view("Mobilität", date(2027, 4, 12), 1), view("Klima", date(2027, 5, 20), 2)]
    evaluations = [
        evaluation(1, gesamt={"a1": 2, "a2": 2}, ziel={"a1": 2}),  # ziel: 2 answers only
        evaluation(2, gesamt={"a1": 1, "a3": 2}, ziel={"a2": 3}),
        evaluation(2, "intern", zeitplan={"a4": 3}),
    ]
    ideas = [
        IdeaInput(1, "Einladungen früher", "adopted"),
        IdeaInput(1, "Mehr Kaffee", "rejected", "kein Budget"),
        IdeaInput(1, "Noch offen", "open"),
    ]
    report = build_year_report(
        2027, themes, evaluations, ideas, today=TODAY, min_answers=3, questionnaires=CURRENT
    )
    mobility = report.themes[0]
    assert mobility.adopted == ("Einladungen früher",)
    assert mobility.rejected == (("Mehr Kaffee", "kein Budget"),)
    participants = mobility.evaluation("teilnehmende")
    assert participants is not None and mobility.evaluation("intern") is None
    assert participants.summary.question("ziel").too_few
    assert report.themes[1].evaluation("intern").summary.question("zeitplan").mean == 2.0

    overall = next(t for t in report.trends_of("teilnehmende") if t.key == "gesamt")
    assert [(p.theme, p.mean) for p in overall.points] == [("Mobilität", 4.5), ("Klima", 3.7)]
    assert (overall.year_mean, overall.change) == (4.1, -0.8)
    goal = next(t for t in report.trends_of("teilnehmende") if t.key == "ziel")
    assert [p.mean for p in goal.points] == [None, 4.0]  # too few answers: no mean
    assert (goal.year_mean, goal.change) == (4.0, None)
    assert [t.key for t in report.trends_of("intern")] == ["zeitplan", "unterlagen", "beteiligung"]


def test_a_question_of_the_first_version_joins_its_successors_trend() -> None:
    """Results stored with questionnaire version 1 stay readable, and where version 2 asks
    the same aspect (`previous_keys`), both are one trend."""
    themes = [view("Mobilität", date(2027, 4, 12), 1), view("Klima", date(2027, 5, 20), 2)]
    old = load_questionnaire(default=VERSION_1)
    evaluations = [
        evaluation(1, questionnaire=old, q1={"a1": 3}, q2={"a1": 3}),
        evaluation(2, gesamt={"a2": 3}),
    ]
    report = build_year_report(
        2027, themes, evaluations, [], today=TODAY, min_answers=3, questionnaires=CURRENT
    )
    overall = next(t for t in report.trends_of("teilnehmende") if t.key == "gesamt")
    assert overall.text == "Wie zufrieden sind Sie insgesamt mit dem Zukunftstisch?"
    assert [p.mean for p in overall.points] == [5.0, 4.0]
    assert overall.change == -1.0
    # "Ziel und Rahmen" asked two things: not comparable, its own row.
    double = next(t for t in report.trends_of("teilnehmende") if t.key == "q2")
    assert [p.theme for p in double.points] == ["Mobilität"]


def sample_report():
    paper = LinkedPaper(key="k", reference="BV/2027/0012", decided=True, result="beschlossen")
    paper = replace(paper, result_day=date(2027, 5, 20))
    themes = [
        view(
            "Mobilität | Verkehr", date(2027, 4, 12), 1, done={"1": date(2027, 2, 3)}, paper=paper
        ),
        view("Klima <b>fett</b>", date(2027, 5, 20), 2),
    ]
    participants = evaluation(1, gesamt={"a1": 3, "a2": 1})
    answers = open_answers(
        CURRENT["teilnehmende"],
        [("open", '=HYPERLINK("x")'), ("open", "<script>alert(1)</script>"), ("open", "Mehr Zeit")],
        3,
    )
    participants = replace(participants, open_answers=answers)
    ideas = [IdeaInput(1, "Einladungen früher", "adopted"), IdeaInput(2, "@SUM(1)", "rejected")]
    return build_year_report(
        2027, themes, [participants], ideas, today=TODAY, min_answers=3, questionnaires=CURRENT
    )


def test_html_is_one_self_contained_escaped_page() -> None:
    html = Renderer("de").document("year_report", "document", html=True, report=sample_report())
    assert html.startswith("<!DOCTYPE html>") and html.rstrip().endswith("</html>")
    assert "<style>" in html  # inline CSS, nothing to fetch
    assert not re.search(r"(src|href)\s*=|<link|@import|url\(|https?://", html)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Klima &lt;b&gt;fett&lt;/b&gt;" in html
    assert "2 Tage verspätet (erledigt 03.02.2027)" in html
    assert "entschieden am 20.05.2027: „beschlossen“, Vorlage BV/2027/0012" in html
    assert '<td class="num">4</td><td class="num">4,8</td>' in html
    assert "<li>Mehr Zeit</li>" in html
    assert "übernommen: Einladungen früher" in html
    english = Renderer("en").document("year_report", "document", html=True, report=sample_report())
    assert '<html lang="en">' in english and "2 days late (done 03.02.2027)" in english


def test_markdown_keeps_its_tables_whole() -> None:
    text = Renderer("de").document("year_report", "markdown", html=False, report=sample_report())
    assert text.startswith("# Jahresbericht Zukunftstische 2027")
    assert "## Mobilität \\| Verkehr – Z2 am 12.04.2027 (KW 15)" in text
    assert "| 1 Vorbereitung | 01.02.2027 | 2 Tage verspätet (erledigt 03.02.2027) |" in text
    assert "| Wie zufrieden sind Sie insgesamt mit dem Zukunftstisch? | 4 | 4,8 |" in text
    assert "- verworfen: @SUM(1)" in text
    for line in text.splitlines():
        if line.startswith("| "):
            assert line.replace("\\|", "").count("|") in (4, 5), line


def test_csv_has_every_part_decimal_commas_and_no_formulas() -> None:
    words = Renderer("de").words("year_report_words")
    rows = list(csv.reader(io.StringIO(year_report_csv(sample_report(), words)), delimiter=";"))
    assert rows[0] == ["Teil", "Thema", "Z2", "Schritt", "Was", "Datum", "Wert", "Anmerkung"]
    assert ["Schritt", "Mobilität | Verkehr", "2027-04-12", "1", "Vorbereitung", "2027-02-01",
            "verspätet (Tage)", "2"] in rows  # fmt: skip
    council = next(r for r in rows if r[0] == "Ratsentscheidung" and r[1].startswith("Mobil"))
    assert council[4:] == ["BV/2027/0012", "2027-05-20", "entschieden", "beschlossen"]
    overall = next(r for r in rows if r[0] == "Evaluation Teilnehmende" and r[3] == "gesamt")
    assert overall[6:] == ["4,8", "4"]
    opened = [r[6] for r in rows if r[0] == "Offene Antwort"]
    assert opened[0] == '\'=HYPERLINK("x")'  # never a formula in a spreadsheet
    assert [
        "KVP-Idee",
        "Klima <b>fett</b>",
        "2027-05-20",
        "",
        "'@SUM(1)",
        "",
        "verworfen",
        "",
    ] in rows
    assert any(r[0] == "Entwicklung" and r[3] == "gesamt" and r[6] == "4,8" for r in rows)


def test_open_answers_follow_the_threshold() -> None:
    questionnaire = CURRENT["intern"]
    few = open_answers(questionnaire, [("aendern", "weniger Termine")], 3)
    assert few == (OpenAnswers("aendern", questionnaire.question("aendern").text, 1, True),)
    enough = open_answers(questionnaire, [("aendern", t) for t in ("a", "b", "c")], 3)
    assert enough[0].answers == ("a", "b", "c") and not enough[0].too_few
