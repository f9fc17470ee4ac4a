"""The process template: which steps a theme runs, their kinds, leads, offsets and goals.

The template is data (a TOML file shipped with the bot, replaceable by the city). A theme
stores the step definitions it was created with, so a new template never changes a
running theme. Everything here is pure: parsing and validation take text and return data.
"""

from __future__ import annotations

import re
import tomllib
from enum import StrEnum
from importlib import resources
from pathlib import Path

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from bot.domain.file_problems import BrokenRule, FileError, FileProblem

Z2_ANCHOR = "z2"
# The longest advance notice a step may ask for (calendar days): the reminder engine
# looks this far ahead for the themes that can have one due.
MAX_LEAD_DAYS = 91


class StepKind(StrEnum):
    phase = "phase"
    meeting = "meeting"
    deadline = "deadline"
    continuous = "continuous"


class Lead(StrEnum):
    fachbereich = "fachbereich"
    koordination = "koordination"
    buergerdialog = "buergerdialog"


class StepRole(StrEnum):
    """What a step is to the bot, whatever key a city's process file gives it."""

    z2 = "z2"  # Zukunftstisch Teil 2 itself
    draft_resolution = "draft_resolution"  # the Beschlussvorlage (links to the council's paper)
    council_decision = "council_decision"  # the council decides (OParl, council meetings)
    evaluation = "evaluation"  # evaluation and continuous improvement (KVP)


class MilestoneRole(StrEnum):
    participation_start = "participation_start"  # digital participation opens
    participation_end = "participation_end"  # … and closes


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Milestone(_Frozen):
    """A dated point inside a step, e.g. the opening of digital participation."""

    key: str = Field(min_length=1, max_length=40)
    name: str = Field(min_length=1, max_length=120)
    offset_weeks: int = Field(ge=-104, le=104)
    anchor: str = Z2_ANCHOR
    leads: tuple[Lead, ...] = ()
    role: MilestoneRole | None = None


class LeadTime(_Frozen):
    """An advance notice of a step (issue 21): `days` calendar days before its date, or
    before the date of step `before` (step 3: the material to the participants two weeks
    before Z2), saying what to do then (`text`, e.g. "Einladung verschicken")."""

    days: int = Field(ge=1, le=MAX_LEAD_DAYS)
    text: str = Field(default="", max_length=200)
    before: str | None = Field(default=None, min_length=1, max_length=10)


class StepDefinition(_Frozen):
    key: str = Field(min_length=1, max_length=10, pattern=r"^[0-9A-Za-z]+$")
    name: str = Field(min_length=1, max_length=200)
    short: str = Field(default="", max_length=60)
    kind: StepKind
    leads: tuple[Lead, ...] = Field(min_length=1)
    offset_weeks: int = Field(ge=-104, le=104)
    anchor: str = Z2_ANCHOR
    # "Never earlier than `after_weeks` after step `after_step`" (step 7: five weeks after
    # Z2, or one week after the council's decision when that moved later).
    after_step: str | None = Field(default=None, max_length=10)
    after_weeks: int = Field(default=1, ge=0, le=104)
    optional: bool = False
    snap: str | None = Field(default=None, pattern=r"^council$")
    goals: tuple[str, ...] = ()
    milestones: tuple[Milestone, ...] = ()
    role: StepRole | None = None
    # The concept's "Zeitabstände (min.)": at least this many weeks before or after
    # `gap_to` (Z2 or another step's key). A pin that comes closer is refused unless
    # confirmed (`!zt termin … trotzdem`).
    min_weeks_before: int | None = Field(default=None, ge=0, le=104)
    min_weeks_after: int | None = Field(default=None, ge=0, le=104)
    gap_to: str = Z2_ANCHOR
    # Other names people use for the step wherever a step is named (`Z1`, `Z2`).
    aliases: tuple[str, ...] = Field(default=(), max_length=5)
    # The step's own advance notices (days, or tables with days, text and before); None:
    # the config's `[reminders] lead_days`.
    lead_days: tuple[LeadTime, ...] | None = Field(default=None, max_length=6)

    @field_validator("lead_days", mode="before")
    @classmethod
    def _days_as_tables(cls, value: object) -> object:
        """`lead_days = [28, 7]` is short for tables with only `days`."""
        if isinstance(value, list | tuple):
            return [{"days": item} if isinstance(item, int) else item for item in value]
        return value

    def own_notices(self) -> tuple[LeadTime, ...] | None:
        """The step's advance notices before its own date (None: the config's, also for a
        step whose own list only counts from other steps' dates)."""
        own = tuple(lead for lead in self.lead_days or () if lead.before is None)
        return own or None

    def notices_before_others(self) -> tuple[LeadTime, ...]:
        """The notices counted from another step's date (e.g. Z2's)."""
        return tuple(lead for lead in self.lead_days or () if lead.before is not None)

    def notice_text(self, days: int, *, task: bool = False) -> str:
        """What the notice `days` ahead asks to do (`task`: one counted from another
        step's date); empty when the process says nothing."""
        for lead in self.lead_days or ():
            if lead.days == days and (lead.before is not None) == task:
                return lead.text
        return ""

    @property
    def label(self) -> str:
        return self.short or self.name

    def named(self, word: str) -> bool:
        """Whether `word` (any case) is the step's key or one of its aliases."""
        folded = word.casefold()
        return folded == self.key.casefold() or folded in (a.casefold() for a in self.aliases)


class ProcessInfo(_Frozen):
    name: str = "Zukunftstische"
    version: int = 1


class ProcessTemplate(_Frozen):
    process: ProcessInfo = ProcessInfo()
    steps: tuple[StepDefinition, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _keys_and_anchors(self) -> ProcessTemplate:
        seen: set[str] = set()
        for position, step in enumerate(self.steps):
            folded = step.key.casefold()
            if folded in seen:
                raise BrokenRule("step_key_twice", step=position, key=repr(step.key))
            if step.anchor != Z2_ANCHOR and step.anchor.casefold() not in seen:
                raise BrokenRule(
                    "anchor_unknown", step=position, key=step.key, anchor=repr(step.anchor)
                )
            if step.after_step is not None and step.after_step.casefold() not in seen:
                raise BrokenRule(
                    "after_step_unknown", step=position, key=step.key, after=repr(step.after_step)
                )
            seen.add(folded)
        for position, step in enumerate(self.steps):
            if step.gap_to != Z2_ANCHOR and step.gap_to.casefold() not in seen:
                raise BrokenRule(
                    "gap_to_unknown", step=position, key=step.key, gap_to=repr(step.gap_to)
                )
        self._roles_once()
        self._aliases_unique()
        self._notices_name_steps()
        return self

    def _notices_name_steps(self) -> None:
        for position, step in enumerate(self.steps):
            for lead in step.lead_days or ():
                if lead.before is None or lead.before.casefold() == Z2_ANCHOR:
                    continue
                if self.step(lead.before) is None:
                    raise BrokenRule(
                        "before_unknown", step=position, key=step.key, before=repr(lead.before)
                    )

    def _aliases_unique(self) -> None:
        names = [s.key.casefold() for s in self.steps]
        for step in self.steps:
            for alias in step.aliases:
                if alias.casefold() in names:
                    raise BrokenRule("alias_taken", key=step.key, alias=repr(alias))
                names.append(alias.casefold())

    def _roles_once(self) -> None:
        roles = [s.role for s in self.steps if s.role is not None]
        roles += [m.role for s in self.steps for m in s.milestones if m.role is not None]
        for role in set(roles):
            if roles.count(role) > 1:
                raise BrokenRule("role_twice", role=repr(role.value))

    def step(self, key: str) -> StepDefinition | None:
        """The step with this key or alias (`4`, `Z2`), any case."""
        return next((s for s in self.steps if s.named(key)), None)

    def step_with_role(self, role: StepRole) -> StepDefinition | None:
        """The step that plays `role` (None: this process has no such step)."""
        return next((s for s in self.steps if s.role == role), None)

    def milestone_with_role(self, role: MilestoneRole) -> tuple[StepDefinition, Milestone] | None:
        """The milestone that plays `role`, with the step it belongs to."""
        for step in self.steps:
            for milestone in step.milestones:
                if milestone.role == role:
                    return step, milestone
        return None

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> ProcessTemplate:
        return cls.model_validate_json(text)


class TemplateError(FileError):
    """A process file that cannot be used; each problem names the key and, where known, line."""


def parse_template(text: str, source: str = "process.toml") -> ProcessTemplate:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise TemplateError([FileProblem("not_toml", source, values={"error": str(err)})]) from err
    try:
        return ProcessTemplate.model_validate(data)
    except ValidationError as err:
        raise TemplateError(_problems(err, text, source)) from err


_STEPS_HEADER = re.compile(r"^\s*\[\[\s*steps\s*\]\]\s*(#.*)?$")


def _problems(err: ValidationError, text: str, source: str) -> list[FileProblem]:
    problems = []
    for problem in err.errors():
        loc = problem["loc"]
        index: object = loc[1] if len(loc) > 1 and loc[0] == "steps" else None
        rule = (problem.get("ctx") or {}).get("error")
        if isinstance(rule, BrokenRule):
            code, values = rule.code, rule.values
            if not loc and "step" in values:
                index = values["step"]  # a whole-template check names the step it found
        else:
            code, values = "pydantic", {"msg": problem["msg"].removeprefix("Value error, ")}
        where = ".".join(str(part) for part in loc)
        problems.append(FileProblem(code, source, _line_of_step(text, index), where, values))
    return problems


def _line_of_step(text: str, index: object) -> int | None:
    """Line number of the n-th `[[steps]]` table, so an error points at the right place."""
    if not isinstance(index, int):
        return None
    count = -1
    for number, line in enumerate(text.splitlines(), start=1):
        if _STEPS_HEADER.match(line):
            count += 1
            if count == index:
                return number
    return None


def default_template_text() -> str:
    return resources.files("bot").joinpath("defaults/process.toml").read_text("utf-8")


def load_template(path: Path | None = None) -> ProcessTemplate:
    """The city's template from `path`, or the shipped default."""
    if path is None:
        return parse_template(default_template_text(), "process.toml (Standard)")
    try:
        text = path.read_text("utf-8")
    except OSError as err:
        unreadable = FileProblem("unreadable", str(path), values={"error": err.strerror})
        raise TemplateError([unreadable]) from err
    return parse_template(text, str(path))
