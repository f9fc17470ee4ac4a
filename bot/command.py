"""What every command handler sees: the request, the bot's services, and how to refuse.

A command declares who may run it (`Right`) and what it takes (its arguments, see
bot/arguments.py); the router checks the right and reads the arguments before the handler
runs (`request.values`), refusing a call that misses one with the usage line built from
the declaration. Handlers call the domain, persist through the store and return a
rendered reply. They never touch matrix-nio: the adapter sends.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Protocol

from bot.arguments import (
    CONFIRM,
    Arg,
    NotAUser,
    StepRef,
    Values,
    people_in,
    usage_line,
)
from bot.charts import Charts
from bot.config import Config
from bot.domain.annual_plan import SchoolHolidays
from bot.domain.council import replan_theme
from bot.domain.date_changes import date_change, rooms_to_tell
from bot.domain.dates import DateError, parse_date_spec
from bot.domain.lead_rooms import RoomSetup, setup_for
from bot.domain.papers import LinkedPaper
from bot.domain.participation import window
from bot.domain.process import ProcessTemplate, StepDefinition
from bot.domain.theme_names import (
    Match,
    clean_name,
    first_word,
    fold,
    resolve,
    resolve_leading,
)
from bot.domain.themes import StepRecord, ThemeView
from bot.domain.working_days import WorkingCalendar
from bot.rendering import Message, Renderer
from bot.store.council import CouncilStore
from bot.store.evaluations import EvaluationStore
from bot.store.feeds import FeedTokens
from bot.store.themes import Store


class MayDo(Protocol):
    """Who may do what (bot/rights.py answers from the rooms' state)."""

    def is_coordinator(self, user_id: str) -> bool: ...

    def is_member(self, room_id: str, user_id: str) -> bool: ...


class RoomDirectory(Protocol):
    """What the bot knows of a room from its sync (the Matrix adapter answers)."""

    def room_members(self, room_id: str) -> tuple[str, ...]: ...

    def room_name(self, room_id: str) -> str | None: ...


class UnknownRooms:
    """A directory that knows no room (the bot without Matrix: tests, the CLI)."""

    def room_members(self, room_id: str) -> tuple[str, ...]:
        return ()

    def room_name(self, room_id: str) -> str | None:
        return None


class PaperFinder(Protocol):
    """Finds a Beschlussvorlage in the council information system (the council engine)."""

    def find_paper(
        self, reference: str, *, created_since: date | None, now: datetime
    ) -> LinkedPaper | None:
        """The paper, None if there is none; council.client.OParlUnavailable if it cannot
        say."""
        ...


@dataclass(frozen=True)
class Request:
    sender: str
    room_id: str
    verb: str  # as typed, for error messages
    args: str
    now: datetime
    # People mentioned in the message (m.mentions and matrix.to links), for `zuständig`.
    mentions: tuple[str, ...] = ()
    # Said in a direct chat with the bot (an improvement idea is then stored without author).
    is_direct: bool = False
    # The command's usage line: every "how to write it" answer quotes this one.
    usage: str = ""
    # For commands about one theme (Right.theme_members): the theme, found by the router;
    # `args` then holds what follows its name.
    theme: ThemeView | None = None
    # The declared arguments as the router read them.
    values: Values = field(default_factory=Values)

    @property
    def today(self) -> date:
        return self.now.date()

    @property
    def named_theme(self) -> ThemeView:
        assert self.theme is not None, "only for commands with Right.theme_members"
        return self.theme


@dataclass(frozen=True)
class Services:
    config: Config
    store: Store
    template: ProcessTemplate
    renderer: Renderer
    rights: MayDo
    calendar: WorkingCalendar
    school_holidays: SchoolHolidays
    evaluations: EvaluationStore
    feeds: FeedTokens
    # Draws the pictures (timeline, year plan, results) and keeps the last ones drawn.
    charts: Charts
    # The council information system; None without `[council] oparl`.
    papers: PaperFinder | None = None
    # Rooms as the bot synced them: their members and names (for what an answer says).
    rooms: RoomDirectory = field(default_factory=UnknownRooms)

    @property
    def council(self) -> CouncilStore:
        return CouncilStore(self.store)


# An answer lists at most this many themes that a name could mean.
MAX_CANDIDATES = 8


class UserError(Exception):
    """A refusal with a German explanation: the `code` block of templates/<lang>/errors.j2."""

    def __init__(self, code: str, **context: object) -> None:
        super().__init__(code)
        self.code = code
        self.context = context


@dataclass(frozen=True)
class RoomNotice:
    """A message a command sends to another room besides its answer (e.g. moved dates to
    the theme's other rooms): recorded with the answer, sent once."""

    room_id: str
    message: Message


@dataclass(frozen=True)
class Reply:
    """An answer with notices to other rooms."""

    message: Message
    notices: tuple[RoomNotice, ...] = ()


Handler = Callable[[Request, Services], Message | Reply]


@dataclass(frozen=True)
class PlainHandler:
    """What answers a message without the prefix in a direct chat (or None: silence)."""

    verb: str  # for the metrics
    handler: Callable[..., Message | None]


class Right(StrEnum):
    """Who may run a command."""

    everyone = "everyone"
    # Coordinators and the members of any room bound to the theme named first.
    theme_members = "theme_members"
    coordinators = "coordinators"


class Placement(StrEnum):
    """Where a form's own words stand in a call."""

    top = "top"  # `erledigt …`
    sub = "sub"  # after the parent's words: `kvp übernommen <Nr>`
    tail = "tail"  # at the end: `kalender <Thema> abo neu`
    bare = "bare"  # the parent's words alone: `ratssitzung`


@dataclass(frozen=True)
class Command:
    name: str  # the German verb (a subcommand: its first word)
    aliases: tuple[str, ...]
    handler: Handler
    # What the call takes, in order: the router reads them, `hilfe` shows them.
    arguments: tuple[Arg, ...] = ()
    # False: the handler reads `request.args` itself (a call with two shapes, `termin`).
    reads_arguments: bool = True
    right: Right = Right.everyone
    examples: tuple[str, ...] = ()
    # Reading commands (status, hilfe …) change nothing the reminders depend on.
    changes: bool = True
    # Forms with their own right and handler: by the first word of the arguments
    # (`kvp übernommen 3`), and without any arguments (`ratssitzung` alone lists).
    subcommands: tuple[Command, ...] = ()
    bare: Command | None = None
    # Forms by the last words, after a theme (`kalender <Thema> abo neu`): a tail's name
    # is the words the call ends with; the text before them is left as the arguments.
    tails: tuple[Command, ...] = ()
    words: tuple[str, ...] = field(init=False, default=())
    # Set by the form this one belongs to, as it is made: the way to its usage line.
    parent: Command | None = field(init=False, default=None, compare=False, repr=False)
    placement: Placement = field(init=False, default=Placement.top, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", (self.name, *self.aliases))
        for forms, placement in (
            (self.subcommands, Placement.sub),
            (self.tails, Placement.tail),
            ((self.bare,) if self.bare else (), Placement.bare),
        ):
            for form in forms:
                object.__setattr__(form, "parent", self)
                object.__setattr__(form, "placement", placement)

    @property
    def label(self) -> str:
        """The block in arguments.j2 that names this form's words (`verb_erledigt`)."""
        return "verb_" + "_".join(fold(self.name).split())

    def usage(self, labels: Mapping[str, str]) -> str:
        """The usage line in the language of `labels` (Renderer.words("arguments"))."""
        verbs: list[str] = []
        after: list[str] = []
        form: Command | None = self
        while form is not None:
            shown = labels.get(form.label, form.name)
            if form.placement is Placement.tail:
                after.insert(0, shown)
            elif form.placement is not Placement.bare:
                verbs.insert(0, shown)
            form = form.parent
        return usage_line(verbs, self.arguments, labels, after=after)

    def form(self, args: str) -> tuple[Command, str]:
        """The form a call takes, and the arguments left for it (a subcommand may have
        forms of its own: `kalender abo neu`)."""
        if not args.strip() and self.bare is not None:
            return self.bare, ""
        for tail in self.tails:
            for phrase in tail.words:
                before = strip_tail(args, phrase)
                if before:
                    return tail, before
        word, rest = first_word(args)
        folded = fold(word)
        for sub in self.subcommands:
            if folded and folded in (fold(w) for w in sub.words):
                return sub.form(rest)
        return self, args

    @property
    def listed_forms(self) -> tuple[Command, ...]:
        """Every form besides the main one and the bare one, as `hilfe` lists them."""
        found: list[Command] = []
        for form in (*self.tails, *self.subcommands):
            found += [form, *form.listed_forms]
        return tuple(found)


_WORDS = re.compile(r"\S+")


def strip_tail(text: str, phrase: str) -> str | None:
    """`text` without the words of `phrase` at its end (compared folded); None when it
    does not end with them or nothing would be left before them."""
    wanted = [fold(word) for word in phrase.split()]
    found = list(_WORDS.finditer(text))
    if len(found) <= len(wanted):
        return None
    tail = found[-len(wanted) :]
    if [fold(match.group()) for match in tail] != wanted:
        return None
    return text[: tail[0].start()].strip() or None


def require_coordinator(request: Request, services: Services) -> None:
    if not services.rights.is_coordinator(request.sender):
        raise UserError("not_coordinator", verb=request.verb)


def may_mark(request: Request, services: Services, view: ThemeView) -> bool:
    """Coordinators, and members of any room bound to the theme."""
    rights = services.rights
    return rights.is_coordinator(request.sender) or any(
        rights.is_member(room, request.sender) for room in view.rooms
    )


def require_marker(request: Request, services: Services, view: ThemeView) -> None:
    if not may_mark(request, services, view):
        raise UserError("not_marker", verb=request.verb, theme=view.theme.name)


def room_setup(services: Services, view: ThemeView | None) -> RoomSetup:
    config = services.config
    return setup_for(
        config.rooms,
        view.theme if view else None,
        coordination_copies=config.reminders.coordination_copies,
    )


def require_args(request: Request) -> str:
    return require_text(request.args, request.usage)


def require_text(text: str, usage: str) -> str:
    if not text.strip():
        raise UserError("missing_args", usage=usage)
    return text.strip()


MAX_NOTE_LENGTH = 500


def confirmed(text: str) -> tuple[str, bool]:
    """(`text` without a confirming last word, whether it ended with one)."""
    words = text.split()
    if not words or fold(words[-1]) not in CONFIRM.choices:
        return text, False
    return text.rstrip()[: -len(words[-1])].strip(), True


def check_note(text: str) -> str | None:
    """A note or reason as stored: refused when too long, rather than cut silently."""
    note = clean_name(text)
    if len(note) > MAX_NOTE_LENGTH:
        raise UserError("note_too_long", limit=MAX_NOTE_LENGTH, length=len(note))
    return note or None


def user_ids(text: str, mentions: tuple[str, ...]) -> list[str]:
    """Matrix user ids in `text` and the people mentioned, for a handler that reads a
    part of its call itself (`kvp übernommen <Nr> [@person] [bis <Datum>]`)."""
    try:
        return list(people_in(text, mentions))
    except NotAUser as err:
        raise UserError("invalid_user_id", text=err.text) from err


def _theme_or_error(match: Match, query: str, services: Services) -> ThemeView:
    if match.name is not None:
        theme = services.store.theme(match.name)
        if theme is not None:
            return theme
    candidates = list(match.ambiguous or match.closest)
    raise UserError(
        "ambiguous_theme" if match.ambiguous else "unknown_theme",
        name=query,
        candidates=candidates[:MAX_CANDIDATES],
        more=max(0, len(candidates) - MAX_CANDIDATES),
    )


def find_theme(text: str, services: Services) -> ThemeView:
    """The theme that the whole `text` names, or a refusal that lists the closest ones."""
    return _theme_or_error(resolve(text, services.store.names), text, services)


def find_leading_theme(text: str, services: Services) -> tuple[ThemeView, str]:
    """The theme named at the start of `text`, and the rest of the arguments."""
    match = resolve_leading(text, services.store.names)
    query = text.split()[0] if text.split() else text
    return _theme_or_error(match, query, services), match.rest


def council_dates(services: Services) -> list[date]:
    """Council meetings from the config, from chat and from the council information
    system, in order."""
    return services.council.days(services.config.council.meetings)


def replan_with_council(
    view: ThemeView,
    services: Services,
    *,
    z2: date | None = None,
    pins: dict[str, date] | None = None,
) -> dict[str, date]:
    """New dates after a change of Z2 or a pin: with the council meetings and the theme's
    paper (domain.council.replan_theme)."""
    return replan_theme(view, council_dates(services), z2=z2, pins=pins)


def moved_notices(
    request: Request,
    services: Services,
    before: ThemeView,
    changes: Mapping[str, date],
    *,
    cause: str,
    z2: date | None = None,
    day: date | None = None,
) -> tuple[RoomNotice, ...]:
    """One notice to each of the theme's other rooms of what moved (read after the change
    is stored); none where nothing moved."""
    after = services.store.theme_by_id(before.id)
    change = date_change(
        before,
        changes,
        z2=z2,
        after_window=window(after) if after is not None else None,
        after=after,
    )
    if change is None:
        return ()
    rooms = rooms_to_tell(change, room_setup(services, before), told_already={request.room_id})
    message = services.renderer.message(
        "dates_moved",
        theme=before.theme,
        change=change,
        labels=change.labels,
        holidays=change.holidays(services.calendar),
        cause=cause,
        day=day,
        actor=request.sender,
        prefix=services.config.bot.prefix,
    )
    return tuple(RoomNotice(room, message) for room in rooms)


def parse_day(text: str, usage: str) -> date:
    """A single date (or calendar week) as the whole argument."""
    try:
        return parse_date_spec(text).first_day
    except DateError as err:
        raise date_error(err, usage) from err


def date_error(err: DateError, usage: str, *, quarters: bool = False) -> UserError:
    """The refusal of an unreadable date; `quarters`: where a quarter is taken too (an
    idea's, a milestone's), the answer lists the quarter forms."""
    return UserError(
        f"date_{err.code}", text=err.text, usage=usage, quarters=quarters, **err.details
    )


def find_step(view: ThemeView, word: str) -> tuple[StepRecord, StepDefinition] | None:
    """A step by key (`3a`) or by a word of its name (`Beschlussvorlage`)."""
    template = view.template
    definition = template.step(word)
    if definition is None and len(fold(word)) >= 4:
        matches = [d for d in template.steps if fold(word) in fold(f"{d.short} {d.name}")]
        definition = matches[0] if len(matches) == 1 else None
    if definition is None:
        return None
    step = view.step(definition.key)
    return None if step is None else (step, definition)


def theme_and_step(request: Request) -> StepRef:
    """`<Thema> <Schritt> [rest]` (the router found the theme), with German refusals for
    every way the step can be wrong."""
    view = request.named_theme
    if not view.steps:
        raise UserError("idea_has_no_steps", theme=view.theme.name)
    word, rest = first_word(request.args)
    if not word:
        raise UserError("missing_step", usage=request.usage, keys=[s.key for s in view.steps])
    found = find_step(view, word)
    if found is None:
        raise UserError("unknown_step", step=word, keys=[s.key for s in view.steps])
    return StepRef(view, found[0], found[1], rest)


def change_status(
    request: Request,
    services: Services,
    *,
    allowed_from: tuple[str, ...],
    to: str,
    action: str,
) -> Message:
    """Pause, resume or archive: a coordinator moves a theme between states."""
    view = request.values.theme
    assert view is not None, "declared: arg.theme()"
    if view.theme.status not in allowed_from:
        raise UserError(f"cannot_{action}", theme=view.theme.name, status=view.theme.status)
    services.store.set_status(view.id, to, actor=request.sender, now=request.now, action=action)
    return services.renderer.sentence(
        "changes", action, theme=view.theme.name, prefix=services.config.bot.prefix
    )
