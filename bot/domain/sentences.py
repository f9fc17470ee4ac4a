"""Codes and values instead of sentences, for the modules below the rendering layer.

The configuration, the clock, health and the domain never write a sentence: they say
what happened as a `code` (a block of a template in templates/<lang>/) and the values
that fill it. The edge that has a renderer (`bot.rendering.Renderer`, which fits
`Sentences`) turns them into words, in the bot's language.
"""

from __future__ import annotations

from typing import Any, ClassVar, Protocol


class Said(Protocol):
    @property
    def body(self) -> str: ...


class Sentences(Protocol):
    """What renders one block of a template: `bot.rendering.Renderer`."""

    def sentence(self, name: str, block: str, /, **context: Any) -> Said: ...


class CodedError(Exception):
    """An error whose message is a block of `templates/<lang>/<template>.j2` and its
    values. `str()` is the code and values (a traceback without a renderer); the words
    are `text(renderer)`."""

    template: ClassVar[str] = ""

    def __init__(self, code: str, /, **values: Any) -> None:
        super().__init__(code, values)
        self.code = code
        self.values = values

    def text(self, words: Sentences) -> str:
        return words.sentence(self.template, self.code, **self.values).body

    def __str__(self) -> str:
        return f"{self.code} {self.values}" if self.values else self.code
