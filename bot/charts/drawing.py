"""What every chart shares: the words, the colours, the canvas, PNG/SVG output, the cache.

Only matplotlib's object API is used (no pyplot): pyplot keeps global figures, the
object API keeps everything on the figure, so pictures can be drawn in the worker
threads commands run in. Drawing holds the renderer's lock anyway: matplotlib's text
and font caches are not documented as thread-safe.
"""

from __future__ import annotations

import hashlib
import io
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # matplotlib and Pillow are imported where a picture is drawn (see
    # `new_figure`): a bot that draws nothing never loads them (~40 MiB, ~1 s at start).
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from PIL import Image

    from bot.charts.worker import PictureWorker

# Every picture is this many pixels wide; the height follows the content.
WIDTH_PX = 1200
DPI = 100
# Synapse's largest default thumbnail is 800×600 ("scale"); a picture larger than that
# gets a thumbnail of its own, so that clients need not scale the full picture (and in
# encrypted rooms the homeserver cannot make one).
THUMBNAIL_BOX = (800, 600)
# Pictures drawn and kept, by content.
CACHE_SIZE = 32

# Okabe–Ito: told apart by people with every common colour-vision deficiency; each
# state also has its own marker fill and its word, so greyscale loses nothing.
STATE_COLOURS: Mapping[str, str] = {
    "offen": "#0072B2",
    "faellig": "#E69F00",
    "ueberfaellig": "#D55E00",
    "erledigt": "#009E73",
    "uebersprungen": "#7F7F7F",
    "entfallen": "#7F7F7F",
}
STATE_FILL: Mapping[str, str] = {
    "offen": "none",
    "faellig": "bottom",
    "ueberfaellig": "full",
    "erledigt": "full",
    "uebersprungen": "none",
    "entfallen": "none",
}
TODAY_COLOUR = "#CC0000"
COUNCIL_COLOUR = "#6A3D9A"
PARTICIPATION_COLOUR = "#56B4E9"
HOLIDAY_COLOUR = "#BBBBBB"
SCHOOL_COLOUR = "#F0E442"
CONFLICT_COLOUR = "#D55E00"
# Answers of a scale, best to worst: a sequential ramp that stays ordered in greyscale.
ANSWER_COLOURS = ("#1A6B3C", "#4DAF7C", "#C9C9C9", "#E08A3C", "#A8431A")
OTHER_ANSWER_COLOURS = ("#0072B2", "#E69F00", "#56B4E9", "#CC79A7", "#009E73", "#F0E442")

FONT = {"font.family": "DejaVu Sans", "font.size": 10, "svg.fonttype": "none"}


@dataclass(frozen=True)
class ChartWords:
    """The words drawn into a picture, from the templates (`chart_words.j2`) of the
    bot's language; a frozen tuple, so that a chart's data can be a cache key."""

    items: tuple[tuple[str, str], ...]

    @classmethod
    def of(cls, words: Mapping[str, str]) -> ChartWords:
        return cls(tuple(sorted(words.items())))

    def __call__(self, key: str, /, **values: object) -> str:
        text = dict(self.items)[key]
        return text.format(**values) if values else text

    def number(self, value: float) -> str:
        """One decimal, with the language's decimal point."""
        return f"{value:.1f}".replace(".", self("decimal_point"))

    def day(self, day: date) -> str:
        return day.strftime("%d.%m.%Y")

    def short_day(self, day: date) -> str:
        return day.strftime("%d.%m.")

    def week(self, day: date, *, with_year: bool = False) -> str:
        iso = day.isocalendar()
        if with_year:
            return self("week_year", week=iso.week, year=iso.year)
        return self("week", week=iso.week)


@dataclass(frozen=True)
class Picture:
    """A PNG with its size, and an optional thumbnail (also PNG)."""

    png: bytes
    width: int
    height: int
    thumbnail: Picture | None = None


def new_figure(height_px: int) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(WIDTH_PX / DPI, height_px / DPI), dpi=DPI)


@dataclass(frozen=True)
class Margins:
    """A picture of rows: its margins in pixels and the height of one row."""

    left: int
    right: int
    top: int
    bottom: int
    row: int


def rows_figure(margins: Margins, rows: int) -> tuple[Figure, Axes]:
    """A picture as tall as its rows need, and the axes for the rows inside its margins."""
    height = margins.top + margins.bottom + margins.row * rows
    figure = new_figure(height)
    axes = figure.add_axes(
        (
            margins.left / WIDTH_PX,
            margins.bottom / height,
            1 - (margins.left + margins.right) / WIDTH_PX,
            margins.row * rows / height,
        )
    )
    return figure, axes


def day_number(day: date) -> float:
    """A date as matplotlib's x coordinate."""
    from matplotlib import dates as mdates

    return float(mdates.date2num(day))


def band(axes: Axes, first: date, after: date, colour: str, hatch: str, **style: Any) -> None:
    """A hatched band over days [first, after): hatched so that it shows in greyscale."""
    axes.axvspan(
        day_number(first),
        day_number(after),
        facecolor=colour,
        hatch=hatch,
        linewidth=0,
        **{"alpha": 0.3, "zorder": 0, **style},
    )


def school_bands(axes: Axes, breaks: tuple[tuple[date, date, str], ...], alpha: float) -> None:
    for number, (first, last, _name) in enumerate(breaks):
        band(
            axes,
            first,
            last + timedelta(days=1),
            SCHOOL_COLOUR,
            "..",
            edgecolor="#B8A800",
            alpha=alpha,
            gid=f"school-{number}",
        )


def headline(figure: Figure, title: str, subtitle: str | None = None) -> None:
    """The title (and a grey line under it) at the picture's top left."""
    height = figure.get_size_inches()[1] * DPI
    figure.text(
        10 / WIDTH_PX, 1 - 12 / height, title, fontsize=15, fontweight="bold", va="top", gid="title"
    )
    if subtitle:
        figure.text(
            10 / WIDTH_PX, 1 - 40 / height, subtitle, fontsize=10, va="top", color="#444444"
        )


def bottom_legend(figure: Figure, handles: list[Artist], columns: int) -> None:
    """The legend along the picture's bottom edge."""
    figure.legend(
        handles=handles,
        loc="lower center",
        ncol=columns,
        fontsize=8,
        frameon=False,
        bbox_to_anchor=(0.5, 4 / (figure.get_size_inches()[1] * DPI)),
    )


def rendered(figure: Figure) -> Image.Image:
    """The figure drawn by Agg at its stated size (no "tight" box: the size is the size)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas = FigureCanvasAgg(figure)
    canvas.draw()
    width, height = canvas.get_width_height()
    return Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)


def palette_png(image: Image.Image) -> bytes:
    """A PNG with a palette of at most 256 colours: a chart has few colours, and the file
    is a quarter of a full-colour one (the 300 KB budget of a chat picture). The fast
    octree keeps the whole step well under 0.1 s for the tallest picture."""
    from PIL import Image

    quantized = image.convert("RGB").quantize(colors=256, method=Image.Quantize.FASTOCTREE)
    out = io.BytesIO()
    quantized.save(out, format="PNG")
    return out.getvalue()


def svg_text(figure: Figure) -> str:
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(figure)
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", dpi=DPI, metadata={"Date": None})
    return buffer.getvalue()


def thumbnail_of(image: Image.Image, box: tuple[int, int] = THUMBNAIL_BOX) -> Picture | None:
    """A scaled-down copy that fits `box`; None when the picture fits already."""
    if image.width <= box[0] and image.height <= box[1]:
        return None
    from PIL import Image

    small = image.convert("RGB")
    small.thumbnail(box, Image.Resampling.LANCZOS)
    return Picture(palette_png(small), small.width, small.height)


def picture_of(figure: Figure) -> Picture:
    image = rendered(figure)
    return Picture(palette_png(image), image.width, image.height, thumbnail_of(image))


Drawer = Callable[[Any], "Figure"]


class Charts:
    """Draws pictures and keeps the last CACHE_SIZE of them, keyed by their content.

    The data a drawer takes is a frozen dataclass (words and `today` included), so
    equal content is an equal key. One lock: one drawing at a time, and the cache
    stays consistent across the worker threads commands run in.
    """

    def __init__(self, size: int = CACHE_SIZE, worker: PictureWorker | None = None) -> None:
        self._size = size
        self._cache: OrderedDict[str, Picture] = OrderedDict()
        self._lock = threading.Lock()
        # None: drawn in this process (tests, tools); the bot draws in a worker process.
        self._worker = worker
        self.drawn = 0  # pictures actually drawn (the rest came from the cache)

    def png(self, draw: Drawer, data: object) -> Picture:
        key = content_key(draw, data)
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
            if self._worker is not None:
                picture = self._worker.draw(draw, data)
            else:
                picture = draw_picture(draw, data)
            self.drawn += 1
            self._cache[key] = picture
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
            return picture

    def close(self) -> None:
        """End the worker process, if there is one."""
        if self._worker is not None:
            self._worker.close()

    def svg(self, draw: Drawer, data: object) -> str:
        """The same figure as SVG (texts kept as text), for tests; never cached."""
        import matplotlib

        with self._lock, matplotlib.rc_context(FONT):
            return svg_text(draw(data))


def draw_picture(draw: Drawer, data: object) -> Picture:
    """The picture, drawn here (in the bot's worker process, or in a test)."""
    import matplotlib

    with matplotlib.rc_context(FONT):
        return picture_of(draw(data))


def content_key(draw: Drawer, data: object) -> str:
    """What is drawn, as a short hash: the drawer and the complete data it draws."""
    return hashlib.sha256(f"{draw.__module__}.{draw.__qualname__}:{data!r}".encode()).hexdigest()
