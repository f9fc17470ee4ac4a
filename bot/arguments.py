"""A command's arguments, declared: what it takes, in which order, and how it is shown.

A command lists its arguments (`Arg`); the router reads them from the text of the call
(`read_arguments`) before the handler runs and refuses a call that misses one with the
command's usage line, which is built from the same declaration in the bot's language
(`usage_line`: the argument labels come from `templates/<lang>/arguments.j2`). So the help
and every "so geht es" show what the parser reads, in German or in English.

How a call is read: confirming words at its end (`trotzdem`, `intern` …), then a date
read from the right, then the theme and its steps from the left; whatever is left is the
text, the number or the people the command takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.domain.dates import DateError, DateSpec, split_trailing_date
from bot.domain.matrix_ids import is_user_id, parse_user_link
from bot.domain.theme_names import first_word, fold
from bot.domain.themes import StepRecord, ThemeView

if TYPE_CHECKING:
    from bot.domain.process import StepDefinition


class Kind(StrEnum):
    theme = "theme"  # a theme's name: at the start, or all the text the others leave
    step = "step"  # a step by key (`3a`) or by a word of its name
    steps = "steps"  # a step, then more by their exact keys (`erledigt Mobilität 1 2 3a`)
    word = "word"  # one of a few words (`trotzdem`, `intern`, `anonym|raum`)
    date = "date"  # a date or calendar week (a quarter where allowed), read from the right
    users = "users"  # Matrix ids, matrix.to links and pills
    number = "number"  # a whole number (an improvement idea's Nr.)
    text = "text"  # the rest: a note, a reason, a name, a reference


# The kinds that take what the head (theme, steps, words after them) leaves.
_REST_KINDS = (Kind.users, Kind.number, Kind.text)


@dataclass(frozen=True)
class Arg:
    """One declared argument. `label` names its block in `templates/<lang>/arguments.j2`
    (what `hilfe` shows) and, for a word, the key of its value in `Values.words`."""

    label: str
    kind: Kind
    optional: bool = False
    # A word: the accepted words (folded) and the value each one stands for.
    choices: Mapping[str, str] = field(default_factory=dict)
    # A date: a quarter (`Q4/2027`) is accepted too (an idea has only a quarter).
    quarter: bool = False
    # The refusal when a required argument is missing (a block of errors.j2).
    missing: str = "missing_args"


def theme(*, optional: bool = False, missing: str = "missing_args") -> Arg:
    return Arg("theme", Kind.theme, optional=optional, missing=missing)


def step() -> Arg:
    return Arg("step", Kind.step)


def steps() -> Arg:
    return Arg("steps", Kind.steps)


def word(label: str, choices: Mapping[str, str] | Iterable[str], *, optional: bool = True) -> Arg:
    """A word from `choices` (a sequence: each word stands for `label` itself)."""
    table = choices if isinstance(choices, Mapping) else dict.fromkeys(choices, label)
    return Arg(label, Kind.word, optional=optional, choices={fold(k): v for k, v in table.items()})


def day(label: str = "date", *, quarter: bool = False, optional: bool = False) -> Arg:
    return Arg(label, Kind.date, optional=optional, quarter=quarter)


def users(*, optional: bool = False, missing: str = "missing_args") -> Arg:
    return Arg("users", Kind.users, optional=optional, missing=missing)


def number(label: str = "number", *, missing: str = "missing_args") -> Arg:
    return Arg(label, Kind.number, missing=missing)


def text(label: str, *, optional: bool = False, missing: str = "missing_args") -> Arg:
    return Arg(label, Kind.text, optional=optional, missing=missing)


# Words that confirm what the bot would otherwise refuse (`termin … trotzdem`).
CONFIRM = word("confirm", ("trotzdem", "anyway"))
# Words that make a call remove instead of add (`kernteam <Thema> entfernen @x`).
REMOVE = word("remove", ("entfernen", "remove", "lösen"))


@dataclass(frozen=True)
class StepRef:
    view: ThemeView
    step: StepRecord
    definition: StepDefinition
    rest: str = ""  # what follows the step in the call (a note, a reason, a date …)


@dataclass(frozen=True)
class Values:
    """What the router read from a call, by kind."""

    theme: ThemeView | None = None
    steps: tuple[StepRef, ...] = ()
    date: DateSpec | None = None
    users: tuple[str, ...] = ()
    number: int | None = None
    text: str = ""
    # The words given, by their argument's label (`{"confirm": "confirm", "mode": "raum"}`).
    words: Mapping[str, str] = field(default_factory=dict)

    @property
    def step(self) -> StepRef:
        assert self.steps, "only for commands that declare a step"
        return self.steps[0]

    def has(self, label: str) -> bool:
        return label in self.words


class Missing(Exception):
    """A required argument is missing: the router refuses with `code` and the usage."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class BadDate(Exception):
    def __init__(self, error: DateError, *, quarters: bool) -> None:
        super().__init__(error.code)
        self.error = error
        self.quarters = quarters  # a quarter is taken too: the refusal lists its forms


@dataclass(frozen=True)
class Call:
    """A call split by the declaration; the theme and the steps are found by the caller
    (they need the store): `head` is the text they are read from."""

    head: str
    date: DateSpec | None
    words: dict[str, str]


def split_call(arguments: Sequence[Arg], text: str) -> Call:
    """The words at the end and the date read from the right; the rest is the head."""
    words: dict[str, str] = {}
    tail = _tail_words(arguments)
    must_keep = any(not a.optional and a.kind is not Kind.word for a in arguments)
    tokens = text.split()
    while tokens and not (must_keep and len(tokens) == 1):
        found = next((a for a in tail if fold(tokens[-1]) in a.choices), None)
        if found is None or found.label in words:
            break
        words[found.label] = found.choices[fold(tokens[-1])]
        tokens.pop()
    head = " ".join(tokens)
    date = None
    wanted = next((a for a in arguments if a.kind is Kind.date), None)
    if wanted is not None:
        head, date = _trailing_date(wanted, head)
    return Call(head, date, words)


def _tail_words(arguments: Sequence[Arg]) -> list[Arg]:
    """Word arguments after the last argument of another kind: they end the call."""
    last_other = max((i for i, a in enumerate(arguments) if a.kind is not Kind.word), default=-1)
    return list(arguments[last_other + 1 :])


def _trailing_date(wanted: Arg, head: str) -> tuple[str, DateSpec | None]:
    if not head.strip():
        if wanted.optional:
            return head, None
        raise Missing(wanted.missing)
    try:
        return split_trailing_date(head, allow_quarter=wanted.quarter)
    except DateError as err:
        if wanted.optional:
            return head, None
        raise BadDate(err, quarters=wanted.quarter) from err


def head_words(arguments: Sequence[Arg], text: str, words: dict[str, str]) -> str:
    """Word arguments right after the theme and steps (`kernteam <Thema> entfernen …`)."""
    tail = _tail_words(arguments)
    for arg in arguments:
        if arg.kind is not Kind.word or arg in tail:
            continue
        first, rest = first_word(text)
        if fold(first) in arg.choices:
            words[arg.label] = arg.choices[fold(first)]
            text = rest
    return text


def theme_takes_all(arguments: Sequence[Arg]) -> bool:
    """The theme is all the text left once the words and the date are read: nothing
    after it reads from the left (a step, a word, the rest)."""
    after = arguments[[a.kind for a in arguments].index(Kind.theme) + 1 :]
    tail = _tail_words(arguments)
    return not any(
        a.kind in (Kind.step, Kind.steps, *_REST_KINDS) or (a.kind is Kind.word and a not in tail)
        for a in after
    )


def read_rest(
    arguments: Sequence[Arg], text: str, mentions: tuple[str, ...]
) -> tuple[tuple[str, ...], int | None, str]:
    """(people, number, text) from what the head left, as the declaration takes them."""
    rest_arg = next((a for a in arguments if a.kind in _REST_KINDS), None)
    text = text.strip()
    if rest_arg is None:
        return (), None, text
    if rest_arg.kind is Kind.users:
        people = people_in(text, mentions)
        if not people and not rest_arg.optional:
            raise Missing(rest_arg.missing)
        return people, None, ""
    if not text:
        if rest_arg.optional:
            return (), None, ""
        raise Missing(rest_arg.missing)
    if rest_arg.kind is Kind.number:
        first, after = first_word(text)
        if not (first.isascii() and first.isdigit()) or len(first) > 9:
            raise Missing(rest_arg.missing)
        return (), int(first), after
    return (), None, text


class NotAUser(Exception):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


def people_in(text: str, mentions: tuple[str, ...]) -> tuple[str, ...]:
    """Matrix user ids as typed (`@name:server`, a matrix.to link) and the people
    mentioned with a pill (whose display name is in the text: its words are left alone).
    A word that is no user id is refused, so a typo never adds nobody in silence."""
    found: list[str] = []
    for token in text.split():
        token = token.strip(",;")
        if not token:
            continue
        user = token if is_user_id(token) else parse_user_link(token)
        if user is not None:
            found.append(user)
        elif token.startswith("@") or not mentions:
            raise NotAUser(token)
    found += [m for m in mentions if is_user_id(m)]
    return tuple(dict.fromkeys(found))


def usage_line(
    verbs: Sequence[str],
    arguments: Sequence[Arg],
    labels: Mapping[str, str],
    *,
    after: Sequence[str] = (),
) -> str:
    """`erledigt <Thema> <Schritt> [<Schritt> …] [Notiz] [trotzdem]`: the verbs of the
    form, its arguments as `labels` name them, and the words a form ends with."""
    parts = list(verbs)
    for arg in arguments:
        parts.append(_shown(arg, labels))
    return " ".join([*parts, *after])


def _shown(arg: Arg, labels: Mapping[str, str]) -> str:
    label = labels.get(arg.label, arg.label)
    if arg.kind is Kind.word:
        return f"[{label}]" if arg.optional else label
    if arg.kind is Kind.users:
        return f"[{label}]" if arg.optional else label
    if arg.kind is Kind.steps:
        single = labels.get("step", "step")
        return f"<{single}> [<{single}> …]"
    return f"[{label}]" if arg.optional else f"<{label}>"
