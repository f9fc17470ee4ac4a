"""What every command handler sees: the request, the bot's services, and how to refuse.

Handlers parse their arguments, check the right, call the domain, persist through the
store and return a rendered reply. They never touch matrix-nio: the adapter sends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from bot.config import Config
from bot.names import Match, resolve, resolve_leading
from bot.process import ProcessTemplate
from bot.rendering import Message, Renderer
from bot.store import Store, ThemeView


class Authority(Protocol):
    """Who may do what; the Matrix adapter answers from the rooms' state."""

    def is_coordinator(self, user_id: str) -> bool: ...


@dataclass(frozen=True)
class Request:
    sender: str
    room_id: str
    verb: str  # as typed, for error messages
    args: str
    now: datetime

    @property
    def today(self) -> date:
        return self.now.date()


@dataclass(frozen=True)
class Services:
    config: Config
    store: Store
    template: ProcessTemplate
    renderer: Renderer
    authority: Authority


class UserError(Exception):
    """A refusal with a German explanation: the `code` block of templates/<lang>/errors.j2."""

    def __init__(self, code: str, **context: object) -> None:
        super().__init__(code)
        self.code = code
        self.context = context


Handler = Callable[[Request, Services], Message]


@dataclass(frozen=True)
class Command:
    name: str  # the German verb
    aliases: tuple[str, ...]
    handler: Handler
    usage: str  # e.g. "neu <Thema> <Z2>"
    examples: tuple[str, ...] = ()
    coordinators_only: bool = False
    words: tuple[str, ...] = field(init=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", (self.name, *self.aliases))


def require_coordinator(request: Request, services: Services) -> None:
    if not services.authority.is_coordinator(request.sender):
        raise UserError("not_coordinator", verb=request.verb)


def require_args(request: Request, usage: str) -> str:
    if not request.args.strip():
        raise UserError("missing_args", usage=usage)
    return request.args.strip()


def _theme_or_error(match: Match, query: str, services: Services) -> ThemeView:
    if match.name is not None:
        theme = services.store.theme(match.name)
        if theme is not None:
            return theme
    raise UserError(
        "ambiguous_theme" if match.ambiguous else "unknown_theme",
        name=query,
        candidates=list(match.ambiguous or match.closest),
    )


def find_theme(text: str, services: Services) -> ThemeView:
    """The theme that the whole `text` names, or a refusal that lists the closest ones."""
    return _theme_or_error(resolve(text, services.store.theme_names()), text, services)


def find_leading_theme(text: str, services: Services) -> tuple[ThemeView, str]:
    """The theme named at the start of `text`, and the rest of the arguments."""
    match = resolve_leading(text, services.store.theme_names())
    query = text.split()[0] if text.split() else text
    return _theme_or_error(match, query, services), match.rest


def names_of(themes: Sequence[ThemeView]) -> list[str]:
    return [view.theme.name for view in themes]
