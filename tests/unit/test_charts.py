"""The pictures show what they should: every step's label, date and state, today's line
between the right steps, Z2 and ideas in the year plan, "zu wenige Antworten" where too few
answered, nothing drawn outside the canvas; PNGs that decode, of the stated size, within
300 KB, and drawn once for the same content.

Checked on the figure's objects (positions, markers, colours) and on the same figure as
SVG (texts stay text there: `svg.fonttype = none`)."""

from __future__ import annotations

import io
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import replace
from datetime import date

import matplotlib
import pytest
from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from PIL import Image

from bot.charts import Charts
from bot.charts.drawing import FONT, STATE_COLOURS, STATE_FILL, THUMBNAIL_BOX
from bot.charts.results import draw_comparison, draw_results
from bot.charts.timeline import KIND_MARKERS, draw_timeline
from bot.charts.year_plan import draw_year_plan
from tests import chart_samples as samples

MAX_BYTES = 300 * 1024
SVG = "{http://www.w3.org/2000/svg}"


def drawn(draw, data) -> Figure:  # type: ignore[no-untyped-def]
    with matplotlib.rc_context(FONT):
        figure = draw(data)
        FigureCanvasAgg(figure).draw()
    return figure


def svg_texts(draw, data) -> list[str]:  # type: ignore[no-untyped-def]
    root = ET.fromstring(Charts().svg(draw, data))
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def by_gid(figure: Figure, gid: str) -> list:
    return [artist for artist in figure.findobj() if artist.get_gid() == gid]


def visible_texts(figure: Figure) -> Iterator[Text]:
    for artist in figure.findobj(Text):
        if artist.get_visible() and artist.get_text().strip():
            yield artist


def assert_inside_canvas(figure: Figure) -> None:
    """Every text, marker, legend and axes lies within the picture (1 px tolerance)."""
    renderer = figure.canvas.get_renderer()  # type: ignore[attr-defined]
    width, height = figure.get_size_inches() * figure.dpi
    artists = [*visible_texts(figure), *figure.axes, *figure.legends]
    artists += [line for line in figure.findobj(Line2D) if line.get_marker() not in ("None", "")]
    assert artists
    for artist in artists:
        box = artist.get_window_extent(renderer)
        if box.width == 0 and box.height == 0:
            continue  # an empty legend handle
        assert box.x0 >= -1 and box.y0 >= -1, (artist, box)
        assert box.x1 <= width + 1 and box.y1 <= height + 1, (artist, box)


def decoded(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


# --- the timeline ----------------------------------------------------------------------


def test_the_timeline_shows_every_steps_label_date_and_state() -> None:
    data = samples.timeline()
    texts = svg_texts(draw_timeline, data)
    joined = "\n".join(texts)
    assert "Zeitplan „Digitale Ethik“" in texts
    words = {"offen": "offen", "erledigt": "erledigt", "faellig": "fällig"}
    for step in data.steps:
        assert f"{step.key}  {step.label}" in texts, step.key
        state_line = next(t for t in texts if t.startswith(step.due.strftime("%d.%m.") + " · "))
        assert words[step.state] in state_line, (step.key, state_line)
    # Step 5 is pinned, step 6 sits on the council meeting, 3a on Easter Monday.
    assert any(t.startswith("26.04. · offen · fest") for t in texts)
    assert any(t.startswith("20.05. · offen · Ratssitzung") for t in texts)
    assert "⚠ Ostermontag" in joined
    assert "KW 15" in texts and "12.04." in texts  # Z2's week on the week axis
    assert "heute 18.03.2027" in texts
    assert "digitale Beteiligung" in texts


def test_each_step_is_marked_by_kind_and_state_by_colour_and_fill() -> None:
    view = samples.theme_view(states={"1": "done", "5": "skipped"})
    # Monday 29.03.: step 3 (22.03.) is overdue, 3a (29.03.) due, 4 onwards open.
    data = samples.timeline(view, today=date(2027, 3, 29))
    figure = drawn(draw_timeline, data)
    seen = set()
    for step in data.steps:
        (marker,) = by_gid(figure, f"step-{step.key}")
        assert marker.get_marker() == KIND_MARKERS[step.kind]
        assert marker.get_color() == STATE_COLOURS[step.state]
        assert marker.get_fillstyle() == STATE_FILL[step.state]
        seen.add(step.state)
        assert marker.get_xdata()[0] == mdates.date2num(step.due)
    assert {"erledigt", "uebersprungen", "ueberfaellig", "faellig", "offen"} <= seen
    # Told apart without colour too (greyscale, colour blindness): fill style and word.
    pairs = {(STATE_FILL[s], s) for s in STATE_FILL}
    assert len({fill for fill, _ in pairs}) >= 3


def test_todays_line_sits_between_the_right_steps() -> None:
    data = samples.timeline()
    assert (data.before_today.key, data.after_today.key) == ("2", "3")
    figure = drawn(draw_timeline, data)
    (today,) = by_gid(figure, "today")
    x = today.get_xdata()[0]
    assert x == mdates.date2num(date(2027, 3, 18))
    (before,) = by_gid(figure, "step-2")
    (after,) = by_gid(figure, "step-3")
    assert before.get_xdata()[0] < x < after.get_xdata()[0]
    for step in data.steps:  # every other step on its side of the line
        (marker,) = by_gid(figure, f"step-{step.key}")
        assert (marker.get_xdata()[0] <= x) == (step.due <= data.today), step.key


def test_today_far_away_is_named_at_the_edge_not_drawn_off_the_axis() -> None:
    data = samples.timeline(today=date(2025, 6, 2))
    figure = drawn(draw_timeline, data)
    assert not by_gid(figure, "today")
    (label,) = by_gid(figure, "today-outside")
    assert label.get_text() == "← heute: 02.06.2025"
    assert_inside_canvas(figure)


def test_holidays_school_holidays_participation_and_council_are_marked() -> None:
    figure = drawn(draw_timeline, samples.timeline())
    assert by_gid(figure, "holiday-2027-03-29")  # Ostermontag
    assert by_gid(figure, "holiday-2027-05-27")  # Fronleichnam
    assert by_gid(figure, "school-0")  # Osterferien NRW 22.03.–03.04.2027
    assert by_gid(figure, "participation")
    assert by_gid(figure, "council-2027-05-20")
    (pinned,) = by_gid(figure, "step-5")
    assert pinned.get_markeredgecolor() == "black"


def test_nothing_of_the_timeline_is_outside_the_canvas() -> None:
    for today in (date(2027, 1, 20), date(2027, 3, 18), date(2027, 6, 20)):
        assert_inside_canvas(drawn(draw_timeline, samples.timeline(today=today)))
    long_name = samples.theme_view("Ein sehr langer Themenname " * 3, states={"1": "done"})
    assert_inside_canvas(drawn(draw_timeline, samples.timeline(long_name)))


def test_the_timeline_png_decodes_at_its_stated_size_within_budget() -> None:
    picture = Charts().png(draw_timeline, samples.timeline())
    image = decoded(picture.png)
    assert image.format == "PNG"
    assert image.size == (picture.width, picture.height) == (1200, picture.height)
    assert len(picture.png) <= MAX_BYTES
    assert picture.thumbnail is not None
    thumbnail = decoded(picture.thumbnail.png)
    assert thumbnail.size == (picture.thumbnail.width, picture.thumbnail.height)
    assert thumbnail.width <= THUMBNAIL_BOX[0] and thumbnail.height <= THUMBNAIL_BOX[1]


def test_the_timeline_speaks_english_with_english_words() -> None:
    texts = svg_texts(draw_timeline, samples.timeline(language="en"))
    assert "Timeline “Digitale Ethik”" in texts
    assert any(t.startswith("15.03. · done") for t in texts)
    assert "today 18.03.2027" in texts
    assert not any("erledigt" in t or "heute" in t for t in texts)


# --- the year plan ---------------------------------------------------------------------


def test_the_year_plan_shows_every_theme_by_quarter_with_its_z2() -> None:
    data = samples.year_plan()
    figure = drawn(draw_year_plan, data)
    texts = svg_texts(draw_year_plan, data)
    for quarter in ("Q1", "Q2", "Q3", "Q4"):
        assert quarter in texts
    for row, theme in enumerate(data.themes):
        (star,) = by_gid(figure, f"z2-{row}")
        assert star.get_xdata()[0] == mdates.date2num(theme.z2)
        assert star.get_ydata()[0] == row
        assert any(text.startswith(theme.name[:20]) for text in texts), theme.name
    assert len(data.themes) + len(data.ideas) == 60


def test_ideas_are_shown_apart_below_the_themes() -> None:
    data = samples.year_plan()
    figure = drawn(draw_year_plan, data)
    (header,) = by_gid(figure, "ideas-header")
    assert header.get_text() == "Ideen (noch ohne Z2)"
    assert header.get_position()[1] == len(data.themes)  # below the last theme's line
    for number, idea in enumerate(data.ideas):
        (bar,) = by_gid(figure, f"idea-{number}")
        first = date(data.year, 3 * idea.quarter - 2, 1)
        assert bar.get_x() == mdates.date2num(first)
        assert bar.get_y() + bar.get_height() / 2 > len(data.themes)


def test_weeks_with_two_z2_and_school_holidays_are_visible() -> None:
    views = [
        samples.theme_view("Mobilität", date(2027, 4, 12), theme_id=1),
        samples.theme_view("Klima", date(2027, 4, 14), theme_id=2),
        samples.theme_view("Wasser", date(2027, 9, 6), theme_id=3),
    ]
    data = samples.year_plan(views)
    assert data.conflicts == ((date(2027, 4, 12), ("Mobilität", "Klima")),)
    figure = drawn(draw_year_plan, data)
    (band,) = by_gid(figure, "conflict-2027-04-12")
    assert band.get_hatch() == "xx"
    assert "2× Z2 in KW 15" in svg_texts(draw_year_plan, data)
    assert by_gid(figure, "school-0")
    assert_inside_canvas(figure)


def test_nothing_of_the_year_plan_is_outside_the_canvas_and_it_fits_the_budget() -> None:
    data = samples.year_plan()
    assert_inside_canvas(drawn(draw_year_plan, data))
    picture = Charts().png(draw_year_plan, data)
    assert decoded(picture.png).size == (picture.width, picture.height)
    assert len(picture.png) <= MAX_BYTES


# --- results ---------------------------------------------------------------------------


def test_results_show_the_distribution_or_too_few_answers() -> None:
    data = samples.results()
    figure = drawn(draw_results, data)
    texts = svg_texts(draw_results, data)
    for question in data.questions:
        bars = by_gid(figure, f"bars-{question.key}")
        if question.too_few:
            assert not bars
            (note,) = by_gid(figure, f"too-few-{question.key}")
            assert note.get_text() == "zu wenige Antworten (2 von mindestens 3)"
            continue
        heights = [patch.get_height() for patch in bars]
        assert heights == [count for _, count in question.distribution]
        for answer, _ in question.distribution:
            assert any(answer.split()[0] in text for text in texts), answer
    assert sum(q.too_few for q in data.questions) == 1
    assert any("Mittelwert" in text and "," in text for text in texts)
    assert_inside_canvas(figure)


def test_the_comparison_has_a_bar_per_theme_and_question() -> None:
    data = samples.comparison()
    figure = drawn(draw_comparison, data)
    for key, _text, per_theme in data.questions:
        for row, (_name, result) in enumerate(per_theme):
            shares = [
                a for a in figure.findobj() if str(a.get_gid()).startswith(f"share-{key}-{row}-")
            ]
            if result is None or result.too_few:
                assert not shares
                assert by_gid(figure, f"too-few-{key}-{row}")
            else:
                assert round(sum(patch.get_width() for patch in shares)) == 100
    texts = svg_texts(draw_comparison, data)
    assert "Regenwasserbewirtschaftung" in texts
    assert_inside_canvas(figure)


# --- output and cache ------------------------------------------------------------------


def test_identical_content_is_drawn_once_and_the_cache_is_bounded() -> None:
    charts = Charts(size=2)
    first = charts.png(draw_timeline, samples.timeline())
    again = charts.png(draw_timeline, samples.timeline())
    assert again is first and charts.drawn == 1
    moved = samples.timeline(today=date(2027, 3, 19))
    assert charts.png(draw_timeline, moved).png != first.png
    assert charts.drawn == 2
    charts.png(draw_results, samples.results())
    charts.png(draw_timeline, samples.timeline())  # pushed out by the two after it
    assert charts.drawn == 4


def test_the_same_content_gives_the_same_bytes() -> None:
    assert Charts().png(draw_results, samples.results()).png == (
        Charts().png(draw_results, replace(samples.results())).png
    )


@pytest.mark.parametrize("draw", [draw_timeline, draw_results])
def test_an_svg_is_stated_in_the_same_size(draw) -> None:  # type: ignore[no-untyped-def]
    data = samples.timeline() if draw is draw_timeline else samples.results()
    root = ET.fromstring(Charts().svg(draw, data))
    png = Charts().png(draw, data)
    assert root.get("width") == f"{png.width * 72 / 100:g}pt"


def test_the_bot_starts_without_the_drawing_libraries() -> None:
    """matplotlib and Pillow load with the first picture, not at start (issue 15: RSS and
    start time of a bot that may never draw)."""
    code = (
        "import sys, bot.app, bot.cli; "
        "print(sorted(m for m in ('matplotlib', 'PIL', 'numpy') if m in sys.modules))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert found == "[]"
