"""The evaluation results as CSV: too few answers are said in the bot's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from bot.domain.polls import AnswerCount, QuestionSummary, Summary
from bot.domain.questionnaire import QuestionKind
from bot.domain.results_csv import results_csv
from bot.rendering import Renderer


@dataclass(frozen=True)
class Closed:
    mode: str = "anonym"
    closed_at: datetime | None = datetime(2027, 5, 3, 9, 0, tzinfo=UTC)


SUMMARY = Summary(
    (
        QuestionSummary("q1", "Klar?", QuestionKind.choice, 4, False, (AnswerCount("y", "ja", 4),)),
        QuestionSummary("q2", "Gut?", QuestionKind.scale, 1, True),
    ),
    3,
)


@pytest.mark.parametrize(
    ("language", "too_few"), [("de", "zu wenige Antworten"), ("en", "too few answers")]
)
def test_too_few_answers_are_said_not_shown(language: str, too_few: str) -> None:
    words = Renderer(language).words("results_csv_words")
    lines = results_csv([("Mobilität", Closed(), SUMMARY)], words).splitlines()
    assert lines[1:] == [
        "Mobilität;2027-05-03;anonym;Klar?;4;;ja;4",
        f"Mobilität;2027-05-03;anonym;Gut?;1;;{too_few};",
    ]
