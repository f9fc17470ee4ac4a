"""Rendering: every user-facing sentence comes from a Jinja2 template in templates/<lang>/.

A template has a `text` block (the plain `body`) and an `html` block (`formatted_body`).
The blocks are rendered on their own, so a template's own top-level macros are not
visible to them: macros shared by both blocks live in `_words.j2`, reachable as `w.*`.
The html block is rendered with autoescape on, so user text that reaches
`formatted_body` is always escaped; the text block is rendered without it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from functools import cache, cached_property
from importlib import resources
from pathlib import Path

from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined
from markupsafe import escape

from bot.domain.dates import format_date, format_week
from bot.domain.file_problems import FileError
from bot.domain.process import Lead

# The Matrix limit is 65,536 bytes for the whole event. In an encrypted room the event
# holds the content as Megolm ciphertext in base64, a third longer than the content
# (45,000 bytes of content are an m.room.encrypted of 60,553): what fits there, with
# room for the event's envelope, fits everywhere.
MAX_CONTENT_BYTES = 45_000
ECHO_LIMIT = 80


@dataclass(frozen=True)
class Thumbnail:
    """A smaller copy of a picture, for clients that show a preview first."""

    data: bytes
    mimetype: str
    width: int
    height: int


@dataclass(frozen=True)
class Attachment:
    """A file that goes out with a reply: the calendar export, or a picture (a chart).

    A picture has its pixel size and an alt text that says in words what it shows (the
    event's `body`: screen readers and notifications read it); it may carry a thumbnail.
    """

    filename: str
    mimetype: str
    data: bytes
    width: int | None = None
    height: int | None = None
    alt: str = ""
    thumbnail: Thumbnail | None = None

    @property
    def is_image(self) -> bool:
        return self.width is not None and self.height is not None


@dataclass(frozen=True)
class Message:
    body: str
    html: str
    mentions: tuple[str, ...] = field(default=())
    attachment: Attachment | None = None

    def with_attachment(self, attachment: Attachment) -> Message:
        return Message(self.body, self.html, self.mentions, attachment)


def join_messages(first: Message, *more: Message) -> Message:
    """Answers to one command as one message (e.g. a moved date and a meeting's time)."""
    parts = (first, *more)
    return Message(
        "\n".join(part.body for part in parts),
        "\n".join(part.html for part in parts),
        tuple(dict.fromkeys(mention for part in parts for mention in part.mentions)),
        next((part.attachment for part in parts if part.attachment is not None), None),
    )


def templates_dir() -> Path:
    """Inside the wheel the templates ship in the package; in a checkout they are top-level."""
    packaged = resources.files("bot") / "templates"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parent.parent / "templates"


def shorten(text: object, limit: int = ECHO_LIMIT) -> str:
    """Echoed user text is cut short, so an answer never grows with the input."""
    printable = "".join(ch for ch in str(text) if ch.isprintable() or ch.isspace())
    value = " ".join(printable.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


def _as_date_text(value: date | str) -> str:
    """DD.MM.YYYY for a date, or for an ISO date kept as text (history details)."""
    return format_date(date.fromisoformat(value) if isinstance(value, str) else value)


def _size(count: int, small: str, point: str) -> str:
    """A byte count as people read it: "5 MB", "1,5 kB"; below a kilobyte "300 <small>"."""
    for unit, factor in (("GB", 10**9), ("MB", 10**6), ("kB", 10**3)):
        if count >= factor:
            return f"{count / factor:.3g} {unit}".replace(".", point)
    return f"{count} {small}"


# The decimal separator by language: German writes 4,2.
DECIMAL_POINT = {"de": ",", "en": "."}


def _environment(directories: list[Path], autoescape: bool, language: str = "de") -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(str(d)) for d in directories]),
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        undefined=StrictUndefined,
        # The templates ship with the bot and do not change while it runs: no stat() of
        # each template file per answer to see whether it did.
        auto_reload=False,
    )
    env.filters["datum"] = _as_date_text
    env.filters["kw"] = format_week
    env.filters["kw_jahr"] = lambda d: format_week(d, with_year=True)
    env.filters["kurz"] = shorten
    env.filters["pad"] = lambda value, width: str(value).ljust(width)
    point = DECIMAL_POINT.get(language, ".")
    env.filters["zahl"] = lambda value, digits=1: f"{value:.{digits}f}".replace(".", point)
    env.filters["zahl_g"] = lambda value: f"{value:g}".replace(".", point)
    env.filters["groesse"] = lambda count, small: _size(count, small, point)
    # Shared words (leads, states, relative days) as macros every template can call as w.*.
    # Macros that write links in HTML and plain names in text (`w.people`) ask this.
    env.globals["markup"] = autoescape
    env.globals["w"] = env.get_template("_words.j2").module
    return env


class Renderer:
    def __init__(self, language: str = "de", directory: Path | None = None) -> None:
        base = directory or templates_dir()
        # A sentence missing in the chosen language falls back to German, never to nothing.
        directories = [base / language, base / "de"] if language != "de" else [base / "de"]
        self._text = _environment(directories, autoescape=False, language=language)
        self._html = _environment(directories, autoescape=True, language=language)
        self.language = language
        # What a message cut to the event limit ends with ("(gekürzt)"), from _words.j2.
        self._cut = str(self._text.globals["w"].cut()).strip()

    def _block(self, env: Environment, name: str, block: str, context: dict, /) -> str:
        template = env.get_template(f"{name}.j2")
        render = template.blocks[block]
        return "".join(render(template.new_context(context))).strip()

    def message(self, name: str, /, **context: object) -> Message:
        text = self._block(self._text, name, "text", context)
        html = self._block(self._html, name, "html", context)
        return fit_to_limit(Message(text, html), self._cut)

    def sentence(self, name: str, block: str, /, **context: object) -> Message:
        """One short sentence from a collection template (errors.j2, words.j2)."""
        text = self._block(self._text, name, block, context)
        return fit_to_limit(Message(text, _as_html(text)), self._cut)

    def document(self, name: str, block: str, /, *, html: bool, **context: object) -> str:
        """A whole document (the year report): one block of `name`, rendered with
        autoescape for HTML, without for text formats (Markdown)."""
        return self._block(self._html if html else self._text, name, block, context) + "\n"

    def page(self, name: str, /, **context: object) -> str:
        """A whole HTML page (the public page, `public/<name>.j2`), autoescaped."""
        return self._html.get_template(f"{name}.j2").render(context) + "\n"

    def lead_names(self) -> dict[str, str]:
        """The leads as people call them (`_words.j2`), for texts built outside templates."""
        words = self._text.globals["w"]
        return {lead.value: str(words.lead(lead.value)).strip() for lead in Lead}

    @cached_property
    def argument_labels(self) -> dict[str, str]:
        """How usage lines name arguments and verbs (`arguments.j2`), read once."""
        return self.words("arguments")

    def words(self, name: str, /) -> dict[str, str]:
        """Every block of a word list (e.g. `chart_words.j2`) by name, for texts drawn
        outside templates (pictures); a block may hold `{placeholders}` for str.format."""
        template = self._text.get_template(f"{name}.j2")
        return {block: self._block(self._text, name, block, {}) for block in template.blocks}

    def error(self, code: str, /, **context: object) -> Message:
        return self.sentence("errors", code, **context)


def content_size(message: Message) -> int:
    content = {"msgtype": "m.notice", "body": message.body, "formatted_body": message.html}
    return len(json.dumps(content, ensure_ascii=False).encode("utf-8"))


def _as_html(text: str) -> str:
    return str(escape(text)).replace("\n", "<br>")


def fit_to_limit(message: Message, cut: str, limit: int = MAX_CONTENT_BYTES) -> Message:
    """Never over the event limit: cut the text until body and escaped HTML fit, saying so
    with `cut` (the language's "(gekürzt)")."""
    if content_size(message) <= limit:
        return message
    body = message.body
    while body:
        body = body[: len(body) // 2]
        shortened = Message(f"{body}\n… {cut}", _as_html(f"{body}\n… {cut}"))
        if content_size(shortened) <= limit:
            return Message(shortened.body, shortened.html, message.mentions)
    return Message(f"… {cut}", f"… {cut}", message.mentions)


@cache
def shared_renderer(language: str = "de") -> Renderer:
    """One renderer per language, built once: for logs, the command line and callers
    without the bot's renderer at hand (German, the bot's default, unless told)."""
    return Renderer(language)


def describe_file_error(error: FileError, renderer: Renderer | None = None) -> str:
    """A process or questionnaire file's problems in words (templates/<lang>/toml_file.j2),
    one line each, e.g. `prozess.toml (Zeile 44): steps[1]: Schlüssel '1' ist doppelt`."""
    words = renderer or shared_renderer()
    lines = []
    for problem in error.problems:
        message = words.sentence("toml_file", problem.code, **problem.values).body
        where = {"source": problem.source, "line": problem.line, "where": problem.where}
        lines.append(words.sentence("toml_file", "problem", message=message, **where).body)
    return "\n".join(lines)
