"""The evaluation results as CSV (`zt-bot export-results`): aggregates only, with the same
rule as in chat: below `min_answers` only the number of answers, never a distribution."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from bot.domain.polls import Summary

HEADER = ("Thema", "Beendet", "Modus", "Frage", "Antworten", "Mittelwert", "Antwort", "Anzahl")


class ClosedEvaluation(Protocol):
    """What the export needs of a stored evaluation."""

    @property
    def mode(self) -> str: ...
    @property
    def closed_at(self) -> datetime | None: ...


def results_csv(
    rows: Sequence[tuple[str, ClosedEvaluation, Summary]], words: Mapping[str, str]
) -> str:
    """One line per answer (or one per question with too few answers); `;` as German
    Excel expects. `words` says what stands for too few answers (results_csv_words.j2)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    for theme, evaluation, summary in rows:
        closed = evaluation.closed_at.date().isoformat() if evaluation.closed_at else ""
        for question in summary.questions:
            mean = "" if question.mean is None else f"{question.mean:.1f}".replace(".", ",")
            base = (theme, closed, evaluation.mode, question.text, question.answers)
            if question.too_few:
                writer.writerow((*base, "", words["too_few"], ""))
                continue
            for answer in question.distribution:
                writer.writerow((*base, mean, answer.text, answer.count))
    return out.getvalue()
