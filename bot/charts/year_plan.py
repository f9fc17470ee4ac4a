"""The year plan as a picture (`!zt jahresplan [Jahr]`).

Every theme of the year on one line: its steps as a thin bar, its Z2 as a star, by
quarter; ideas apart, over the quarter they are planned for; the milestones of the
city's other strategies apart below them (a diamond on a day, a bar over a week or a
quarter, a dotted line across the themes for a day or a week); weeks with two Z2 and
the school holidays shaded across all lines.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from bot.charts.calendar_marks import public_holidays, school_breaks
from bot.charts.drawing import (
    CONFLICT_COLOUR,
    HOLIDAY_COLOUR,
    SCHOOL_COLOUR,
    TODAY_COLOUR,
    ChartWords,
    Margins,
    band,
    bottom_legend,
    day_number,
    headline,
    rows_figure,
    school_bands,
)
from bot.domain.annual_plan import AnnualPlan, SchoolHolidays, planned_quarter
from bot.domain.themes import ThemeView
from bot.domain.working_days import WorkingCalendar

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

STATUS_COLOURS = {"active": "#0072B2", "paused": "#999933", "archived": "#7F7F7F"}
STATUS_MARKERS = {"active": "*", "paused": "P", "archived": "X"}
STATUS_WORDS = {"paused": "theme_paused", "archived": "theme_archived"}
IDEA_COLOUR = "#CC79A7"
MILESTONE_COLOUR = "#009E73"
MARGINS = Margins(left=290, right=30, top=100, bottom=95, row=26)
NAME_LIMIT = 34


@dataclass(frozen=True)
class PlanRow:
    name: str
    status: str  # ThemeStatus value
    z2: date | None
    first: date | None  # its first and last step
    last: date | None
    quarter: int | None  # an idea's planned quarter
    planned: str | None  # as written, "Q4/2027"
    conflict: bool  # its Z2 shares a week with another


@dataclass(frozen=True)
class MilestoneRow:
    name: str
    first: date
    last: date
    written: str  # "Q3/2027", "KW 19/2027", "03.05.2027"
    precision: str  # "day", "week", "quarter"


@dataclass(frozen=True)
class YearPlanData:
    year: int
    today: date
    themes: tuple[PlanRow, ...]  # with Z2 in the year, by Z2
    ideas: tuple[PlanRow, ...]
    conflicts: tuple[tuple[date, tuple[str, ...]], ...]  # (Monday, themes)
    holidays: tuple[tuple[date, str], ...]
    school_breaks: tuple[tuple[date, date, str], ...]
    school_unknown_from: date | None
    words: ChartWords
    milestones: tuple[MilestoneRow, ...] = ()

    @property
    def by_quarter(self) -> tuple[tuple[int, tuple[str, ...]], ...]:
        """The themes with Z2 by quarter (for the alt text)."""
        return tuple(
            (q, tuple(t.name for t in self.themes if t.z2 and (t.z2.month - 1) // 3 + 1 == q))
            for q in (1, 2, 3, 4)
        )


def year_plan_data(
    plan: AnnualPlan,
    views: Iterable[ThemeView],
    today: date,
    *,
    calendar: WorkingCalendar,
    school: SchoolHolidays,
    words: ChartWords,
) -> YearPlanData:
    """What the year plan's picture shows: the plan, and each theme's span of steps."""
    spans = {
        view.theme.name: (min(s.due for s in view.steps), max(s.due for s in view.steps))
        for view in views
        if view.steps
    }
    in_conflict = {name for conflict in plan.conflicts for name in conflict.themes}
    themes, ideas = [], []
    for entry in plan.entries:
        first, last = spans.get(entry.name, (None, None))
        quarter = planned_quarter(entry.planned_quarter)
        row = PlanRow(
            name=entry.name,
            status=entry.status,
            z2=entry.z2,
            first=first,
            last=last,
            quarter=quarter.quarter if quarter else None,
            planned=entry.planned_quarter,
            conflict=entry.name in in_conflict,
        )
        (ideas if entry.is_idea else themes).append(row)
    start, end = date(plan.year, 1, 1), date(plan.year, 12, 31)
    return YearPlanData(
        year=plan.year,
        today=today,
        themes=tuple(sorted(themes, key=lambda r: (r.z2 or start, r.name.casefold()))),
        ideas=tuple(ideas),
        conflicts=tuple((c.monday, c.themes) for c in plan.conflicts),
        holidays=public_holidays(calendar, start, end),
        school_breaks=school_breaks(school, start, end),
        school_unknown_from=plan.school_holidays_unknown_from,
        words=words,
        milestones=tuple(
            MilestoneRow(m.name, m.first_day, m.last_day, m.written, m.precision)
            for m in plan.milestones
        ),
    )


def draw_year_plan(data: YearPlanData) -> Figure:
    words = data.words
    rows = max(
        1,
        len(data.themes)
        + len(data.ideas)
        + (1 if data.ideas else 0)
        + len(data.milestones)
        + (1 if data.milestones else 0),
    )
    figure, axes = rows_figure(MARGINS, rows)
    start, end = date(data.year, 1, 1), date(data.year + 1, 1, 1)
    axes.set_xlim(day_number(start), day_number(end))
    axes.set_ylim(rows - 0.5, -0.5)  # first line on top
    _quarters(axes, data)
    _shading(axes, data)
    labels = _themes(axes, data) + _ideas(axes, data, first_row=len(data.themes))
    after_ideas = len(data.themes) + len(data.ideas) + (1 if data.ideas else 0)
    labels += _milestones(axes, data, first_row=after_ideas)
    axes.set_yticks([row for row, _ in labels], [text for _, text in labels], fontsize=9)
    _month_axis(axes, data.year)
    if start <= data.today < end:
        axes.axvline(
            day_number(data.today), color=TODAY_COLOUR, linewidth=1.5, zorder=6, gid="today"
        )
    if not data.themes and not data.ideas and not data.milestones:
        axes.text(
            0.5, 0.5, words("year_empty", year=data.year), transform=axes.transAxes,
            ha="center", va="center", fontsize=11, gid="empty",
        )  # fmt: skip
    count = len(data.themes) + len(data.ideas)
    headline(
        figure,
        words("year_title", year=data.year),
        words("year_count", themes=count, ideas=len(data.ideas)),
    )
    _legend(figure, data)
    return figure


def _quarters(axes: Axes, data: YearPlanData) -> None:
    for quarter in (1, 2, 3, 4):
        first = date(data.year, 3 * quarter - 2, 1)
        after = date(data.year + 1, 1, 1) if quarter == 4 else date(data.year, 3 * quarter + 1, 1)
        if quarter % 2 == 0:
            axes.axvspan(day_number(first), day_number(after), color="#F2F2F2", zorder=0)
        axes.axvline(day_number(first), color="#999999", linewidth=0.8, zorder=1)
        axes.text(
            (day_number(first) + day_number(after)) / 2,
            1.005,
            data.words("quarter", quarter=quarter),
            transform=axes.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=11,
            fontweight="bold",
            gid=f"quarter-{quarter}",
        )


def _shading(axes: Axes, data: YearPlanData) -> None:
    school_bands(axes, data.school_breaks, alpha=0.3)
    for day, _name in data.holidays:
        axes.axvline(day_number(day), color=HOLIDAY_COLOUR, linewidth=1.2, zorder=0)
    labelled_until = date.min
    for monday, _themes in data.conflicts:
        band(
            axes,
            monday,
            monday + timedelta(days=7),
            CONFLICT_COLOUR,
            "xx",
            edgecolor=CONFLICT_COLOUR,
            zorder=1,
            gid=f"conflict-{monday.isoformat()}",
        )
        if monday < labelled_until:
            continue  # the labels would overlap: the band and the legend still say it
        labelled_until = monday + timedelta(weeks=6)
        axes.text(
            day_number(monday + timedelta(days=3)),
            1.045,
            data.words("two_z2", week=monday.isocalendar().week),
            transform=axes.get_xaxis_transform(),
            ha="center",
            va="bottom",
            fontsize=8,
            color=CONFLICT_COLOUR,
            fontweight="bold",
        )
    if data.school_unknown_from is not None:
        axes.text(
            day_number(data.school_unknown_from),
            0.0,
            " " + data.words("school_unknown", date=data.words.day(data.school_unknown_from)),
            transform=axes.get_xaxis_transform(),
            ha="left" if data.school_unknown_from.month < 10 else "right",
            va="bottom",
            fontsize=8,
            color="#666666",
            gid="school-unknown",
        )


def _short(name: str, suffix: str = "") -> str:
    limit = NAME_LIMIT - len(suffix)
    return (name if len(name) <= limit else name[: limit - 1] + "…") + suffix


def _themes(axes: Axes, data: YearPlanData) -> list[tuple[int, str]]:
    words = data.words
    start, end = day_number(date(data.year, 1, 1)), day_number(date(data.year + 1, 1, 1))
    labels = []
    for row, theme in enumerate(data.themes):
        assert theme.z2 is not None
        colour = STATUS_COLOURS.get(theme.status, "#0072B2")
        if theme.first is not None and theme.last is not None:
            left = max(start, day_number(theme.first))
            right = min(end, day_number(theme.last))
            axes.plot([left, right], [row, row], color=colour, linewidth=3, alpha=0.35, zorder=2)
        z2 = day_number(theme.z2)
        axes.plot(
            [z2],
            [row],
            marker=STATUS_MARKERS.get(theme.status, "*"),
            markersize=13,
            color=CONFLICT_COLOUR if theme.conflict else colour,
            markeredgecolor="black",
            markeredgewidth=0.6,
            linestyle="none",
            zorder=5,
            gid=f"z2-{row}",
        )
        near_right = (z2 - start) / (end - start) > 0.8
        axes.text(
            z2 + (-5 if near_right else 5),
            row,
            words.short_day(theme.z2),  # the star says Z2; short labels draw fast
            ha="right" if near_right else "left",
            va="center",
            fontsize=8,
            zorder=6,
        )
        state = STATUS_WORDS.get(theme.status)
        suffix = f" ({words(state)})" if state else ""
        labels.append((row, _short(theme.name, suffix)))
    return labels


def _ideas(axes: Axes, data: YearPlanData, first_row: int) -> list[tuple[int, str]]:
    if not data.ideas:
        return []
    words = data.words
    header = first_row
    axes.axhline(header - 0.5, color="#444444", linewidth=1)
    axes.text(
        0.005,
        header,
        words("ideas"),
        transform=axes.get_yaxis_transform(),
        fontsize=10,
        fontweight="bold",
        va="center",
        gid="ideas-header",
    )
    labels = []
    for offset, idea in enumerate(data.ideas, start=1):
        row = header + offset
        if idea.quarter is not None:
            first = date(data.year, 3 * idea.quarter - 2, 1)
            after = (
                date(data.year + 1, 1, 1)
                if idea.quarter == 4
                else date(data.year, 3 * idea.quarter + 1, 1)
            )
            axes.barh(
                row,
                day_number(after) - day_number(first),
                left=day_number(first),
                height=0.55,
                color=IDEA_COLOUR,
                alpha=0.35,
                hatch="//",
                edgecolor=IDEA_COLOUR,
                zorder=2,
                gid=f"idea-{offset - 1}",
            )
            axes.text(
                (day_number(first) + day_number(after)) / 2,
                row,
                words("idea_quarter", quarter=idea.planned or ""),
                ha="center",
                va="center",
                fontsize=8,
                zorder=6,
            )
        labels.append((row, _short(idea.name)))
    return labels


def _milestones(axes: Axes, data: YearPlanData, first_row: int) -> list[tuple[int, str]]:
    """The other strategies' milestones in rows of their own; a day or a week also as a
    dotted line across the themes above, where a Z2 beside it is easy to see."""
    if not data.milestones:
        return []
    header = first_row
    axes.axhline(header - 0.5, color="#444444", linewidth=1)
    axes.text(
        0.005,
        header,
        data.words("milestones"),
        transform=axes.get_yaxis_transform(),
        fontsize=10,
        fontweight="bold",
        va="center",
        gid="milestones-header",
    )
    start, after = date(data.year, 1, 1), date(data.year + 1, 1, 1)
    labels = []
    for offset, milestone in enumerate(data.milestones, start=1):
        row = header + offset
        first = max(start, milestone.first)
        last = min(after - timedelta(days=1), milestone.last)
        if milestone.precision == "day":
            axes.plot(
                [day_number(first)], [row], marker="D", markersize=9, color=MILESTONE_COLOUR,
                markeredgecolor="black", markeredgewidth=0.6, linestyle="none", zorder=5,
                gid=f"milestone-{offset - 1}",
            )  # fmt: skip
        else:
            axes.barh(
                row, day_number(last + timedelta(days=1)) - day_number(first),
                left=day_number(first), height=0.55, color=MILESTONE_COLOUR, alpha=0.45,
                edgecolor=MILESTONE_COLOUR, zorder=2, gid=f"milestone-{offset - 1}",
            )  # fmt: skip
        if milestone.precision != "quarter":
            axes.axvline(
                day_number(first), ymax=1.0, color=MILESTONE_COLOUR, linewidth=1,
                linestyle=":", zorder=1,
            )  # fmt: skip
        middle = (day_number(first) + day_number(last + timedelta(days=1))) / 2
        near_right = (middle - day_number(start)) / (day_number(after) - day_number(start)) > 0.8
        axes.text(
            middle + (-6 if near_right else 6), row, milestone.written,
            ha="right" if near_right else "left", va="center", fontsize=8, zorder=6,
        )  # fmt: skip
        labels.append((row, _short(milestone.name)))
    return labels


def _month_axis(axes: Axes, year: int) -> None:
    months = [date(year, month, 1) for month in range(1, 13)]
    axes.set_xticks(
        [day_number(m) + 14 for m in months], [m.strftime("%m/%Y") for m in months], fontsize=8
    )
    axes.tick_params(axis="x", length=0)
    axes.grid(axis="x", visible=False)


def _legend(figure: Figure, data: YearPlanData) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    words = data.words
    handles: list[Line2D | Patch] = [
        Line2D([], [], marker="*", color=STATUS_COLOURS["active"], linestyle="none",
               markersize=11, label=words("z2")),
        Line2D([], [], marker=STATUS_MARKERS["paused"], color=STATUS_COLOURS["paused"],
               linestyle="none", markersize=9, label=words("theme_paused")),
        Line2D([], [], marker=STATUS_MARKERS["archived"], color=STATUS_COLOURS["archived"],
               linestyle="none", markersize=9, label=words("theme_archived")),
        Line2D([], [], color=STATUS_COLOURS["active"], linewidth=3, alpha=0.35,
               label=words("z2_span")),
        Patch(facecolor=IDEA_COLOUR, alpha=0.35, hatch="//", label=words("ideas")),
        Line2D([], [], marker="D", color=MILESTONE_COLOUR, linestyle="none", markersize=8,
               label=words("milestones")),
        Patch(facecolor=CONFLICT_COLOUR, alpha=0.3, hatch="xx",
              label=words("two_z2", week="…")),
        Patch(facecolor=SCHOOL_COLOUR, alpha=0.4, hatch="..", label=words("school_break")),
        Line2D([], [], color=HOLIDAY_COLOUR, linewidth=1.5, label=words("holiday")),
        Line2D([], [], color=TODAY_COLOUR, linewidth=1.5,
               label=words("today", date="").strip()),
    ]  # fmt: skip
    bottom_legend(figure, handles, columns=5)
