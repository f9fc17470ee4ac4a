"""Evaluation results as pictures (`!zt auswertung [Thema]`).

One theme: per question the distribution of its answers as bars, with the number of
answers and the mean; a question with fewer than `min_answers` answers shows no bars,
only "zu wenige Antworten". Without a theme: per question one bar per theme (shares of
each answer), so that themes can be compared.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.charts.drawing import (
    ANSWER_COLOURS,
    OTHER_ANSWER_COLOURS,
    WIDTH_PX,
    ChartWords,
    headline,
    new_figure,
)
from bot.domain.polls import QuestionSummary, Summary
from bot.domain.questionnaire import QuestionKind

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

TITLE_PX = 60
QUESTION_PX = 250  # one question of one theme
HEADER_PX = 80  # a question's title in the comparison
THEME_ROW_PX = 30
MARGIN_PX = 20
THEME_NAME_LIMIT = 30


@dataclass(frozen=True)
class QuestionResult:
    key: str
    text: str
    answers: int
    too_few: bool
    scale: bool
    distribution: tuple[tuple[str, int], ...]  # (answer, count), best first on a scale
    mean: float | None

    @classmethod
    def of(cls, question: QuestionSummary) -> QuestionResult:
        return cls(
            key=question.key,
            text=question.text,
            answers=question.answers,
            too_few=question.too_few,
            scale=question.kind is QuestionKind.scale,
            distribution=tuple((a.text, a.count) for a in question.distribution),
            mean=question.mean,
        )


@dataclass(frozen=True)
class ResultsData:
    theme: str
    min_answers: int
    questions: tuple[QuestionResult, ...]
    words: ChartWords


@dataclass(frozen=True)
class ComparisonData:
    """Per question (key, text), each theme's result (None: the question was not asked)."""

    questions: tuple[tuple[str, str, tuple[tuple[str, QuestionResult | None], ...]], ...]
    min_answers: int
    words: ChartWords


def results_data(theme: str, summary: Summary, words: ChartWords) -> ResultsData:
    return ResultsData(
        theme, summary.min_answers, tuple(QuestionResult.of(q) for q in summary.questions), words
    )


def comparison_data(
    columns: Iterable[tuple[str, Summary]], min_answers: int, words: ChartWords
) -> ComparisonData:
    columns = list(columns)
    texts: dict[str, str] = {}
    for _, summary in columns:
        for question in summary.questions:
            texts.setdefault(question.key, question.text)
    questions = []
    for key, text in texts.items():
        per_theme = []
        for name, summary in columns:
            found = summary.question(key)
            per_theme.append((name, QuestionResult.of(found) if found is not None else None))
        questions.append((key, text, tuple(per_theme)))
    return ComparisonData(tuple(questions), min_answers, words)


def _colours(result: QuestionResult) -> Sequence[str]:
    """A scale keeps its order in the colours (best green, worst brown, any length);
    unordered answers get distinct colours."""
    count = len(result.distribution)
    if result.scale and 1 < count <= 2 * len(ANSWER_COLOURS):
        last = len(ANSWER_COLOURS) - 1
        return [ANSWER_COLOURS[round(i * last / (count - 1))] for i in range(count)]
    return [OTHER_ANSWER_COLOURS[i % len(OTHER_ANSWER_COLOURS)] for i in range(max(count, 1))]


def _summary_line(result: QuestionResult, words: ChartWords) -> str:
    line = words("answers", count=result.answers)
    if result.mean is not None and not result.too_few:
        line += " · " + words("mean", mean=words.number(result.mean))
    return line


def _too_few(axes: Axes, result: QuestionResult, min_answers: int, words: ChartWords) -> None:
    axes.set_axis_off()
    axes.text(
        0.5,
        0.5,
        words("too_few", answers=result.answers, min=min_answers),
        transform=axes.transAxes,
        ha="center",
        va="center",
        fontsize=11,
        color="#555555",
        bbox={"boxstyle": "round", "facecolor": "#EEEEEE", "edgecolor": "#999999"},
        gid=f"too-few-{result.key}",
    )


def draw_results(data: ResultsData) -> Figure:
    words = data.words
    columns = 2
    rows = max(1, -(-len(data.questions) // columns))
    height = TITLE_PX + rows * QUESTION_PX + MARGIN_PX
    figure = new_figure(height)
    headline(figure, words("results_title", theme=data.theme))
    cell_w = (WIDTH_PX - 2 * MARGIN_PX) / columns
    for index, result in enumerate(data.questions):
        row, column = divmod(index, columns)
        left = MARGIN_PX + column * cell_w + 50
        bottom = height - TITLE_PX - (row + 1) * QUESTION_PX + 70
        axes = figure.add_axes(
            (left / WIDTH_PX, bottom / height, (cell_w - 90) / WIDTH_PX, 110 / height)
        )
        title = textwrap.fill(f"{index + 1}. {result.text}", 60)
        axes.set_title(f"{title}\n{_summary_line(result, words)}", fontsize=10, loc="left", pad=8)
        if result.too_few:
            _too_few(axes, result, data.min_answers, words)
            continue
        _bars(axes, result)
    if not data.questions:
        figure.text(0.5, 0.5, words("results_none"), ha="center", va="center", fontsize=12)
    return figure


def _bars(axes: Axes, result: QuestionResult) -> None:
    colours = _colours(result)
    positions = range(len(result.distribution))
    counts = [count for _, count in result.distribution]
    bars = axes.bar(
        positions,
        counts,
        color=[colours[i] for i in positions],
        edgecolor="#333333",
        linewidth=0.6,
        gid=f"bars-{result.key}",
    )
    axes.bar_label(bars, [str(count) for count in counts], fontsize=9, padding=2)
    axes.set_xticks(
        list(positions),
        [textwrap.fill(text, 13) for text, _ in result.distribution],
        fontsize=8,
    )
    axes.set_ylim(0, max([*counts, 1]) * 1.3)
    axes.set_yticks([])
    for side in ("top", "right", "left"):
        axes.spines[side].set_visible(False)


def draw_comparison(data: ComparisonData) -> Figure:
    words = data.words
    blocks = [HEADER_PX + THEME_ROW_PX * len(per_theme) + 30 for _, _, per_theme in data.questions]
    height = TITLE_PX + sum(blocks) + MARGIN_PX + (40 if not data.questions else 0)
    figure = new_figure(height)
    headline(figure, words("results_overview_title"))
    if not data.questions:
        figure.text(0.5, 0.3, words("results_none"), ha="center", va="center", fontsize=12)
        return figure
    top = height - TITLE_PX
    for number, ((key, text, per_theme), block) in enumerate(
        zip(data.questions, blocks, strict=True), start=1
    ):
        rows_px = THEME_ROW_PX * len(per_theme)
        axes = figure.add_axes(
            (
                260 / WIDTH_PX,
                (top - HEADER_PX - rows_px) / height,
                600 / WIDTH_PX,
                rows_px / height,
            )
        )
        axes.set_title(textwrap.fill(f"{number}. {text}", 80), fontsize=10, loc="left", pad=22)
        _theme_rows(axes, key, per_theme, data.min_answers, words)
        top -= block
    return figure


def _theme_rows(
    axes: Axes,
    key: str,
    per_theme: Sequence[tuple[str, QuestionResult | None]],
    min_answers: int,
    words: ChartWords,
) -> None:
    from matplotlib.patches import Patch

    axes.set_xlim(0, 100)
    axes.set_ylim(len(per_theme) - 0.5, -0.5)
    labels = []
    legend: dict[str, str] = {}
    for row, (name, result) in enumerate(per_theme):
        short = name if len(name) <= THEME_NAME_LIMIT else name[: THEME_NAME_LIMIT - 1] + "…"
        labels.append(short)
        if result is None or result.too_few:
            answers = result.answers if result is not None else 0
            axes.text(
                1, row, words("too_few", answers=answers, min=min_answers),
                va="center", fontsize=9, color="#555555", gid=f"too-few-{key}-{row}",
            )  # fmt: skip
            continue
        total = sum(count for _, count in result.distribution) or 1
        left = 0.0
        colours = _colours(result)
        for index, (answer, count) in enumerate(result.distribution):
            share = 100 * count / total
            legend.setdefault(answer, colours[index])
            if share > 0:
                axes.barh(
                    row, share, left=left, height=0.6, color=colours[index],
                    edgecolor="white", linewidth=0.8, gid=f"share-{key}-{row}-{index}",
                )  # fmt: skip
                if share >= 8:
                    axes.text(left + share / 2, row, str(count), ha="center", va="center",
                              fontsize=8, color="black")  # fmt: skip
            left += share
        axes.text(101, row, _summary_line(result, words), va="center", fontsize=8)
    axes.set_yticks(range(len(per_theme)), labels, fontsize=9)
    axes.set_xticks([0, 25, 50, 75, 100], ["0", "25", "50", "75", "100 %"], fontsize=7)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    if legend:  # the answers' colours, one line between the question and its bars
        axes.legend(
            handles=[Patch(facecolor=c, label=a) for a, c in legend.items()],
            loc="lower left",
            bbox_to_anchor=(0.0, 1.0),
            ncol=len(legend),
            fontsize=7,
            frameon=False,
            handlelength=1.2,
            columnspacing=1.0,
            borderaxespad=0.1,
        )
