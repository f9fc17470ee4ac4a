"""What can go wrong when reading the council's data, as codes with values.

Every failure is one exception with a `code` (a block of `templates/<lang>/oparl.j2`) and
the values that fill it; the sentence the coordination office reads is rendered from the
template, in the bot's language (`text(renderer)`) or in German (`reason`, for logs and
callers without a renderer). Nothing here writes a sentence itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import ValidationError

from bot.domain.sentences import CodedError
from bot.rendering import Renderer, shared_renderer


class Failure(StrEnum):
    """What went wrong, for callers that treat failures differently (e.g. retry or not)."""

    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    HTTP = "http"
    NOT_JSON = "not_json"
    INVALID = "invalid"
    TOO_MANY_PAGES = "too_many_pages"
    LOOP = "loop"
    TOO_LARGE = "too_large"
    REDIRECT = "redirect"
    CONFIG = "config"


class _Coded(CodedError):
    """An exception whose message is a block of `oparl.j2` and its values; its `reason`
    and `str()` are German, for logs and callers without a renderer."""

    template = "oparl"

    @property
    def reason(self) -> str:
        return self.text(shared_renderer())

    def __str__(self) -> str:
        return self.reason


class OParlUnavailable(_Coded):
    """The council's data cannot be read now; `kind` says how, `code` which sentence."""

    def __init__(self, kind: Failure, code: str, /, **values: Any) -> None:
        super().__init__(code, **values)
        self.kind = kind


class OParlLookupError(_Coded, ValueError):
    """The body or organization cannot be chosen as configured."""


@dataclass(frozen=True)
class Problem:
    """One field of the council's data that does not validate: where, which rule, values."""

    where: str
    code: str
    values: dict[str, Any]


def _where(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def validation_problems(error: ValidationError, *, limit: int = 3) -> tuple[list[Problem], int]:
    """The first `limit` problems of a pydantic ValidationError, and how many more there are.

    The code is pydantic's error type (`missing`, `int_type` …) or one of the models' own
    (`oparl_date_time` …); `oparl.j2`'s `problem` block names each in words."""
    problems = error.errors(include_url=False)
    found = [
        Problem(_where(tuple(p["loc"])), p["type"], {"msg": p["msg"], **(p.get("ctx") or {})})
        for p in problems[:limit]
    ]
    return found, max(0, len(problems) - limit)


def invalid(url: str, error: ValidationError) -> OParlUnavailable:
    problems, more = validation_problems(error)
    return OParlUnavailable(Failure.INVALID, "invalid", url=url, problems=problems, more=more)


def describe_validation_error(error: ValidationError, renderer: Renderer | None = None) -> str:
    """A short description of a ValidationError that names the fields, e.g.
    `data[1].start: kein Zeitpunkt mit Zeitzone (…)`."""
    problems, more = validation_problems(error)
    words = renderer or shared_renderer()
    return words.sentence("oparl", "problems", problems=problems, more=more).body
