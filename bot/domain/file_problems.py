"""What is wrong with a TOML file the city may replace (process, questionnaire): codes.

A problem is a code (a block of templates/<lang>/toml_file.j2) with the values that fill
it, and where it is: the file, its line where known, the key. Rules the models check
themselves raise `BrokenRule`, which pydantic carries to the file's error. Nothing here
writes a sentence; bot.rendering.describe_file_error says them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class FileProblem:
    """One problem of a file; `code` "pydantic" carries pydantic's own message (`msg`)."""

    code: str
    source: str
    line: int | None = None
    where: str = ""
    values: Mapping[str, object] = field(default_factory=dict)


class BrokenRule(ValueError):
    """A rule of a whole table broken (raised inside a model validator): code and values."""

    def __init__(self, code: str, /, **values: object) -> None:
        super().__init__(code)
        self.code = code
        self.values = values


class FileError(ValueError):
    """A file that cannot be used, with every problem found in it."""

    def __init__(self, problems: Iterable[FileProblem]) -> None:
        self.problems = tuple(problems)
        super().__init__(*self.problems)

    def __str__(self) -> str:
        # For logs and tracebacks only; the operator reads describe_file_error's words.
        return "; ".join(
            f"{p.source}{f':{p.line}' if p.line else ''}: {p.where + ': ' if p.where else ''}"
            f"{p.code} {dict(p.values)}"
            for p in self.problems
        )
