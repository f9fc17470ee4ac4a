"""Matching theme names as people type them. Pure.

Case-insensitive, umlaut-folded (ä = ae = a), unique prefixes, quoted names with straight
or German quotes, unquoted multi-word names matched against the known themes, longest
first. An unknown or ambiguous name comes back with the closest known themes.

The known names come through `KnownNames`: the store answers its three questions with
indexed queries (a lookup costs the same with 5 themes and with 5,000); `NameList` answers
them from a list in memory.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_NAME_LENGTH = 80
# A folded name is at most this long (umlauts fold shorter; ß grows to ss).
MAX_KEY_LENGTH = 120

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


class KnownNames(Protocol):
    """The themes' names, asked by their folded form (see `fold`)."""

    def exact(self, key: str) -> str | None:
        """The name whose folded form is `key`."""
        ...

    def starting_with(self, key: str) -> list[str]:
        """Every name whose folded form starts with `key` (non-empty), by folded form."""
        ...

    def everything(self) -> Sequence[str]:
        """All names: only for suggestions after a miss."""
        ...


@dataclass(frozen=True)
class NameList:
    """Known names from a list in memory (tests, the CLI, small callers)."""

    names: Sequence[str]

    def exact(self, key: str) -> str | None:
        return next((name for name in self.names if fold(name) == key), None)

    def starting_with(self, key: str) -> list[str]:
        return sorted((n for n in self.names if fold(n).startswith(key)), key=fold)

    def everything(self) -> Sequence[str]:
        return self.names


def _known(names: Sequence[str] | KnownNames) -> KnownNames:
    if isinstance(names, NameList) or not isinstance(names, Sequence):
        return names
    return NameList(names)


@dataclass(frozen=True)
class Match:
    """A resolved name: the matching candidate, or none with the closest candidates."""

    name: str | None
    rest: str = ""
    ambiguous: tuple[str, ...] = ()
    closest: tuple[str, ...] = ()


def _lookup(query: str, names: KnownNames) -> tuple[str | None, tuple[str, ...]]:
    """Exact match, else unique prefix; (name, ambiguous candidates)."""
    folded = fold(query)
    if not folded or len(folded) > MAX_KEY_LENGTH:
        return None, ()
    exact = names.exact(folded)
    if exact is not None:
        return exact, ()
    prefixed = names.starting_with(folded)
    if len(prefixed) == 1:
        return prefixed[0], ()
    return None, tuple(prefixed)


def closest(query: str, names: Sequence[str] | KnownNames, limit: int = 3) -> tuple[str, ...]:
    by_fold = {fold(name): name for name in _known(names).everything()}
    hits = difflib.get_close_matches(fold(query), list(by_fold), n=limit, cutoff=0.4)
    return tuple(by_fold[hit] for hit in hits)


def resolve(text: str, names: Sequence[str] | KnownNames) -> Match:
    """The whole `text` names one theme."""
    known = _known(names)
    query = unquote(text)
    found, ambiguous = _lookup(query, known)
    if found is not None:
        return Match(found)
    return Match(None, ambiguous=ambiguous, closest=() if ambiguous else closest(query, known))


def _word_counts(words: Sequence[str]) -> range:
    """How many leading words could still be (a prefix of) a name, most first."""
    # Typed text folds shorter ("ae" → "a"), so twice the key length is a safe bound.
    size, length = 0, -1
    while size < len(words) and length + 1 + len(words[size]) <= 2 * MAX_KEY_LENGTH:
        length += 1 + len(words[size])
        size += 1
    return range(size, 0, -1)


def resolve_leading(text: str, names: Sequence[str] | KnownNames) -> Match:
    """A theme name at the start of `text`, followed by more arguments (in `rest`)."""
    known = _known(names)
    quoted = split_quoted(text)
    if quoted is not None:
        query, rest = quoted
        found, ambiguous = _lookup(query, known)
        closest_names = () if found or ambiguous else closest(query, known)
        return Match(found, rest, ambiguous, closest_names)
    words = text.split()
    # Whole names first, longest first: "digitale ethik 3" is the theme "Digitale Ethik".
    for size in _word_counts(words):
        found = known.exact(fold(" ".join(words[:size])))
        if found is not None:
            return Match(found, " ".join(words[size:]))
    # Then prefixes, taking as many words as still resolve to exactly one theme.
    for size in _word_counts(words):
        found, _ = _lookup(" ".join(words[:size]), known)
        if found is not None:
            return Match(found, " ".join(words[size:]))
    first = words[0] if words else ""
    _, ambiguous = _lookup(first, known)
    return Match(None, " ".join(words[1:]), ambiguous, () if ambiguous else closest(first, known))


_WORD = re.compile(r"\S+")


def first_word(text: str) -> tuple[str, str]:
    """(first word, rest)."""
    match = _WORD.search(text)
    if match is None:
        return "", ""
    return match.group(0), text[match.end() :].strip()
