"""Documents on a theme's steps (`!zt dokument`): links to what a step produced, such as
the Thesenpapier of step 3 or the Fotoprotokoll of Z2. Pure: text in, a checked link or
a DocumentError out.

Only links a reader can follow safely are kept: `http(s)` with a host, Matrix links
(`matrix:r/…`, `matrix:u/…`) and Matrix media (`mxc://server/id`). Anything else
(`javascript:`, `file:`, `data:` …) is refused, so that nothing a member writes becomes a
link that runs or reads something on another member's machine. Titles are plain text;
the templates escape both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

# A stored link and title are at most this long (a longer one is refused, not cut).
MAX_URL_LENGTH = 1000
MAX_TITLE_LENGTH = 200
# Documents per step: a step's results are a few files, not a library.
MAX_PER_STEP = 20
ALLOWED_SCHEMES = ("http", "https", "matrix", "mxc")
# What a link may not contain: blanks, quotes, angle brackets, backslashes, control
# characters (a link is one word, and none of these belong in one).
_FORBIDDEN = re.compile(r'[\s"<>\\`\x00-\x1f\x7f]')
# Links inside a note (`erledigt … Fotoprotokoll https://…`): one word each.
_IN_NOTE = re.compile(r"(?:(?<=[\s(\[„“\"'])|^)(?:https?://|mxc://|matrix:)\S+", re.IGNORECASE)
# Punctuation that ends a sentence after a link, not the link.
_TRAILING = ".,;:!?)]}»“\"'"


class DocumentError(ValueError):
    """Why a link is refused; `code` selects the German explanation."""

    def __init__(self, code: str, text: str = "") -> None:
        super().__init__(code, text)
        self.code = code
        self.text = text


@dataclass(frozen=True)
class StepDocument:
    """A link on a step, as stored."""

    theme_id: int
    step_key: str
    url: str
    title: str | None
    added_by: str
    added_at: datetime
    id: int | None = None

    @property
    def label(self) -> str:
        """What a list shows: the title, or the link itself."""
        return self.title or self.url


def looks_like_link(word: str) -> bool:
    """Whether a word is meant as a link (then it is checked, and maybe refused)."""
    return bool(re.match(r"[a-z][a-z0-9+.-]*:", word, re.IGNORECASE))


def check_link(text: str) -> str:
    """The link as stored, or a DocumentError: `link_too_long`, `link_scheme` (not one
    of the allowed kinds), `link_invalid` (no host, blanks, quotes …)."""
    link = text.strip()
    if len(link) > MAX_URL_LENGTH:
        raise DocumentError("link_too_long", link[:80])
    if not looks_like_link(link):
        raise DocumentError("link_invalid", link)
    scheme = link.split(":", 1)[0].lower()
    if scheme not in ALLOWED_SCHEMES:
        raise DocumentError("link_scheme", link)
    if _FORBIDDEN.search(link):
        raise DocumentError("link_invalid", link)
    parts = urlsplit(link)
    if scheme in ("http", "https", "mxc") and (not parts.netloc or not parts.hostname):
        raise DocumentError("link_invalid", link)
    if scheme == "mxc" and len(parts.path.strip("/")) == 0:
        raise DocumentError("link_invalid", link)
    if scheme == "matrix" and not parts.path.strip("/"):
        raise DocumentError("link_invalid", link)
    # The scheme in lower case: `HTTPS://…` and `https://…` are the same document.
    return scheme + link[len(scheme) :]


def check_title(text: str) -> str | None:
    title = " ".join(text.split())
    if len(title) > MAX_TITLE_LENGTH:
        raise DocumentError("title_too_long", title[:80])
    return title or None


def links_in(note: str | None) -> list[str]:
    """The allowed links a note contains, in order, each once; others stay text."""
    if not note:
        return []
    found: list[str] = []
    for match in _IN_NOTE.finditer(note):
        word = match.group().rstrip(_TRAILING)
        try:
            link = check_link(word)
        except DocumentError:
            continue
        if link not in found:
            found.append(link)
    return found


def documents_before(
    keys: Sequence[str], documents: Mapping[str, Sequence[StepDocument]], key: str
) -> tuple[str | None, tuple[StepDocument, ...]]:
    """The documents a step's reminder links: those of the nearest step before it (in
    the process's order) that has any (step 5 → the Fotoprotokoll of Z2, step 6 → the
    Beschlussvorlage draft of step 5), with that step's key."""
    if key not in keys:
        return None, ()
    for earlier in reversed(keys[: keys.index(key)]):
        found = documents.get(earlier, ())
        if found:
            return earlier, tuple(found)
    return None, ()
