"""Pictures that go out with a reply (shared by `zeitplan`, `jahresplan`, `auswertung`):
drawn by bot.charts in the command's worker thread, never on the event loop,
with the alt text rendered from `chart_alt.j2`."""

from __future__ import annotations

import re

from bot.charts import ChartWords, Picture
from bot.charts.drawing import Drawer
from bot.command import Services
from bot.domain.theme_names import fold
from bot.rendering import Attachment, Thumbnail, shorten

# An alt text says what the picture shows; beyond this it is a text answer, not a caption.
ALT_LIMIT = 2000


def chart_words(services: Services) -> ChartWords:
    return ChartWords.of(services.renderer.words("chart_words"))


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(name)).strip("-")[:40] or "thema"


def picture(services: Services, draw: Drawer, data: object, *, filename: str) -> Attachment:
    """The chart as a PNG attachment; `data` is also the alt text's context (`d`)."""
    drawn: Picture = services.charts.png(draw, data)
    block = draw.__name__.removeprefix("draw_")
    alt = services.renderer.sentence("chart_alt", block, d=data).body
    thumbnail = drawn.thumbnail
    return Attachment(
        filename=filename,
        mimetype="image/png",
        data=drawn.png,
        width=drawn.width,
        height=drawn.height,
        alt=shorten(alt, ALT_LIMIT),
        thumbnail=(
            Thumbnail(thumbnail.png, "image/png", thumbnail.width, thumbnail.height)
            if thumbnail is not None
            else None
        ),
    )
