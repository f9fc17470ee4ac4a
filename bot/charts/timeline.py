"""A theme's timeline as a picture (`!zt zeitplan <Thema>`).

The steps on a week axis (KW and dates): meetings as points, deadlines as marks, phases
as bars, the participation window as a band, today as a line; each step's state by
colour, by the marker's fill and by its word; public holidays and school holidays
shaded, council meetings and pinned dates marked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from math import ceil
from typing import TYPE_CHECKING

from bot.charts.calendar_marks import public_holidays, school_breaks
from bot.charts.drawing import (
    COUNCIL_COLOUR,
    HOLIDAY_COLOUR,
    PARTICIPATION_COLOUR,
    SCHOOL_COLOUR,
    STATE_COLOURS,
    STATE_FILL,
    TODAY_COLOUR,
    ChartWords,
    Margins,
    bottom_legend,
    day_number,
    headline,
    rows_figure,
    school_bands,
)
from bot.domain.annual_plan import SchoolHolidays
from bot.domain.meetings import format_time, meeting_time
from bot.domain.participation import window as participation_window
from bot.domain.process import StepKind
from bot.domain.step_states import StepStatus, theme_progress
from bot.domain.themes import StepRecord, ThemeView
from bot.domain.timeline import first_council_on_or_after
from bot.domain.working_days import WorkingCalendar

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

KIND_MARKERS = {"phase": "s", "meeting": "o", "deadline": "D", "continuous": ">"}
STATE_WORDS = {
    "offen": "state_open",
    "faellig": "state_due",
    "ueberfaellig": "state_overdue",
    "erledigt": "state_done",
    "uebersprungen": "state_skipped",
    "entfallen": "state_lapsed",
}
KIND_WORDS = {kind.value: f"kind_{kind.value}" for kind in StepKind}
# Today is drawn inside the axis when that keeps it at most this long; else at its edge.
MAX_SPAN = timedelta(weeks=60)
LABEL_LIMIT = 38
MARGINS = Margins(left=340, right=30, top=80, bottom=125, row=46)


@dataclass(frozen=True)
class StepMark:
    key: str
    label: str
    kind: str  # StepKind value
    due: date
    end: date | None  # a phase: the next step's date
    state: str  # Shown value
    pinned: bool
    at_council: bool
    holiday: str | None
    is_current: bool
    # A meeting's time and place as written beside it ("14:00–16:00, Ratssaal"), or "".
    meeting: str = ""


@dataclass(frozen=True)
class TimelineData:
    theme: str
    today: date
    steps: tuple[StepMark, ...]
    participation: tuple[date, date] | None
    holidays: tuple[tuple[date, str], ...]
    school_breaks: tuple[tuple[date, date, str], ...]
    council: tuple[date, ...]
    words: ChartWords
    # The states a reader is told of, as (state, word): empty for the internal picture
    # (every step state with the chat's words: offen, fällig, überfällig …); the public
    # page gives its phase words instead (abgeschlossen, aktuelle Phase, geplant), and
    # its legend then shows only those and what the picture draws.
    states: tuple[tuple[str, str], ...] = ()

    @property
    def public(self) -> bool:
        return bool(self.states)

    def state_word(self, state: str) -> str:
        return dict(self.states)[state] if self.states else self.words(STATE_WORDS[state])

    def legend_states(self) -> tuple[tuple[str, str], ...]:
        """(state, word) as the legend lists them."""
        if self.states:
            return self.states
        return tuple(
            (state, self.words(word))
            for state, word in STATE_WORDS.items()
            # A lapsed optional step is rare: its word joins the legend only when drawn.
            if state != "entfallen" or any(step.state == state for step in self.steps)
        )

    @property
    def first(self) -> date:
        return min(step.due for step in self.steps)

    @property
    def last(self) -> date:
        return max(step.end or step.due for step in self.steps)

    @property
    def before_today(self) -> StepMark | None:
        """The last step on or before today (today's line is drawn after it)."""
        return next((s for s in reversed(self.steps) if s.due <= self.today), None)

    @property
    def after_today(self) -> StepMark | None:
        """The first step after today (today's line is drawn before it)."""
        return next((s for s in self.steps if s.due > self.today), None)


# A place longer than this is cut beside the step (the picture has room for a few words).
PLACE_LIMIT = 30


def meeting_words(step: StepRecord) -> str:
    """A meeting's time and place, short enough to stand beside its mark."""
    when = meeting_time(step)
    parts = [format_time(when)] if when is not None else []
    if step.place:
        place = step.place
        parts.append(place if len(place) <= PLACE_LIMIT else place[: PLACE_LIMIT - 1] + "…")
    return ", ".join(parts)


def _end_of(position: int, progress: Sequence[StepStatus]) -> date | None:
    if progress[position].definition.kind != StepKind.phase or position + 1 >= len(progress):
        return None
    return progress[position + 1].due


def timeline_data(
    view: ThemeView,
    today: date,
    *,
    council: Iterable[date],
    calendar: WorkingCalendar,
    school: SchoolHolidays,
    words: ChartWords,
) -> TimelineData:
    """What the timeline of one theme shows (a theme with steps)."""
    meetings = sorted(set(council))
    progress = theme_progress(view.template, view.steps, today)
    steps = tuple(
        StepMark(
            key=status.key,
            label=status.definition.label,
            kind=status.definition.kind.value,
            due=status.due,
            end=_end_of(position, progress),
            state=status.shown.value,
            pinned=status.step.pinned,
            at_council=status.definition.snap == "council"
            and first_council_on_or_after(status.due, meetings) == status.due,
            holiday=calendar.holiday_name(status.due),
            is_current=status.is_current,
            meeting=meeting_words(status.step),
        )
        for position, status in enumerate(progress)
    )
    first, last = _axis_range(steps, today)
    return TimelineData(
        theme=view.theme.name,
        today=today,
        steps=steps,
        participation=_participation(view),
        holidays=public_holidays(calendar, first, last),
        school_breaks=school_breaks(school, first, last),
        council=tuple(day for day in meetings if first <= day <= last),
        words=words,
    )


def _participation(view: ThemeView) -> tuple[date, date] | None:
    found = participation_window(view)
    return None if found is None else (found.opens, found.closes)


def _axis_range(steps: Sequence[StepMark], today: date) -> tuple[date, date]:
    first = min(step.due for step in steps) - timedelta(days=7)
    last = max(step.end or step.due for step in steps) + timedelta(days=14)
    if max(last, today) - min(first, today) <= MAX_SPAN:
        first = min(first, today - timedelta(days=7))
        last = max(last, today + timedelta(days=7))
    return first, last


def draw_timeline(data: TimelineData) -> Figure:
    words = data.words
    rows = len(data.steps)
    figure, axes = rows_figure(MARGINS, rows)
    first, last = _axis_range(data.steps, data.today)
    axes.set_xlim(day_number(first), day_number(last))
    axes.set_ylim(-0.7, rows - 0.3)
    _calendar_shading(axes, data)
    _steps(axes, data, rows)
    _today(axes, data, first, last)
    _week_axis(axes, words, first, last)
    axes.set_yticks(
        [rows - 1 - i for i in range(rows)],
        [_row_label(step) for step in data.steps],
    )
    for tick, step in zip(axes.get_yticklabels(), data.steps, strict=True):
        if step.is_current:
            tick.set_fontweight("bold")
    axes.grid(axis="x", color="#DDDDDD", linewidth=0.6, zorder=0)
    axes.set_axisbelow(True)
    span = words(
        "timeline_range",
        first=words.week(data.first, with_year=True),
        last=words.week(data.last, with_year=True),
    )
    headline(figure, words("timeline_title", theme=data.theme), span)
    _legend(figure, data)
    return figure


def _row_label(step: StepMark) -> str:
    label = step.label if len(step.label) <= LABEL_LIMIT else step.label[: LABEL_LIMIT - 1] + "…"
    return f"{step.key}  {label}"


def _calendar_shading(axes: Axes, data: TimelineData) -> None:
    school_bands(axes, data.school_breaks, alpha=0.25)
    for day, _name in data.holidays:
        axes.axvspan(
            day_number(day),
            day_number(day + timedelta(days=1)),
            color=HOLIDAY_COLOUR,
            alpha=0.8,
            zorder=0,
            gid=f"holiday-{day.isoformat()}",
        )
    if data.participation is not None:
        opens, closes = data.participation
        axes.axvspan(
            day_number(opens),
            day_number(closes),
            facecolor=PARTICIPATION_COLOUR,
            alpha=0.18,
            zorder=0,
            gid="participation",
        )
        axes.text(
            (day_number(opens) + day_number(closes)) / 2,
            -0.55,
            data.words("participation"),
            ha="center",
            va="bottom",
            fontsize=9,
            color="#1F5F8B",
            gid="participation-label",
        )
    for day in data.council:
        axes.axvline(
            day_number(day),
            color=COUNCIL_COLOUR,
            linestyle="--",
            linewidth=1.2,
            gid=f"council-{day}",
        )
        axes.text(
            day_number(day),
            len(data.steps) - 0.35,
            " " + data.words("council"),
            color=COUNCIL_COLOUR,
            fontsize=8,
            va="top",
            ha="left",
        )


def _steps(axes: Axes, data: TimelineData, rows: int) -> None:
    words = data.words
    right_edge = axes.get_xlim()[1]
    left_edge = axes.get_xlim()[0]
    for position, step in enumerate(data.steps):
        y = rows - 1 - position
        colour = STATE_COLOURS[step.state]
        hatch = "//" if step.state in ("uebersprungen", "entfallen") else None
        if step.kind == "phase" and step.end is not None:
            axes.barh(
                y,
                day_number(step.end) - day_number(step.due),
                left=day_number(step.due),
                height=0.32,
                color=colour,
                alpha=0.35,
                hatch=hatch,
                edgecolor=colour,
                gid=f"bar-{step.key}",
            )
        elif step.kind == "continuous":
            axes.barh(
                y,
                right_edge - day_number(step.due),
                left=day_number(step.due),
                height=0.32,
                color=colour,
                alpha=0.2,
                hatch=hatch or "--",
                edgecolor=colour,
                gid=f"bar-{step.key}",
            )
        axes.plot(
            [day_number(step.due)],
            [y],
            marker=KIND_MARKERS[step.kind],
            markersize=13,
            fillstyle=STATE_FILL[step.state],
            color=colour,
            markerfacecoloralt="white",
            markeredgewidth=2.2 if not step.pinned else 3.2,
            markeredgecolor="black" if step.pinned else colour,
            linestyle="none",
            zorder=5,
            gid=f"step-{step.key}",
        )
        parts = [words.short_day(step.due), data.state_word(step.state)]
        if step.meeting:
            parts.insert(1, step.meeting)
        if step.pinned:
            parts.append(words("pinned"))
        if step.at_council:
            parts.append(words("council"))
        if step.holiday:
            parts.append(f"⚠ {step.holiday}")
        x = day_number(step.due)
        near_right = (x - left_edge) / (right_edge - left_edge) > 0.6
        axes.text(
            x + (-0.8 if near_right else 0.8),
            y + 0.22,
            " · ".join(parts),
            ha="right" if near_right else "left",
            va="bottom",
            fontsize=9,
            color="#222222",
            fontweight="bold" if step.is_current else "normal",
            gid=f"state-{step.key}",
        )


def _today(axes: Axes, data: TimelineData, first: date, last: date) -> None:
    words = data.words
    if first <= data.today <= last:
        x = day_number(data.today)
        axes.axvline(x, color=TODAY_COLOUR, linewidth=2, zorder=6, gid="today")
        axes.text(
            x,
            1.01,
            words("today", date=words.day(data.today)),
            transform=axes.get_xaxis_transform(),
            color=TODAY_COLOUR,
            ha="center",
            va="bottom",
            fontsize=9,
            fontweight="bold",
            gid="today-label",
        )
        return
    before = data.today < first
    axes.text(
        0.0 if before else 1.0,
        1.01,
        words("today_before" if before else "today_after", date=words.day(data.today)),
        transform=axes.transAxes,
        color=TODAY_COLOUR,
        ha="left" if before else "right",
        va="bottom",
        fontsize=9,
        fontweight="bold",
        gid="today-outside",
    )


def _week_axis(axes: Axes, words: ChartWords, first: date, last: date) -> None:
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    weeks = max(1, (last - monday).days // 7 + 1)
    every = max(1, ceil(weeks / 22))
    ticks, labels = [], []
    previous_year = None
    day = monday
    while day <= last:
        year = day.isocalendar().year
        label = words.week(day, with_year=year != previous_year)
        ticks.append(day_number(day))
        labels.append(f"{label}\n{words.short_day(day)}")
        previous_year = year
        day += timedelta(weeks=every)
    axes.set_xticks(ticks, labels, fontsize=7.5)


def _legend(figure: Figure, data: TimelineData) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    words = data.words
    drawn = {step.kind for step in data.steps}
    handles: list[Line2D | Patch] = [
        Line2D(
            [],
            [],
            marker=KIND_MARKERS[kind],
            color="#444444",
            linestyle="none",
            markersize=9,
            label=words(KIND_WORDS[kind]),
        )
        for kind in ("phase", "meeting", "deadline", "continuous")
        if not data.public or kind in drawn
    ]
    handles += [
        Line2D(
            [],
            [],
            marker="o",
            color=STATE_COLOURS[state],
            fillstyle=STATE_FILL[state],
            markerfacecoloralt="white",
            markeredgewidth=2,
            linestyle="none",
            markersize=9,
            label=word,
        )
        for state, word in data.legend_states()
    ]
    handles.append(
        Line2D([], [], color=TODAY_COLOUR, linewidth=2, label=words("today", date="").strip())
    )
    participation = Patch(facecolor=PARTICIPATION_COLOUR, alpha=0.3, label=words("participation"))
    school = Patch(facecolor=SCHOOL_COLOUR, alpha=0.4, hatch="..", label=words("school_break"))
    council = Line2D([], [], color=COUNCIL_COLOUR, linestyle="--", label=words("council"))
    marks = (
        (data.participation, participation),
        (data.holidays, Patch(facecolor=HOLIDAY_COLOUR, label=words("holiday"))),
        (data.school_breaks, school),
        (data.council, council),
    )
    # The public picture names only what it draws; the internal one keeps its full key.
    handles += [handle for shown, handle in marks if shown or not data.public]
    bottom_legend(figure, handles, columns=7)
