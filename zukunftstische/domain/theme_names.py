"""Matching theme names as people type them. Pure.

Case-insensitive, umlaut-folded (ä = ae = a), unique prefixes, quoted names with straight
or German quotes, unquoted multi-word names matched against the known themes, longest
first. An unknown or ambiguous name comes back with the closest known themes.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

MAX_NAME_LENGTH = 80

# Opening quote → the closing quotes that end it (German „…“ and English “…” usage).
_QUOTES = {'"': '"', "„": '“”"', "“": '”“"', "»": "«", "«": "»", "'": "'"}
_FOLDS = (("ä", "a"), ("ö", "o"), ("ü", "u"), ("ß", "ss"), ("ae", "a"), ("oe", "o"), ("ue", "u"))


def fold(name: str) -> str:
    """The form two names are compared in: `Mobilität` = `mobilitaet` = `MOBILITAT`."""
    text = unicodedata.normalize("NFC", name).casefold()
    for umlaut, plain in _FOLDS:
        text = text.replace(umlaut, plain)
    return " ".join(text.split())


def clean_name(name: str) -> str:
    """A theme name as it is stored: no control characters, single spaces."""
    printable = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return " ".join(printable.split())


def split_quoted(text: str) -> tuple[str, str] | None:
    """(quoted name, rest) when `text` starts with a quoted name, else None."""
    stripped = text.lstrip()
    if not stripped or stripped[0] not in _QUOTES:
        return None
    closers = _QUOTES[stripped[0]]
    for index in range(1, len(stripped)):
        if stripped[index] in closers:
            return stripped[1:index].strip(), stripped[index + 1 :].strip()
    return None


def unquote(text: str) -> str:
    """A whole argument that may be quoted; an unmatched quote is kept as typed."""
    quoted = split_quoted(text)
    if quoted is not None and not quoted[1]:
        return quoted[0]
    return text.strip()


@dataclass(frozen=True)
class Match:
    """A resolved name: the matching candidate, or none with the closest candidates."""

    name: str | None
    rest: str = ""
    ambiguous: tuple[str, ...] = ()
    closest: tuple[str, ...] = ()


def _lookup(query: str, names: Sequence[str]) -> tuple[str | None, tuple[str, ...]]:
    """Exact match, else unique prefix; (name, ambiguous candidates)."""
    folded = fold(query)
    if not folded:
        return None, ()
    exact = [name for name in names if fold(name) == folded]
    if exact:
        return exact[0], ()
    prefixed = [name for name in names if fold(name).startswith(folded)]
    if len(prefixed) == 1:
        return prefixed[0], ()
    return None, tuple(sorted(prefixed, key=fold))


def closest(query: str, names: Sequence[str], limit: int = 3) -> tuple[str, ...]:
    by_fold = {fold(name): name for name in names}
    hits = difflib.get_close_matches(fold(query), list(by_fold), n=limit, cutoff=0.4)
    return tuple(by_fold[hit] for hit in hits)


def resolve(text: str, names: Sequence[str]) -> Match:
    """The whole `text` names one theme."""
    query = unquote(text)
    found, ambiguous = _lookup(query, names)
    if found is not None:
        return Match(found)
    return Match(None, ambiguous=ambiguous, closest=() if ambiguous else closest(query, names))


def resolve_leading(text: str, names: Sequence[str]) -> Match:
    """A theme name at the start of `text`, followed by more arguments (in `rest`)."""
    quoted = split_quoted(text)
    if quoted is not None:
        query, rest = quoted
        found, ambiguous = _lookup(query, names)
        closest_names = () if found or ambiguous else closest(query, names)
        return Match(found, rest, ambiguous, closest_names)
    words = text.split()
    # Known names first, longest first: "digitale ethik 3" is the theme "Digitale Ethik".
    for name in sorted(names, key=lambda n: len(fold(n)), reverse=True):
        size = len(fold(name).split())
        if size <= len(words) and fold(" ".join(words[:size])) == fold(name):
            return Match(name, " ".join(words[size:]))
    # Then prefixes, taking as many words as still resolve to exactly one theme.
    for size in range(len(words), 0, -1):
        found, _ = _lookup(" ".join(words[:size]), names)
        if found is not None:
            return Match(found, " ".join(words[size:]))
    first = words[0] if words else ""
    _, ambiguous = _lookup(first, names)
    return Match(None, " ".join(words[1:]), ambiguous, () if ambiguous else closest(first, names))


_WORD = re.compile(r"\S+")


def first_word(text: str) -> tuple[str, str]:
    """(first word, rest)."""
    match = _WORD.search(text)
    if match is None:
        return "", ""
    return match.group(0), text[match.end() :].strip()
