"""A theme's steps as an iCalendar file (.ics). Pure: a ThemeView and `now` in, bytes out.

Every step is an all-day event, but a meeting with a time (`!zt termin … 14:00–16:00`):
that one is a timed event in the city's zone (Europe/Berlin, with its VTIMEZONE; two
hours when no end is given), with its place as LOCATION. The digital participation
window is one more event, spanning its days, after the steps. The UID is derived from
the theme id and the step key, so importing a newer export updates the events instead of
adding a second set. The only words in here are labels passed in by the caller
(`CalendarLabels`, from templates/<lang>/calendar_words.j2); the step names, leads and
goals come from the theme's own process template."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vDuration

from bot.domain.documents import StepDocument
from bot.domain.meetings import meeting_time, starts_and_ends, takes_time
from bot.domain.milestones import Milestone
from bot.domain.participation import Window, window
from bot.domain.process import Lead, StepDefinition
from bot.domain.theme_names import fold
from bot.domain.themes import StepRecord, StepState, ThemeView

PRODID = "-//Zukunftstische-Bot//DE"
UID_DOMAIN = "zukunftstische"
# SEQUENCE counts seconds since this instant: it only grows, so a client that compares
# sequences takes a newer export (or a feed after a change, even in the same minute) as
# the update; it stays below 2**31 until 2088.
_SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
# The UID part of the participation window's event: longer than any step key may be.
WINDOW_UID_KEY = "beteiligung"
# Meetings with a time are in this zone unless the caller names the configured one.
BERLIN = ZoneInfo("Europe/Berlin")
_OPEN_BOX = "☐"
_CHECKED_BOX = "☑"


def step_uid(theme_id: int, created_at: datetime, key: str) -> str:
    """Stable across exports and renames: the theme id, its creation time and the step key
    never change (the creation time keeps a reused id of a deleted theme apart)."""
    # Stored times are UTC; SQLite hands them back without a zone.
    aware = created_at if created_at.tzinfo else created_at.replace(tzinfo=UTC)
    created = int(aware.timestamp())
    return f"zt-{theme_id}-{created}-{key.casefold()}@{UID_DOMAIN}"


def sequence_at(now: datetime) -> int:
    return max(0, int((now - _SEQUENCE_EPOCH).total_seconds()))


def change_sequence(changes: Iterable[datetime]) -> int:
    """A feed's SEQUENCE after these changes of its theme (in any order): the seconds of
    each change, but at least one more than the change before, so two changes in the same
    second still count twice, and every change raises it."""
    sequence = 0
    for moment in sorted(changes):
        sequence = max(sequence + 1, sequence_at(moment))
    return sequence


def theme_calendar(
    view: ThemeView,
    *,
    lead_names: Mapping[str, str],
    now: datetime,
    labels: CalendarLabels,
    zone: tzinfo = BERLIN,
) -> bytes:
    """The .ics file of one theme: one VEVENT per step, in step order (all-day, or timed
    in `zone` for a meeting with a time)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    calendar = _calendar(view.theme.name)
    _add_events(calendar, view, lead_names=lead_names, now=now, labels=labels, zone=zone)
    calendar.add_missing_timezones()
    return calendar.to_ical()


# Steps that will not take place: their events are CANCELLED.
CALLED_OFF = frozenset({StepState.skipped, StepState.lapsed})
# How often a subscribed client should look again (Outlook and Thunderbird read these).
FEED_REFRESH = timedelta(hours=1)


def feed_calendar(
    themes: Sequence[tuple[ThemeView, datetime, int]],
    *,
    name: str,
    lead_names: Mapping[str, str],
    labels: CalendarLabels,
    refresh: timedelta = FEED_REFRESH,
    zone: tzinfo = BERLIN,
    milestones: Sequence[Milestone] = (),
) -> bytes:
    """A subscribed calendar feed: every step of each theme, stamped with the time the
    theme last changed (not the time of the request) and its `change_sequence`. The same
    data gives the same bytes (the feed's ETag), and a change, e.g. a moved step, raises
    SEQUENCE under the same UID, so that a subscriber's event is updated instead of a
    second one added."""
    calendar = _calendar(name)
    calendar.add("refresh-interval", refresh, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(refresh).to_ical().decode())
    for view, changed, sequence in themes:
        if changed.tzinfo is None:
            raise ValueError("changed must be timezone-aware")
        _add_events(
            calendar,
            view,
            lead_names=lead_names,
            now=changed,
            labels=labels,
            sequence=sequence,
            zone=zone,
        )
    for milestone in milestones:
        calendar.add_component(milestone_event(milestone, labels.milestone))
    calendar.add_missing_timezones()  # the VTIMEZONE of the timed meetings' zone
    return calendar.to_ical()


def milestone_event(milestone: Milestone, word: str) -> Event:
    """A milestone of another strategy: all-day over its days; the UID from its folded
    name (one per name, as stored), SEQUENCE from its last move."""
    changed = milestone.changed_at or _SEQUENCE_EPOCH
    stamp = changed.astimezone(UTC)
    event = Event()
    event.add("uid", f"zt-meilenstein-{fold(milestone.name).replace(' ', '-')}@{UID_DOMAIN}")
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("sequence", sequence_at(changed))
    event.add("dtstart", milestone.first_day)
    event.add("dtend", _next_day(milestone.last_day))
    event.add("summary", f"◆ {word}: {milestone.name}")
    event.add("description", f"{word}: {milestone.name} ({milestone.written})")
    event.add("transp", "TRANSPARENT")
    return event


def _with_documents(
    description: str, documents: Sequence[StepDocument], labels: CalendarLabels
) -> str:
    """The step's documents below its description (iCalendar text escapes them)."""
    if not documents:
        return description
    lines = [f"{labels.documents}:"]
    lines.extend(f"- {d.title}: {d.url}" if d.title else f"- {d.url}" for d in documents)
    return "\n".join([description, "", *lines]) if description else "\n".join(lines)


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    return calendar


def _add_events(
    calendar: Calendar,
    view: ThemeView,
    *,
    lead_names: Mapping[str, str],
    now: datetime,
    labels: CalendarLabels,
    sequence: int | None = None,
    zone: tzinfo = BERLIN,
) -> None:
    template = view.template
    events = [
        _event(
            view,
            step,
            template.step(step.key),
            lead_names=lead_names,
            now=now,
            labels=labels,
            zone=zone,
        )
        for step in view.steps
    ]
    participation = window(view)
    owner = view.step(participation.step_key) if participation is not None else None
    if participation is not None and owner is not None:
        events.append(_window_event(view, owner, participation, lead_names, now, labels))
    for event in events:
        if sequence is not None:
            event["sequence"] = sequence
        calendar.add_component(event)


@dataclass(frozen=True)
class CalendarLabels:
    """The calendar's few fixed words, bundled so the helpers take one argument for them;
    the caller reads them from templates/<lang>/calendar_words.j2 (`from_words`)."""

    lead: str
    goals: str
    done: str
    skipped: str
    participation: str
    step: str
    lapsed: str
    documents: str
    milestone: str

    @classmethod
    def from_words(cls, words: Mapping[str, str]) -> CalendarLabels:
        """From a word list's blocks by name (`Renderer.words("calendar_words")`)."""
        return cls(**{field.name: words[field.name] for field in fields(cls)})


def _event(
    view: ThemeView,
    step: StepRecord,
    definition: StepDefinition | None,
    *,
    lead_names: Mapping[str, str],
    now: datetime,
    labels: CalendarLabels,
    zone: tzinfo = BERLIN,
) -> Event:
    stamp = now.astimezone(UTC)
    event = Event()
    event.add("uid", step_uid(view.id, view.theme.created_at, step.key))
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("sequence", sequence_at(now))
    when = meeting_time(step)
    if when is not None and definition is not None and takes_time(definition):
        start, end = starts_and_ends(step.due, when, zone)
        event.add("dtstart", start)  # DTSTART;TZID=Europe/Berlin:…
        event.add("dtend", end)
        # A meeting at a time is busy time for those invited.
        event.add("transp", "OPAQUE")
    else:
        event.add("dtstart", step.due)
        event.add("dtend", _next_day(step.due))
        # All-day markers for a process step should not block anyone's working day.
        event.add("transp", "TRANSPARENT")
    event.add("summary", _summary(view.theme.name, step, definition, labels))
    if step.place:
        event.add("location", step.place)
    description = _description(step, definition, lead_names, labels)
    event.add("description", _with_documents(description, view.documents_of(step.key), labels))
    # A skipped or lapsed step is called off; everything else stands as planned.
    event.add("status", "CANCELLED" if step.state in CALLED_OFF else "CONFIRMED")
    return event


def _window_event(
    view: ThemeView,
    step: StepRecord,
    participation: Window,
    lead_names: Mapping[str, str],
    now: datetime,
    labels: CalendarLabels,
) -> Event:
    """The digital participation as one event spanning its window (issue 12)."""
    stamp = now.astimezone(UTC)
    event = Event()
    event.add("uid", step_uid(view.id, view.theme.created_at, WINDOW_UID_KEY))
    event.add("dtstamp", stamp)
    event.add("last-modified", stamp)
    event.add("sequence", sequence_at(now))
    event.add("dtstart", participation.opens)
    event.add("dtend", _next_day(participation.closes))
    event.add("summary", f"{view.theme.name}: {labels.participation} ({labels.step} {step.key})")
    lead = lead_names.get(Lead.buergerdialog.value, Lead.buergerdialog.value)
    event.add("description", f"{labels.lead}: {lead}")
    event.add("status", "CANCELLED" if step.state in CALLED_OFF else "CONFIRMED")
    event.add("transp", "TRANSPARENT")
    return event


def _next_day(day: date) -> date:
    # DTEND of an all-day event is exclusive: the event covers exactly `day`.
    return day + timedelta(days=1)


def _summary(
    theme: str, step: StepRecord, definition: StepDefinition | None, labels: CalendarLabels
) -> str:
    name = definition.label if definition else ""
    summary = f"{theme}: {step.key} {name}".rstrip()
    marker = _state_word(step, labels)
    return f"{summary} ({marker})" if marker else summary


def _state_word(step: StepRecord, labels: CalendarLabels) -> str:
    if step.state == StepState.done:
        return labels.done
    if step.state == StepState.skipped:
        return labels.skipped
    if step.state == StepState.lapsed:
        return labels.lapsed
    return ""


def _description(
    step: StepRecord,
    definition: StepDefinition | None,
    lead_names: Mapping[str, str],
    labels: CalendarLabels,
) -> str:
    if definition is None:
        return ""
    lines: list[str] = []
    if definition.short and definition.short != definition.name:
        lines.append(definition.name)  # the summary shows the short name only
    leads = ", ".join(lead_names.get(lead.value, lead.value) for lead in definition.leads)
    lines.append(f"{labels.lead}: {leads}")
    if definition.goals:
        box = _CHECKED_BOX if step.state == StepState.done else _OPEN_BOX
        lines.append("")
        lines.append(f"{labels.goals}:")
        lines.extend(f"{box} {goal}" for goal in definition.goals)
    return "\n".join(lines)


# The public calendar's events carry this stamp: the same page gives the same bytes.
_PUBLIC_STAMP = datetime(2020, 1, 1, tzinfo=UTC)


def public_calendar(
    events: Iterable[tuple[str, str, date, date | None, str | None]], *, name: str, base: str
) -> bytes:
    """The public page's calendar (issue 24): (uid key, summary, first day, last day or
    None, link) as all-day events; only what the public page shows, nothing internal."""
    calendar = _calendar(name)
    for key, summary, first, last, link in events:
        event = Event()
        event.add("uid", f"zt-public-{key}@{UID_DOMAIN}")
        event.add("dtstamp", _PUBLIC_STAMP)
        event.add("summary", summary)
        event.add("dtstart", first)
        event.add("dtend", _next_day(last or first))
        event.add("transp", "TRANSPARENT")
        if link:
            event.add("url", link)
        calendar.add_component(event)
    return calendar.to_ical()
