"""The evaluation questionnaire: which questions follow a Zukunftstisch, with which answers.

Like the process template, the questionnaire is data (a TOML file shipped with the bot,
replaceable by the city), because evaluation exists to change the process and changing it
must not need a release. Question keys and answer ids are stable so that results can be
compared theme to theme. Everything here is pure: parsing and validation take text and
return data.
"""

from __future__ import annotations

import re
import tomllib
from enum import StrEnum
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from bot.domain.file_problems import BrokenRule, FileError, FileProblem

# The shipped questionnaires (bot/defaults/): the participants' one after Z2,
# the internal process evaluation after the council's decision, and the participants'
# first version (results stored with it stay readable: every evaluation keeps its copy).
DEFAULT = "questionnaire.toml"
INTERNAL = "questionnaire_intern.toml"
VERSION_1 = "questionnaire_v1.toml"

# Matrix polls (MSC3381) carry at most 20 answers; clients drop the rest.
MAX_ANSWERS = 20
MIN_ANSWERS = 2


class QuestionKind(StrEnum):
    scale = "scale"  # ordered answers with scores: distribution and mean
    choice = "choice"  # answers without an order: distribution only
    open = "open"  # free text, no poll: answers become improvement ideas (KVP)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Answer(_Frozen):
    # The id goes into the poll event and into stored counts: short, ASCII, stable.
    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,40}$")
    text: str = Field(min_length=1, max_length=200)
    score: int | None = Field(default=None, ge=0, le=100)


class Question(_Frozen):
    key: str = Field(pattern=r"^[A-Za-z0-9_-]{1,20}$")
    text: str = Field(min_length=1, max_length=500)
    kind: QuestionKind
    answers: tuple[Answer, ...] = ()
    # Keys of older questionnaire versions that asked the same aspect on the same score
    # range: their stored results are compared with this question (overview, year report).
    previous_keys: tuple[str, ...] = Field(default=(), max_length=10)

    @model_validator(mode="after")
    def _answers_fit_the_kind(self) -> Question:
        if self.kind is QuestionKind.open:
            if self.answers:
                raise BrokenRule("open_with_answers")
            return self
        if not MIN_ANSWERS <= len(self.answers) <= MAX_ANSWERS:
            raise BrokenRule(
                "answer_count", count=len(self.answers), low=MIN_ANSWERS, high=MAX_ANSWERS
            )
        ids: set[str] = set()
        texts: set[str] = set()
        for position, answer in enumerate(self.answers):
            if answer.id in ids:
                raise BrokenRule("answer_id_twice", answer=position, id=repr(answer.id))
            # Results are shown by text, so two equal texts could not be told apart.
            if answer.text.casefold() in texts:
                raise BrokenRule("answer_text_twice", answer=position, text=repr(answer.text))
            if self.kind is QuestionKind.scale and answer.score is None:
                raise BrokenRule("score_missing", answer=position, id=answer.id)
            ids.add(answer.id)
            texts.add(answer.text.casefold())
        return self

    @property
    def is_poll(self) -> bool:
        return self.kind is not QuestionKind.open

    @property
    def answer_ids(self) -> tuple[str, ...]:
        return tuple(answer.id for answer in self.answers)

    def answer(self, answer_id: str) -> Answer | None:
        return next((a for a in self.answers if a.id == answer_id), None)


class QuestionnaireInfo(_Frozen):
    name: str = "Evaluation"
    version: int = 1
    intro: str = Field(default="", max_length=2000)
    # Shown first in each direct chat of the anonymous mode.
    privacy_note: str = Field(default="", max_length=4000)


class Questionnaire(_Frozen):
    questionnaire: QuestionnaireInfo = QuestionnaireInfo()
    # No min_length here: pydantic would report it on top of any broken question.
    questions: tuple[Question, ...]

    @model_validator(mode="after")
    def _unique_keys(self) -> Questionnaire:
        if not self.questions:
            raise BrokenRule("no_questions")
        seen: set[str] = set()
        for position, question in enumerate(self.questions):
            folded = question.key.casefold()
            if folded in seen:
                raise BrokenRule("question_key_twice", question=position, key=repr(question.key))
            seen.add(folded)
        for position, question in enumerate(self.questions):
            for previous in question.previous_keys:
                if previous.casefold() in seen and previous.casefold() != question.key.casefold():
                    raise BrokenRule("previous_key_taken", question=position, key=repr(previous))
                seen.add(previous.casefold())
        return self

    def comparable_key(self, key: str) -> str:
        """The key under which a stored result of `key` (this or an older version) is
        compared: the current question that names it in `previous_keys`, else itself."""
        folded = key.casefold()
        for question in self.questions:
            if question.key.casefold() == folded or folded in (
                previous.casefold() for previous in question.previous_keys
            ):
                return question.key
        return key

    @property
    def polls(self) -> tuple[Question, ...]:
        """The questions asked as Matrix polls, in order (open questions are not polls)."""
        return tuple(q for q in self.questions if q.is_poll)

    def question(self, key: str) -> Question | None:
        folded = key.casefold()
        return next((q for q in self.questions if q.key.casefold() == folded), None)

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> Questionnaire:
        return cls.model_validate_json(text)


class QuestionnaireError(FileError):
    """A questionnaire file that cannot be used; each problem names the key and, where known,
    the line."""


def parse_questionnaire(text: str, source: str = "questionnaire.toml") -> Questionnaire:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        not_toml = FileProblem("not_toml", source, values={"error": str(err)})
        raise QuestionnaireError([not_toml]) from err
    try:
        return Questionnaire.model_validate(data)
    except ValidationError as err:
        raise QuestionnaireError(_problems(err, text, source)) from err


_QUESTIONS_HEADER = re.compile(r"^\s*\[\[\s*questions\s*\]\]\s*(#.*)?$")
_ANY_HEADER = re.compile(r"^\s*\[\[?[^\]=]+\]\]?\s*(#.*)?$")
_ANSWER_ID = re.compile(r"(^|[{,\s])id\s*=")


def _problems(err: ValidationError, text: str, source: str) -> list[FileProblem]:
    problems = []
    for problem in err.errors():
        loc = problem["loc"]
        question = _index_after(loc, "questions")
        answer = _index_after(loc, "answers")
        rule = (problem.get("ctx") or {}).get("error")
        if isinstance(rule, BrokenRule):
            # A check on a whole table names the question or answer it found.
            code, values = rule.code, rule.values
            if not loc and isinstance(values.get("question"), int):
                question = int(values["question"])
            if question is not None and answer is None and isinstance(values.get("answer"), int):
                answer = int(values["answer"])
        else:
            code, values = "pydantic", {"msg": problem["msg"].removeprefix("Value error, ")}
        line = _line_of(text, loc, question, answer)
        where = ".".join(str(part) for part in loc)
        problems.append(FileProblem(code, source, line, where, values))
    return problems


def _index_after(loc: tuple[int | str, ...], name: str) -> int | None:
    for position, part in enumerate(loc[:-1]):
        if part == name and isinstance(loc[position + 1], int):
            return int(loc[position + 1])
    return None


def _line_of(
    text: str, loc: tuple[int | str, ...], question: int | None, answer: int | None
) -> int | None:
    lines = text.splitlines()
    if question is not None:
        start = _question_header(lines, question)
        if start is None or answer is None:
            return start
        return _answer_line(lines, start, answer) or start
    if loc and loc[0] == "questionnaire":
        return _table_line(lines, "questionnaire", loc[1] if len(loc) > 1 else None)
    return None


def _question_header(lines: list[str], index: int) -> int | None:
    """Line number of the n-th `[[questions]]` table, so an error points at the right place."""
    count = -1
    for number, line in enumerate(lines, start=1):
        if _QUESTIONS_HEADER.match(line):
            count += 1
            if count == index:
                return number
    return None


def _answer_line(lines: list[str], header: int, index: int) -> int | None:
    """Line of the n-th answer of the question whose table starts at `header`.

    Each answer, inline (`{ id = "a1", ... }`) or as its own table, has exactly one `id =`,
    so counting those inside the question's block finds it in either spelling.
    """
    count = -1
    for number in range(header + 1, len(lines) + 1):
        line = lines[number - 1]
        if _QUESTIONS_HEADER.match(line):
            break
        if _ANSWER_ID.search(line.split("#", 1)[0]):
            count += 1
            if count == index:
                return number
    return None


def _table_line(lines: list[str], table: str, key: object) -> int | None:
    """Line of `key = ...` inside `[table]`, else the table's header line."""
    header = re.compile(rf"^\s*\[\s*{re.escape(table)}\s*\]\s*(#.*)?$")
    start = next((n for n, line in enumerate(lines, start=1) if header.match(line)), None)
    if start is None or not isinstance(key, str):
        return start
    assignment = re.compile(rf"^\s*{re.escape(key)}\s*=")
    for number in range(start + 1, len(lines) + 1):
        line = lines[number - 1]
        if _ANY_HEADER.match(line):
            break
        if assignment.match(line):
            return number
    return start


def default_questionnaire_text() -> str:
    return resources.files("bot").joinpath("defaults/questionnaire.toml").read_text("utf-8")


def shipped_questionnaire_text(name: str) -> str:
    """A questionnaire file shipped in `defaults/` (e.g. `questionnaire_intern.toml`)."""
    return resources.files("bot").joinpath(f"defaults/{name}").read_text("utf-8")


def load_questionnaire(path: Path | None = None, *, default: str = DEFAULT) -> Questionnaire:
    """The city's questionnaire from `path`, or the shipped one named `default`
    (`DEFAULT` for the participants, `INTERNAL` for the internal process evaluation)."""
    if path is None:
        return parse_questionnaire(shipped_questionnaire_text(default), f"{default} (Standard)")
    try:
        text = path.read_text("utf-8")
    except OSError as err:
        unreadable = FileProblem("unreadable", str(path), values={"error": err.strerror})
        raise QuestionnaireError([unreadable]) from err
    return parse_questionnaire(text, str(path))
