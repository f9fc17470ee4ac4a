"""Matrix polls (MSC3381): reading poll events, counting votes and the evaluation summary.

Pure: counts votes from raw event dicts (as matrix-nio's `UnknownEvent.source` or the
relations API return them). No I/O and no clock. The contents the bot sends are built in
bot.matrix.events.

We send the unstable `org.matrix.msc3381.*` types because every Element client renders and
sends those; we parse the stable `m.poll.*` names too. Counting follows MSC3381 exactly:

- only each user's latest response (by `origin_server_ts`) counts, even if it is invalid;
- the selections are truncated to `max_selections`, then any unknown answer id spoils the
  vote (as if no selection was made) and a repeated id counts once;
- an empty selection withdraws the vote (unvote);
- a response without its `m.reference` relation (e.g. redacted) is detached from the poll,
  so the user's previous response counts again;
- only the first end event (by `origin_server_ts`) from the poll's creator, or from someone
  who may redact other people's events in the room, closes the poll (as Element shows it:
  matrix-js-sdk `Poll.validateEndEvent`); responses with a later timestamp are ignored as
  if they never happened;
- a response block without `answers` (how matrix-js-sdk serializes an empty vote) withdraws
  the vote, like an empty selection.

Anonymous mode: each voter answers a poll of their own in a direct chat. Count each of those
polls with `tally` (or `tally_latest` from stored latest votes) and add them up with
`merge_tallies`; only the merged counts may be kept once the evaluation is closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from bot.domain.questionnaire import Question, QuestionKind, Questionnaire

POLL_START = "org.matrix.msc3381.poll.start"
POLL_RESPONSE = "org.matrix.msc3381.poll.response"
POLL_END = "org.matrix.msc3381.poll.end"
POLL_START_STABLE = "m.poll.start"
POLL_RESPONSE_STABLE = "m.poll.response"
POLL_END_STABLE = "m.poll.end"

POLL_START_TYPES = (POLL_START, POLL_START_STABLE)
POLL_RESPONSE_TYPES = (POLL_RESPONSE, POLL_RESPONSE_STABLE)
POLL_END_TYPES = (POLL_END, POLL_END_STABLE)
POLL_EVENT_TYPES = POLL_START_TYPES + POLL_RESPONSE_TYPES + POLL_END_TYPES

REFERENCE = "m.reference"
# MSC3381: "The array is truncated to 20 maximum options."
MAX_POLL_ANSWERS = 20


# --- events we read ----------------------------------------------------------------------


@dataclass(frozen=True)
class PollDefinition:
    """What counting needs to know about a poll."""

    start_event_id: str
    creator: str  # the sender of the start event: the only one whose end event counts
    answer_ids: tuple[str, ...]
    max_selections: int = 1

    @classmethod
    def from_question(
        cls, question: Question, *, start_event_id: str, creator: str
    ) -> PollDefinition:
        return cls(start_event_id, creator, question.answer_ids, max_selections=1)


@dataclass(frozen=True)
class Vote:
    sender: str
    start_event_id: str
    answers: tuple[str, ...]
    origin_server_ts: int
    event_id: str
    # Selections missing or not a list of strings: still the user's latest response, so it
    # replaces earlier ones, but it counts as spoiled.
    malformed: bool = False


@dataclass(frozen=True)
class End:
    sender: str
    start_event_id: str
    origin_server_ts: int
    event_id: str


def parse_start(event: Mapping[str, Any]) -> PollDefinition | None:
    """The poll an `…poll.start` event defines (unstable, stable or older stable layout)."""
    if event.get("type") not in POLL_START_TYPES:
        return None
    envelope = _envelope(event)
    if envelope is None:
        return None
    sender, event_id, _, content = envelope
    body = next(
        (
            content[key]
            for key in (POLL_START, "m.poll", POLL_START_STABLE)
            if isinstance(content.get(key), Mapping)
        ),
        None,
    )
    if body is None or not isinstance(body.get("answers"), list):
        return None
    ids: list[str] = []
    for answer in body["answers"][:MAX_POLL_ANSWERS]:
        answer_id = answer.get("id", answer.get("m.id")) if isinstance(answer, Mapping) else None
        if isinstance(answer_id, str) and answer_id not in ids:
            ids.append(answer_id)
    max_selections = body.get("max_selections", 1)
    if not _is_int(max_selections) or max_selections < 1:
        max_selections = 1  # MSC3381: must be >= 1, defaults to 1
    return PollDefinition(event_id, sender, tuple(ids), max_selections)


def parse_response(event: Mapping[str, Any]) -> Vote | None:
    """A vote from an unstable or stable response event; None if it is not one (or it has
    lost its relation to a poll, e.g. by redaction)."""
    related = _related(event, POLL_RESPONSE_TYPES)
    if related is None:
        return None
    sender, event_id, ts, content, start_event_id = related
    selections = _selections(content, stable=event["type"] == POLL_RESPONSE_STABLE)
    malformed = selections is None
    return Vote(sender, start_event_id, selections or (), ts, event_id, malformed)


def parse_end(event: Mapping[str, Any]) -> End | None:
    related = _related(event, POLL_END_TYPES)
    if related is None:
        return None
    sender, event_id, ts, _content, start_event_id = related
    return End(sender, start_event_id, ts, event_id)


def _related(
    event: Mapping[str, Any], types: tuple[str, ...]
) -> tuple[str, str, int, Mapping[str, Any], str] | None:
    """(sender, event id, timestamp, content, poll start id) of an event of one of `types`
    that refers to a poll; None otherwise."""
    if event.get("type") not in types:
        return None
    envelope = _envelope(event)
    if envelope is None:
        return None
    start_event_id = _reference(envelope[3])
    if start_event_id is None:
        return None
    return (*envelope, start_event_id)


def _envelope(event: Mapping[str, Any]) -> tuple[str, str, int, Mapping[str, Any]] | None:
    sender = event.get("sender")
    event_id = event.get("event_id")
    ts = event.get("origin_server_ts")
    content = event.get("content")
    if not (isinstance(sender, str) and isinstance(event_id, str) and _is_int(ts)):
        return None
    if not isinstance(content, Mapping):
        return None
    return sender, event_id, ts, content


def _reference(content: Mapping[str, Any]) -> str | None:
    relation = content.get("m.relates_to")
    if not isinstance(relation, Mapping) or relation.get("rel_type") != REFERENCE:
        return None
    event_id = relation.get("event_id")
    return event_id if isinstance(event_id, str) and event_id else None


def _selections(content: Mapping[str, Any], *, stable: bool) -> tuple[str, ...] | None:
    """The answers a response selects: () withdraws the vote, None spoils it.

    matrix-js-sdk (Element) writes `{"org.matrix.msc3381.poll.response": {"answers": […]}}`
    under the unstable or the stable key, and serializes an empty vote as a block without
    `answers`; the MSC's stable layout is `{"m.selections": […]}`."""
    blocks = [content.get(POLL_RESPONSE), content.get(POLL_RESPONSE_STABLE)]
    if stable:
        blocks.reverse()  # prefer the block that matches the event type; some clients mix
    for block in blocks:
        if isinstance(block, Mapping):
            return _answer_ids(block.get("answers", []))
    if "m.selections" in content:
        return _answer_ids(content["m.selections"])
    return None


def _answer_ids(found: object) -> tuple[str, ...] | None:
    if not isinstance(found, list) or not all(isinstance(a, str) for a in found):
        return None
    return tuple(found)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# --- counting ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """The result of one poll (or of many direct-chat polls merged): counts only."""

    counts: Mapping[str, int] = field(hash=False)  # answer id -> voters who chose it
    voters: int  # users whose counted response is a valid, non-empty selection
    spoiled: int  # users whose counted response is invalid
    ended: bool = False
    ended_ts: int | None = None

    def __post_init__(self) -> None:
        # An own copy, so a result does not change with the mapping it was built from. A plain
        # dict (not a read-only proxy) so that asdict, deepcopy and pickle keep working.
        object.__setattr__(self, "counts", dict(self.counts))

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def tally(
    poll: PollDefinition,
    events: Iterable[Mapping[str, Any]],
    may_end: Callable[[str], bool] | None = None,
) -> Tally:
    """Count one poll from raw events (any order; timeline order breaks timestamp ties).

    Pass everything known about the poll: the timeline events and, after a gap in sync, the
    relations of the start event. Events of other polls and other types are ignored; the same
    event seen twice changes nothing. `may_end` tells who besides the poll's creator may end
    it: those who may redact other people's events in the room (MSC3381, and Element).
    """
    votes: list[tuple[int, int, Vote]] = []
    ends: list[tuple[int, int, End]] = []
    for position, event in enumerate(events):
        if (vote := parse_response(event)) is not None:
            if vote.start_event_id == poll.start_event_id:
                votes.append((vote.origin_server_ts, position, vote))
        elif (end := parse_end(event)) is not None and _ends(poll, end, may_end):
            ends.append((end.origin_server_ts, position, end))
    # Only the first valid end event counts; responses stamped after it never happened.
    ended_ts = min(ends)[0] if ends else None
    latest: dict[str, Vote] = {}
    for ts, _, vote in sorted(votes, key=lambda item: item[:2]):
        if ended_ts is None or ts <= ended_ts:
            latest[vote.sender] = vote  # sorted oldest first: the latest one stays
    return tally_latest(poll, latest, ended_ts=ended_ts)


def _ends(poll: PollDefinition, end: End, may_end: Callable[[str], bool] | None) -> bool:
    if end.start_event_id != poll.start_event_id:
        return False
    return end.sender == poll.creator or (may_end is not None and may_end(end.sender))


def tally_latest(
    poll: PollDefinition, votes_by_voter: Mapping[str, Vote], *, ended_ts: int | None = None
) -> Tally:
    """Count votes already reduced to the latest one per voter.

    The key is opaque (a user id, or a direct chat in the anonymous mode) and the votes'
    `start_event_id` is not checked, so one definition can count the same question asked in
    many direct chats. Keep the latest vote per voter with `newer_vote`.
    """
    counts = dict.fromkeys(poll.answer_ids, 0)
    voters = spoiled = 0
    for vote in votes_by_voter.values():
        ballot = _ballot(poll, vote)
        if ballot is None:
            spoiled += 1
        elif ballot:
            voters += 1
            for answer_id in ballot:
                counts[answer_id] += 1
    return Tally(counts, voters, spoiled, ended=ended_ts is not None, ended_ts=ended_ts)


def _ballot(poll: PollDefinition, vote: Vote) -> tuple[str, ...] | None:
    """The answers a vote counts for: None if spoiled, () if withdrawn."""
    if vote.malformed:
        return None
    # MSC3381 order: truncate to max_selections first, then check and de-duplicate.
    chosen = vote.answers[: poll.max_selections]
    if any(answer_id not in poll.answer_ids for answer_id in chosen):
        return None
    return tuple(dict.fromkeys(chosen))  # each sender gets one vote per answer


def newer_vote(current: Vote | None, new: Vote) -> Vote:
    """The vote that counts after `new` arrives: the later one; on a tie, the one that
    arrived last (timeline order)."""
    if current is None or new.origin_server_ts >= current.origin_server_ts:
        return new
    return current


def merge_tallies(tallies: Iterable[Tally]) -> Tally:
    """Add up tallies of the same question (e.g. one direct-chat poll per person).

    The merged result is ended when every part is; it carries nothing about which part
    contributed what, so it is what may be stored after the evaluation closes.
    """
    parts = list(tallies)
    counts: dict[str, int] = {}
    for part in parts:
        for answer_id, count in part.counts.items():
            counts[answer_id] = counts.get(answer_id, 0) + count
    ended = bool(parts) and all(part.ended for part in parts)
    ends = [part.ended_ts for part in parts if part.ended_ts is not None]
    return Tally(
        counts,
        voters=sum(part.voters for part in parts),
        spoiled=sum(part.spoiled for part in parts),
        ended=ended,
        ended_ts=max(ends) if ended and ends else None,
    )


# --- summary -----------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerCount:
    id: str
    text: str
    count: int


@dataclass(frozen=True)
class QuestionSummary:
    key: str
    text: str
    kind: QuestionKind
    answers: int  # people who gave a valid answer
    too_few: bool  # fewer than min_answers: no distribution and no mean ("zu wenige Antworten")
    distribution: tuple[AnswerCount, ...] = ()
    mean: float | None = None  # scale questions only, one decimal


@dataclass(frozen=True)
class Summary:
    questions: tuple[QuestionSummary, ...]
    min_answers: int

    def question(self, key: str) -> QuestionSummary | None:
        return next((q for q in self.questions if q.key == key), None)


def summarise(
    questionnaire: Questionnaire, tallies: Mapping[str, Tally], min_answers: int = 3
) -> Summary:
    """Per poll question (by key): how many answered, and, only if at least `min_answers`
    did, the distribution and the mean score. Below that threshold nothing but the number
    is shown, so that a result never reveals a single person's answer.

    `questionnaire` must be the one the polls were started with (store a copy with the
    evaluation, as a theme keeps its process template). Open questions are not polls and
    are left out.
    """
    if min_answers < 2:
        # A programming error, not a user's: the configuration allows no less than 2.
        raise ValueError(
            f"min_answers = {min_answers}: at least 2, or a result would reveal what a "
            "single person answered"
        )
    return Summary(
        tuple(_summarise_question(q, tallies.get(q.key), min_answers) for q in questionnaire.polls),
        min_answers,
    )


def _summarise_question(
    question: Question, result: Tally | None, min_answers: int
) -> QuestionSummary:
    answers = result.voters if result is not None else 0
    if result is None or answers < min_answers:
        return QuestionSummary(question.key, question.text, question.kind, answers, too_few=True)
    distribution = tuple(
        AnswerCount(a.id, a.text, result.counts.get(a.id, 0)) for a in question.answers
    )
    return QuestionSummary(
        question.key,
        question.text,
        question.kind,
        answers,
        too_few=False,
        distribution=distribution,
        mean=_mean(question, distribution),
    )


def _mean(question: Question, distribution: tuple[AnswerCount, ...]) -> float | None:
    if question.kind is not QuestionKind.scale:
        return None
    scores = {a.id: a.score for a in question.answers}
    total = sum(entry.count for entry in distribution)
    if total == 0:
        return None
    points = sum(entry.count * (scores[entry.id] or 0) for entry in distribution)
    # Half up, as people round (3.25 -> 3.3); float round() would give 3.2.
    mean = (Decimal(points) / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return float(mean)


def comparable_summary(current: Questionnaire, summary: Summary) -> Summary:
    """`summary` with its questions under the keys `current` compares them by: a question
    of an older version named in `previous_keys` takes the current key (and text)."""
    questions = []
    for question in summary.questions:
        key = current.comparable_key(question.key)
        now = current.question(key)
        text = now.text if now is not None and key != question.key else question.text
        questions.append(replace(question, key=key, text=text))
    return Summary(tuple(questions), summary.min_answers)
