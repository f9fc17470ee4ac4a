"""The evaluation after Z2 as the process wants it: where it asks, when it starts by
itself, who is asked, and when step 7 counts as done. Pure."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.domain.process import StepRole
from bot.domain.questionnaire import Questionnaire
from bot.domain.themes import StepRecord, StepState, ThemeView
from bot.domain.working_days import WorkingCalendar

# Which questionnaire an evaluation asks: the Z2 participants after Z2, or the leading
# department, the Kernteam and the Koordination on the process once step 6 is done.
PARTICIPANTS = "teilnehmende"
INTERNAL_KIND = "intern"

# A theme whose Z2 lies further back than this gets no automatic evaluation any more.
AUTO_START_WINDOW = timedelta(days=14)
# Localparts that look like bots ("zt-bot", "bot.mail", "reminder_bot") are not asked.
BOT_NAME = re.compile(r"(^|[-_.])bot($|[-_.])", re.IGNORECASE)


@dataclass(frozen=True)
class EvaluationRecord:
    """An evaluation as the store keeps it: starting → open → closing → closed."""

    id: int
    theme_id: int
    mode: str  # "anonym" (direct chats) or "raum" (polls in the room)
    status: str
    room_id: str | None  # the Z2 room (None: the named participants only)
    questionnaire_json: str
    min_answers: int
    opened_at: datetime
    closes_at: datetime
    closed_at: datetime | None = None
    reminded: bool = False
    participants: int = 0  # people asked in direct chats
    kind: str = PARTICIPANTS
    auto_started: bool = False
    public: bool = False  # its aggregated results are on the public page


@dataclass(frozen=True)
class PollRecord:
    """A poll event while its evaluation is open (which room: forgotten at the close)."""

    evaluation_id: int
    question_key: str
    room_id: str
    start_event_id: str


@dataclass(frozen=True)
class Audience:
    """Who the participants' evaluation asks: the members of the theme's Z2 room and the
    participants a coordinator named (`!zt teilnehmende`), never the department's team
    room (those are the internal evaluation's)."""

    room: str | None
    named: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return self.room is None and not self.named


def participants_audience(view: ThemeView, named: Iterable[str]) -> Audience:
    return Audience(view.theme.z2_room, tuple(dict.fromkeys(named)))


def askable(people: Iterable[str], *, ignored: Iterable[str], bot: str) -> list[str]:
    """Who may be asked: not the bot, not ignored users, nothing that looks like a bot."""
    left_out = {*ignored, bot}
    return list(
        dict.fromkeys(
            m for m in people if m not in left_out and not BOT_NAME.search(m[1:].split(":")[0])
        )
    )


def z2_taken_place(view: ThemeView, today: date) -> bool:
    """Z2 is marked done, or its day has come: an evaluation before it asks too early."""
    definition = view.template.step_with_role(StepRole.z2)
    step = view.step(definition.key) if definition is not None else None
    if step is not None and step.state == StepState.done:
        return True
    return view.theme.z2 is not None and view.theme.z2 <= today


def internal_evaluation_room(view: ThemeView, coordination_room: str | None) -> str | None:
    """Where the internal process evaluation reports: the theme's team room, else the
    coordination room."""
    return view.theme.team_room or coordination_room


def evaluation_room_for(view: ThemeView, kind: str, coordination_room: str | None) -> str | None:
    """The room an evaluation of `kind` belongs to. The participants' evaluation asks the
    members of the Z2 room and the named participants (None: only the named ones, in
    direct chats); the internal one reports to the team room, else the coordination room,
    and raises LookupError when there is neither."""
    if kind != INTERNAL_KIND:
        return view.theme.z2_room
    room = internal_evaluation_room(view, coordination_room)
    if room is None:
        raise LookupError("no room for the internal evaluation")
    return room


def council_decided(view: ThemeView) -> bool:
    """Step 6 (the council's decision) is done: time for the internal evaluation."""
    definition = view.template.step_with_role(StepRole.council_decision)
    if definition is None:
        return False
    step = view.step(definition.key)
    return step is not None and step.state == StepState.done


def first_day_after_z2(z2: date, calendar: WorkingCalendar) -> date:
    return calendar.add_working_days(z2, 1)


def evaluation_step(view: ThemeView) -> StepRecord | None:
    """The theme's evaluation and KVP step (role "evaluation" in its process)."""
    definition = view.template.step_with_role(StepRole.evaluation)
    return None if definition is None else view.step(definition.key)


def waits_for_council(view: ThemeView, key: str, done_now: Iterable[str] = ()) -> StepRecord | None:
    """The council decision step that step `key` still waits for, or None.

    The evaluation step (7) runs after the council's decision (issue 12): it can be done
    only once the step with role "council_decision" is done (or skipped). `done_now`:
    keys marked done in the same command, before this one.
    """
    evaluation = view.template.step_with_role(StepRole.evaluation)
    council = view.template.step_with_role(StepRole.council_decision)
    if evaluation is None or council is None or evaluation.key.casefold() != key.casefold():
        return None
    step = view.step(council.key)
    if step is None or step.state != StepState.open:
        return None
    if council.key.casefold() in {k.casefold() for k in done_now}:
        return None
    return step


def evaluation_step_complete(
    view: ThemeView, *, evaluation_closed: bool, open_ideas: int, today: date | None = None
) -> bool:
    """The evaluation step is done once the council has decided (step 6 done), the theme's
    evaluation is closed and its ideas are triaged, and (given `today`) the step has
    started: closing the evaluation eight days after Z2 never ends it early."""
    step = evaluation_step(view)
    return (
        step is not None
        and step.state == StepState.open
        and evaluation_closed
        and not open_ideas
        and waits_for_council(view, step.key) is None
        and (today is None or step.due <= today)
    )


@dataclass(frozen=True)
class OpenAnswers:
    """The answers to one open question, without who gave them; `too_few` (fewer than
    min_answers) shows only their number, as with the polls."""

    key: str
    text: str
    count: int
    too_few: bool
    answers: tuple[str, ...] = ()


def open_answers(
    questionnaire: Questionnaire, stored: Iterable[tuple[str, str]], min_answers: int
) -> tuple[OpenAnswers, ...]:
    """Per open question of `questionnaire` the answers given (question key, text), in
    their order; only with at least `min_answers` of them, else only how many."""
    by_key: dict[str, list[str]] = {}
    for key, text in stored:
        by_key.setdefault(key, []).append(text)
    result = []
    for question in questionnaire.questions:
        if question.is_poll:
            continue
        given = by_key.get(question.key, [])
        too_few = len(given) < min_answers
        result.append(
            OpenAnswers(
                question.key,
                question.text,
                len(given),
                too_few,
                () if too_few else tuple(given),
            )
        )
    return tuple(result)


def next_open_question(questionnaire: Questionnaire, key: str | None) -> str | None:
    """The open question after `key` (the first with None), or None after the last."""
    keys = [q.key for q in questionnaire.questions if not q.is_poll]
    if key is None:
        return keys[0] if keys else None
    if key not in keys:
        return None
    position = keys.index(key)
    return keys[position + 1] if position + 1 < len(keys) else None
