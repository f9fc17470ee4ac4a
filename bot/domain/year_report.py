"""The year report for the council and the annual report (`zt-bot report`, `!zt
jahresbericht`): per theme whose Z2 lies in the year, its Z2, each step on time or how
many days late, the council's decision, the evaluation results (only with enough answers,
as everywhere) and the KVP ideas adopted and rejected; across the themes, the year's
trend per question. Pure: takes data, returns data; the templates render it and
`year_report_csv` writes it as a table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from bot.domain.evaluation import INTERNAL_KIND as INTERNAL
from bot.domain.evaluation import PARTICIPANTS, OpenAnswers
from bot.domain.polls import QuestionSummary, Summary, comparable_summary
from bot.domain.process import StepKind, StepRole
from bot.domain.questionnaire import Questionnaire
from bot.domain.themes import StepState, ThemeView


class StepTiming(StrEnum):
    on_time = "on_time"  # done on or before its date
    late = "late"  # done after its date (days_late says how many days)
    overdue = "overdue"  # still open and its date has passed (days_late so far)
    planned = "planned"  # still open, its date lies ahead
    running = "running"  # continuous (step 7): started, never overdue
    skipped = "skipped"
    lapsed = "lapsed"  # optional, not marked after its date: "entfallen"


@dataclass(frozen=True)
class StepLine:
    key: str
    label: str
    due: date
    timing: StepTiming
    done_on: date | None = None
    days_late: int = 0


@dataclass(frozen=True)
class CouncilDecision:
    decided: bool
    day: date | None = None  # when it decided (or will, when not yet decided)
    result: str | None = None  # the council information system's result, if known
    reference: str | None = None  # the Beschlussvorlage, e.g. "BV/2027/0012"


@dataclass(frozen=True)
class EvaluationInput:
    """A closed evaluation of a theme as the store keeps it."""

    theme_id: int
    kind: str  # PARTICIPANTS or INTERNAL
    summary: Summary
    open_answers: tuple[OpenAnswers, ...] = ()
    participants: int = 0
    anonym: bool = True


@dataclass(frozen=True)
class IdeaInput:
    theme_id: int
    text: str
    status: str  # "open", "adopted", "rejected"
    reason: str | None = None
    # An adopted idea's follow-up (`kvp übernommen … bis`) and whether it is in practice.
    owner: str | None = None
    follow_up: date | None = None
    implemented: bool = False


@dataclass(frozen=True)
class PendingIdea:
    """Adopted and not yet in practice: who, and by when."""

    text: str
    owner: str | None
    follow_up: date | None


@dataclass(frozen=True)
class DocumentLine:
    """A link on a step, as the report lists it."""

    key: str
    label: str
    url: str
    title: str | None


@dataclass(frozen=True)
class ThemeLine:
    name: str
    z2: date
    steps: tuple[StepLine, ...]
    council: CouncilDecision
    evaluations: tuple[EvaluationInput, ...]
    adopted: tuple[str, ...]
    rejected: tuple[tuple[str, str | None], ...]
    archived: bool = False
    pending: tuple[PendingIdea, ...] = ()
    documents: tuple[DocumentLine, ...] = ()

    def pending_of(self, text: str) -> PendingIdea | None:
        return next((p for p in self.pending if p.text == text), None)

    @property
    def late_steps(self) -> int:
        return sum(step.timing in (StepTiming.late, StepTiming.overdue) for step in self.steps)

    def evaluation(self, kind: str) -> EvaluationInput | None:
        return next((e for e in self.evaluations if e.kind == kind), None)


@dataclass(frozen=True)
class TrendPoint:
    theme: str
    z2: date
    answers: int
    mean: float | None  # None: too few answers (shown as such, never the distribution)


@dataclass(frozen=True)
class QuestionTrend:
    kind: str
    key: str
    text: str
    points: tuple[TrendPoint, ...]

    @property
    def means(self) -> tuple[float, ...]:
        return tuple(p.mean for p in self.points if p.mean is not None)

    @property
    def year_mean(self) -> float | None:
        """The mean of the themes' means (each theme counts once), one decimal."""
        means = self.means
        if not means:
            return None
        return _one_decimal(Decimal(str(sum(means))) / Decimal(len(means)))

    @property
    def change(self) -> float | None:
        """Last theme's mean minus the first's, over the themes with enough answers."""
        means = self.means
        if len(means) < 2:
            return None
        return _one_decimal(Decimal(str(means[-1])) - Decimal(str(means[0])))


@dataclass(frozen=True)
class YearReport:
    year: int
    today: date
    min_answers: int
    themes: tuple[ThemeLine, ...]
    trends: tuple[QuestionTrend, ...]

    @property
    def steps_on_time(self) -> int:
        return sum(s.timing is StepTiming.on_time for t in self.themes for s in t.steps)

    @property
    def steps_late(self) -> int:
        return sum(s.timing is StepTiming.late for t in self.themes for s in t.steps)

    @property
    def steps_overdue(self) -> int:
        return sum(s.timing is StepTiming.overdue for t in self.themes for s in t.steps)

    @property
    def decided(self) -> int:
        return sum(t.council.decided for t in self.themes)

    @property
    def adopted(self) -> int:
        return sum(len(t.adopted) for t in self.themes)

    @property
    def rejected(self) -> int:
        return sum(len(t.rejected) for t in self.themes)

    @property
    def pending(self) -> tuple[tuple[str, PendingIdea], ...]:
        """(theme, idea) for every adopted idea not yet in practice."""
        return tuple((t.name, p) for t in self.themes for p in t.pending)

    def trends_of(self, kind: str) -> tuple[QuestionTrend, ...]:
        return tuple(t for t in self.trends if t.kind == kind)


def _one_decimal(value: Decimal) -> float:
    # Half up, as people round (and as the evaluation's means are rounded).
    return float(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def step_line(view: ThemeView, key: str, today: date) -> StepLine | None:
    definition = view.template.step(key)
    step = view.step(key)
    if definition is None or step is None:
        return None
    if step.state == StepState.skipped:
        return StepLine(key, definition.label, step.due, StepTiming.skipped)
    if step.state == StepState.lapsed:
        return StepLine(key, definition.label, step.due, StepTiming.lapsed)
    if step.state == StepState.done:
        done_on = step.done_on or step.due
        late = (done_on - step.due).days
        if late > 0:
            return StepLine(key, definition.label, step.due, StepTiming.late, done_on, late)
        return StepLine(key, definition.label, step.due, StepTiming.on_time, done_on)
    if definition.kind is StepKind.continuous:
        timing = StepTiming.running if step.due <= today else StepTiming.planned
        return StepLine(key, definition.label, step.due, timing)
    if step.due < today:
        overdue = (today - step.due).days
        return StepLine(key, definition.label, step.due, StepTiming.overdue, None, overdue)
    return StepLine(key, definition.label, step.due, StepTiming.planned)


def _deciding_day(view: ThemeView) -> date | None:
    """The day of the paper's deciding consultation (its meeting), where one is known."""
    paper = view.paper
    if paper is None:
        return None
    if paper.decided and paper.result_day is not None:
        return paper.result_day
    days = [c.day for c in paper.consultations if c.authoritative and c.day and not c.cancelled]
    return max(days) if days else None


def council_decision(view: ThemeView) -> CouncilDecision:
    """The council's decision on the day of its meeting (issue 21): the linked paper's
    result if the council information system knows it, else step 6 done by hand, on the
    deciding consultation's day or step 6's date (not the day it was marked), else open
    (its planned day)."""
    paper = view.paper
    definition = view.template.step_with_role(StepRole.council_decision)
    step = view.step(definition.key) if definition is not None else None
    reference = paper.reference if paper is not None else None
    if paper is not None and paper.decided:
        day = _deciding_day(view) or (step.due if step is not None else None)
        return CouncilDecision(True, day, paper.result, reference)
    if step is not None and step.state == StepState.done:
        return CouncilDecision(True, _deciding_day(view) or step.due, step.note, reference)
    day = paper.pending_day if paper is not None and paper.pending_day else None
    return CouncilDecision(False, day or (step.due if step is not None else None), None, reference)


def build_year_report(
    year: int,
    views: Iterable[ThemeView],
    evaluations: Iterable[EvaluationInput],
    ideas: Iterable[IdeaInput],
    *,
    today: date,
    min_answers: int,
    questionnaires: dict[str, Questionnaire] | None = None,
) -> YearReport:
    """The report of `year`: every theme whose Z2 lies in it, ordered by Z2.

    `evaluations` are closed ones, the newest of each kind per theme counting; their
    summaries already hide what has too few answers. `questionnaires` (kind → the
    current questionnaire) map keys of older versions onto today's, so that a question
    asked in two versions is one trend."""
    chosen = sorted(
        (v for v in views if v.theme.z2 is not None and v.theme.z2.year == year),
        key=lambda v: (v.theme.z2, v.theme.name.casefold()),
    )
    by_theme: dict[tuple[int, str], EvaluationInput] = {}
    for evaluation in evaluations:
        # Later entries (newer evaluations) replace earlier ones of the same kind.
        by_theme[(evaluation.theme_id, evaluation.kind)] = evaluation
    ideas_of: dict[int, list[IdeaInput]] = {}
    for idea in ideas:
        ideas_of.setdefault(idea.theme_id, []).append(idea)
    current = questionnaires or {}
    lines = []
    for view in chosen:
        assert view.theme.z2 is not None
        steps = tuple(
            line
            for definition in view.template.steps
            if (line := step_line(view, definition.key, today)) is not None
        )
        found = []
        for kind in (PARTICIPANTS, INTERNAL):
            evaluation = by_theme.get((view.id, kind))
            if evaluation is None:
                continue
            if kind in current:
                summary = comparable_summary(current[kind], evaluation.summary)
                evaluation = EvaluationInput(
                    evaluation.theme_id,
                    kind,
                    summary,
                    evaluation.open_answers,
                    evaluation.participants,
                    evaluation.anonym,
                )
            found.append(evaluation)
        own = ideas_of.get(view.id, [])
        lines.append(
            ThemeLine(
                name=view.theme.name,
                z2=view.theme.z2,
                steps=steps,
                council=council_decision(view),
                evaluations=tuple(found),
                adopted=tuple(i.text for i in own if i.status == "adopted"),
                rejected=tuple((i.text, i.reason) for i in own if i.status == "rejected"),
                archived=view.theme.status == "archived",
                pending=tuple(
                    PendingIdea(i.text, i.owner, i.follow_up)
                    for i in own
                    if i.status == "adopted" and not i.implemented
                ),
                documents=_documents(view),
            )
        )
    return YearReport(year, today, min_answers, tuple(lines), _trends(lines, current))


def _documents(view: ThemeView) -> tuple[DocumentLine, ...]:
    return tuple(
        DocumentLine(definition.key, definition.label, d.url, d.title)
        for definition in view.template.steps
        for d in view.documents_of(definition.key)
    )


def _trends(
    lines: Sequence[ThemeLine], current: dict[str, Questionnaire]
) -> tuple[QuestionTrend, ...]:
    """Per kind and question (in the current questionnaire's order, then older ones), the
    themes' means in the order of their Z2."""
    trends = []
    for kind in (PARTICIPANTS, INTERNAL):
        texts: dict[str, str] = {}
        if kind in current:
            texts.update((q.key, q.text) for q in current[kind].polls)
        for line in lines:
            evaluation = line.evaluation(kind)
            if evaluation is not None:
                for question in evaluation.summary.questions:
                    texts.setdefault(question.key, question.text)
        for key, text in texts.items():
            points = []
            for line in lines:
                evaluation = line.evaluation(kind)
                found = evaluation.summary.question(key) if evaluation is not None else None
                if found is not None:
                    points.append(_point(line, found))
            if points:
                trends.append(QuestionTrend(kind, key, text, tuple(points)))
    return tuple(trends)


def _point(line: ThemeLine, question: QuestionSummary) -> TrendPoint:
    mean = None if question.too_few else question.mean
    return TrendPoint(line.name, line.z2, question.answers, mean)


# --- CSV ---------------------------------------------------------------------------------

CSV_HEADER = ("Teil", "Thema", "Z2", "Schritt", "Was", "Datum", "Wert", "Anmerkung")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}".replace(".", ",")


class _SafeWriter:
    """A CSV writer that keeps spreadsheets from reading a cell as a formula: free text
    (open answers, ideas, names) starting with = + - @ gets a leading apostrophe."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out, delimiter=";", lineterminator="\r\n")

    def writerow(self, row: Sequence[object]) -> None:
        self._writer.writerow([_cell(value) for value in row])


def _cell(value: object) -> object:
    if isinstance(value, str) and value[:1] in FORMULA_START:
        return "'" + value
    return value


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def year_report_csv(report: YearReport, words: dict[str, str]) -> str:
    """The whole report as one table, `;` and decimal commas as German Excel expects.
    `words` names the timings and kinds (the template `year_report_words.j2`)."""
    out = io.StringIO()
    writer = _SafeWriter(out)
    writer.writerow(CSV_HEADER)
    for line in report.themes:
        z2 = line.z2.isoformat()
        for step in line.steps:
            writer.writerow(
                (
                    words["part_step"],
                    line.name,
                    z2,
                    step.key,
                    step.label,
                    step.due.isoformat(),
                    words[step.timing.value],
                    step.days_late if step.timing in (StepTiming.late, StepTiming.overdue) else "",
                )
            )
        council = line.council
        writer.writerow(
            (
                words["part_council"],
                line.name,
                z2,
                "",
                council.reference or "",
                council.day.isoformat() if council.day else "",
                words["decided"] if council.decided else words["not_decided"],
                council.result or "",
            )
        )
        for evaluation in line.evaluations:
            for question in evaluation.summary.questions:
                value = words["too_few"] if question.too_few else _number(question.mean)
                writer.writerow(
                    (
                        words[f"part_{evaluation.kind}"],
                        line.name,
                        z2,
                        question.key,
                        question.text,
                        "",
                        value,
                        question.answers,
                    )
                )
            for group in evaluation.open_answers:
                for answer in group.answers:
                    writer.writerow(
                        (words["part_open"], line.name, z2, group.key, group.text, "", answer, "")
                    )
        for text in line.adopted:
            writer.writerow((words["part_idea"], line.name, z2, "", text, "", words["adopted"], ""))
        for text, reason in line.rejected:
            writer.writerow(
                (words["part_idea"], line.name, z2, "", text, "", words["rejected"], reason or "")
            )
    for trend in report.trends:
        for point in trend.points:
            writer.writerow(
                (
                    words["part_trend"],
                    point.theme,
                    point.z2.isoformat(),
                    trend.key,
                    trend.text,
                    "",
                    _number(point.mean) if point.mean is not None else words["too_few"],
                    point.answers,
                )
            )
    return out.getvalue()
