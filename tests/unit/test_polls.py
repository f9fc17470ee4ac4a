"""domain.polls: MSC3381 content, parsing and counting over hand-built events; the summary."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain.polls import (
    POLL_END,
    POLL_END_TYPES,
    POLL_RESPONSE,
    POLL_RESPONSE_TYPES,
    POLL_START,
    POLL_START_TYPES,
    PollDefinition,
    Tally,
    Vote,
    merge_tallies,
    newer_vote,
    parse_end,
    parse_response,
    parse_start,
    summarise,
    tally,
    tally_latest,
)
from bot.domain.questionnaire import (
    VERSION_1,
    Answer,
    Question,
    QuestionKind,
    load_questionnaire,
)
from bot.matrix.events import poll_end, poll_response, poll_start

BOT = "@zt-bot:example.org"
START = "$poll"
POLL = PollDefinition(START, BOT, ("a1", "a2", "a3"))

_ids = itertools.count()


def response(
    sender: str,
    answers: list[str] | None,
    ts: int,
    *,
    start: str = START,
    stable: bool = False,
    event_id: str | None = None,
) -> dict:
    content: dict = {"m.relates_to": {"rel_type": "m.reference", "event_id": start}}
    if answers is not None:
        if stable:
            content["m.selections"] = answers
        else:
            content[POLL_RESPONSE] = {"answers": answers}
    return {
        "type": "m.poll.response" if stable else POLL_RESPONSE,
        "sender": sender,
        "event_id": event_id or f"$r{next(_ids)}",
        "origin_server_ts": ts,
        "content": content,
    }


def end(sender: str, ts: int, *, start: str = START, stable: bool = False) -> dict:
    if stable:
        content = {"m.relates_to": {"rel_type": "m.reference", "event_id": start}}
        content["m.text"] = [{"body": "Ende"}]
        kind = "m.poll.end"
    else:
        content = poll_end(start, "Die Umfrage ist beendet.")
        kind = POLL_END
    return {
        "type": kind,
        "sender": sender,
        "event_id": f"$e{next(_ids)}",
        "origin_server_ts": ts,
        "content": content,
    }


# --- content (matches reference/matrix.md exactly) --------------------------------------

# The examples from ../shared/reference/matrix.md, copied verbatim (hence the long lines).

MATRIX_MD_START = json.loads(
    """{"org.matrix.msc3381.poll.start":{
  "question":{"org.matrix.msc1767.text":"Wie zufrieden waren Sie?","body":"Wie zufrieden waren Sie?","msgtype":"m.text"},
  "kind":"org.matrix.msc3381.poll.undisclosed","max_selections":1,
  "answers":[{"id":"a1","org.matrix.msc1767.text":"sehr zufrieden"},
             {"id":"a2","org.matrix.msc1767.text":"zufrieden"}]},
 "org.matrix.msc1767.text":"Wie zufrieden waren Sie?\\n1. sehr zufrieden\\n2. zufrieden"}"""  # noqa: E501
)
MATRIX_MD_RESPONSE = json.loads(
    """{"m.relates_to":{"rel_type":"m.reference","event_id":"$start"},
 "org.matrix.msc3381.poll.response":{"answers":["a1"]}}"""
)
MATRIX_MD_END = json.loads(
    """{"m.relates_to":{"rel_type":"m.reference","event_id":"$start"},
 "org.matrix.msc3381.poll.end":{},
 "org.matrix.msc1767.text":"Die Umfrage ist beendet.","body":"Die Umfrage ist beendet.","msgtype":"m.text"}"""  # noqa: E501
)


def _question(*texts: str, text: str = "Wie zufrieden waren Sie?") -> Question:
    answers = tuple(Answer(id=f"a{n}", text=t, score=n) for n, t in enumerate(texts, start=1))
    return Question(key="q", text=text, kind=QuestionKind.scale, answers=answers)


def test_start_content_is_exactly_the_reference() -> None:
    question = _question("sehr zufrieden", "zufrieden")
    assert poll_start(question) == MATRIX_MD_START


def test_start_content_disclosed_kind() -> None:
    content = poll_start(_question("ja", "nein"), kind="disclosed")
    assert content[POLL_START]["kind"] == "org.matrix.msc3381.poll.disclosed"
    with pytest.raises(ValueError):
        poll_start(_question("ja", "nein"), kind="secret")  # type: ignore[arg-type]


def test_open_question_is_no_poll() -> None:
    with pytest.raises(ValueError, match="is open, not a poll"):
        poll_start(load_questionnaire(default=VERSION_1).question("open"))


def test_start_content_of_the_default_questionnaire() -> None:
    for question in load_questionnaire(default=VERSION_1).polls:
        content = poll_start(question)
        answers = content[POLL_START]["answers"]
        assert [a["id"] for a in answers] == list(question.answer_ids)
        fallback = content["org.matrix.msc1767.text"].splitlines()
        assert fallback[0] == question.text
        assert fallback[1] == f"1. {question.answers[0].text}"
        assert len(json.dumps(content).encode()) < 65536


def test_response_and_end_content_are_exactly_the_reference() -> None:
    assert poll_response("$start", ["a1"]) == MATRIX_MD_RESPONSE
    assert poll_end("$start", "Die Umfrage ist beendet.") == MATRIX_MD_END


def test_event_type_constants() -> None:
    assert POLL_START_TYPES == ("org.matrix.msc3381.poll.start", "m.poll.start")
    assert POLL_RESPONSE_TYPES == ("org.matrix.msc3381.poll.response", "m.poll.response")
    assert POLL_END_TYPES == ("org.matrix.msc3381.poll.end", "m.poll.end")


# --- parsing -----------------------------------------------------------------------------


def test_parse_unstable_response() -> None:
    event = response("@a:x", ["a2"], 10, event_id="$v")
    assert parse_response(event) == Vote("@a:x", START, ("a2",), 10, "$v")


def test_parse_stable_response() -> None:
    vote = parse_response(response("@a:x", ["a1"], 10, stable=True))
    assert vote is not None
    assert vote.answers == ("a1",)
    assert not vote.malformed


def test_response_without_relation_is_none() -> None:
    # A redacted response loses m.relates_to: MSC3381 detaches it from the poll.
    event = response("@a:x", ["a1"], 10)
    event["content"] = {}
    assert parse_response(event) is None
    event = response("@a:x", ["a1"], 10)
    event["content"]["m.relates_to"]["rel_type"] = "m.thread"
    assert parse_response(event) is None


def test_malformed_response_is_kept_as_malformed() -> None:
    assert parse_response(response("@a:x", None, 10)).malformed
    event = response("@a:x", ["a1"], 10)
    event["content"][POLL_RESPONSE]["answers"] = "a1"
    assert parse_response(event).malformed
    event["content"][POLL_RESPONSE]["answers"] = [1]
    assert parse_response(event).malformed


def test_not_a_response() -> None:
    assert parse_response(end(BOT, 10)) is None
    assert parse_response({"type": POLL_RESPONSE}) is None
    event = response("@a:x", ["a1"], 10)
    event["origin_server_ts"] = "10"
    assert parse_response(event) is None


def test_parse_end_unstable_and_stable() -> None:
    for stable in (False, True):
        parsed = parse_end(end(BOT, 50, stable=stable))
        assert parsed is not None
        assert (parsed.sender, parsed.start_event_id, parsed.origin_server_ts) == (BOT, START, 50)
    assert parse_end(response("@a:x", [], 1)) is None


def test_parse_start_of_our_own_content() -> None:
    question = load_questionnaire(default=VERSION_1).question("q5")
    event = {
        "type": POLL_START,
        "sender": BOT,
        "event_id": "$s",
        "origin_server_ts": 1,
        "content": poll_start(question),
    }
    assert parse_start(event) == PollDefinition("$s", BOT, ("a1", "a2", "a3", "a4"), 1)


def test_parse_start_stable_layouts() -> None:
    stable = {
        "m.text": [{"body": "Pizza?"}],
        "m.poll": {
            "kind": "m.disclosed",
            "max_selections": 2,
            "question": {"m.text": [{"body": "Pizza?"}]},
            "answers": [{"m.id": "p", "m.text": [{"body": "P"}]}, {"m.id": "q", "m.text": []}],
        },
    }
    older = {"m.poll.start": {"question": {"m.text": "?"}, "answers": [{"id": "x"}, {"id": "y"}]}}
    base = {"type": "m.poll.start", "sender": "@al:x", "event_id": "$s", "origin_server_ts": 1}
    assert parse_start({**base, "content": stable}) == PollDefinition("$s", "@al:x", ("p", "q"), 2)
    assert parse_start({**base, "content": older}) == PollDefinition("$s", "@al:x", ("x", "y"), 1)
    assert parse_start({**base, "content": {}}) is None
    assert parse_start(response("@a:x", [], 1)) is None


def test_parse_start_truncates_to_twenty_answers() -> None:
    answers = [{"id": f"a{n}"} for n in range(25)]
    event = {
        "type": POLL_START,
        "sender": BOT,
        "event_id": "$s",
        "origin_server_ts": 1,
        "content": {POLL_START: {"answers": answers, "max_selections": 0}},
    }
    poll = parse_start(event)
    assert len(poll.answer_ids) == 20
    assert poll.max_selections == 1


# --- counting ----------------------------------------------------------------------------


def test_simple_count() -> None:
    result = tally(
        POLL,
        [response("@a:x", ["a1"], 1), response("@b:x", ["a1"], 2), response("@c:x", ["a3"], 3)],
    )
    assert result.counts == {"a1": 2, "a2": 0, "a3": 1}
    assert (result.voters, result.spoiled, result.ended, result.ended_ts) == (3, 0, False, None)


def test_changed_vote_counts_the_latest() -> None:
    result = tally(POLL, [response("@a:x", ["a1"], 1), response("@a:x", ["a2"], 5)])
    assert result.counts == {"a1": 0, "a2": 1, "a3": 0}
    assert result.voters == 1


def test_latest_is_by_timestamp_not_by_arrival() -> None:
    # The relations API and a gappy sync can deliver an older vote after a newer one.
    result = tally(POLL, [response("@a:x", ["a2"], 5), response("@a:x", ["a1"], 1)])
    assert result.counts["a2"] == 1
    assert result.counts["a1"] == 0


def test_tie_is_broken_by_event_order() -> None:
    result = tally(POLL, [response("@a:x", ["a1"], 7), response("@a:x", ["a3"], 7)])
    assert result.counts == {"a1": 0, "a2": 0, "a3": 1}


def test_unknown_answer_id_spoils_the_vote() -> None:
    result = tally(POLL, [response("@a:x", ["zz"], 1), response("@b:x", ["a1"], 2)])
    assert result.counts == {"a1": 1, "a2": 0, "a3": 0}
    assert (result.voters, result.spoiled) == (1, 1)


def test_spoiled_latest_replaces_an_earlier_valid_vote() -> None:
    # "Only a user's most recent vote is accepted, even if that event is invalid."
    result = tally(POLL, [response("@a:x", ["a1"], 1), response("@a:x", ["nope"], 2)])
    assert result.counts == {"a1": 0, "a2": 0, "a3": 0}
    assert (result.voters, result.spoiled) == (0, 1)


def test_malformed_latest_is_spoiled() -> None:
    result = tally(POLL, [response("@a:x", ["a1"], 1), response("@a:x", None, 2)])
    assert (result.voters, result.spoiled, result.total) == (0, 1, 0)


def test_empty_list_withdraws_the_vote() -> None:
    result = tally(POLL, [response("@a:x", ["a1"], 1), response("@a:x", [], 2)])
    assert result.counts == {"a1": 0, "a2": 0, "a3": 0}
    assert (result.voters, result.spoiled) == (0, 0)


def test_vote_after_the_end_is_ignored() -> None:
    events = [
        response("@a:x", ["a1"], 1),
        end(BOT, 10),
        response("@a:x", ["a2"], 11),  # a change after the end: a1 still counts
        response("@b:x", ["a3"], 12),
    ]
    result = tally(POLL, events)
    assert result.counts == {"a1": 1, "a2": 0, "a3": 0}
    assert (result.ended, result.ended_ts) == (True, 10)


def test_vote_at_the_end_timestamp_counts() -> None:
    # MSC3381: "only votes sent on or before that timestamp are considered".
    result = tally(POLL, [end(BOT, 10), response("@a:x", ["a2"], 10)])
    assert result.counts["a2"] == 1


def test_end_by_someone_else_is_ignored() -> None:
    events = [response("@a:x", ["a1"], 1), end("@a:x", 5), response("@b:x", ["a2"], 6)]
    result = tally(POLL, events)
    assert result.counts == {"a1": 1, "a2": 1, "a3": 0}
    assert not result.ended
    assert result.ended_ts is None


def test_end_by_someone_who_may_redact_counts_as_element_shows_it() -> None:
    # matrix-js-sdk Poll.validateEndEvent: the poll's sender or anyone allowed to redact
    # other people's events (a moderator; a creator of a room version 12 room).
    moderators = {"@mod:x"}
    events = [response("@a:x", ["a1"], 1), end("@mod:x", 5), response("@b:x", ["a2"], 6)]
    result = tally(POLL, events, may_end=moderators.__contains__)
    assert result.counts == {"a1": 1, "a2": 0, "a3": 0}
    assert (result.ended, result.ended_ts) == (True, 5)
    # Someone who may not redact still cannot end it.
    events = [response("@a:x", ["a1"], 1), end("@a:x", 5), response("@b:x", ["a2"], 6)]
    assert not tally(POLL, events, may_end=moderators.__contains__).ended


def test_responses_as_matrix_js_sdk_writes_them() -> None:
    def element(sender: str, block: dict, ts: int, kind: str = POLL_RESPONSE) -> dict:
        return {
            "type": kind,
            "sender": sender,
            "event_id": f"$el{next(_ids)}",
            "origin_server_ts": ts,
            "content": {"m.relates_to": {"rel_type": "m.reference", "event_id": START}} | block,
        }

    stable_key = element("@a:x", {"m.poll.response": {"answers": ["a2"]}}, 1, "m.poll.response")
    unstable = element("@b:x", {POLL_RESPONSE: {"answers": ["a1"]}}, 1)
    assert tally(POLL, [stable_key, unstable]).counts == {"a1": 1, "a2": 1, "a3": 0}
    # An empty vote serializes as a block without answers: withdrawn, not spoiled.
    withdrawn = element("@b:x", {POLL_RESPONSE: {}}, 2)
    result = tally(POLL, [stable_key, unstable, withdrawn])
    assert (result.voters, result.spoiled, result.counts["a1"]) == (1, 0, 0)
    assert parse_response(withdrawn).answers == ()
    assert not parse_response(withdrawn).malformed
    # A block whose answers are not a list of ids is still spoiled.
    broken = element("@b:x", {POLL_RESPONSE: {"answers": "a1"}}, 3)
    assert tally(POLL, [stable_key, broken]).spoiled == 1


def test_only_the_first_end_counts() -> None:
    events = [end(BOT, 20), response("@a:x", ["a1"], 15), end(BOT, 10)]
    result = tally(POLL, events)
    assert result.ended_ts == 10
    assert result.total == 0


def test_events_of_other_polls_are_ignored() -> None:
    events = [
        response("@a:x", ["a1"], 1),
        response("@b:x", ["a1"], 2, start="$other"),
        end(BOT, 3, start="$other"),
        response("@c:x", ["a2"], 4),
        {"type": "m.room.message", "sender": "@d:x", "event_id": "$m", "content": {}},
    ]
    result = tally(POLL, events)
    assert result.counts == {"a1": 1, "a2": 1, "a3": 0}
    assert not result.ended


def test_stable_names_are_counted() -> None:
    events = [
        response("@a:x", ["a1"], 1, stable=True),
        response("@b:x", ["a2"], 2),
        response("@b:x", ["a3"], 3, stable=True),
        end(BOT, 4, stable=True),
        response("@c:x", ["a1"], 5, stable=True),
    ]
    result = tally(POLL, events)
    assert result.counts == {"a1": 1, "a2": 0, "a3": 1}
    assert result.ended_ts == 4


def test_selections_beyond_max_are_truncated() -> None:
    result = tally(POLL, [response("@a:x", ["a2", "a3"], 1)])
    assert result.counts == {"a1": 0, "a2": 1, "a3": 0}
    two = PollDefinition(START, BOT, ("a1", "a2", "a3"), max_selections=2)
    result = tally(two, [response("@a:x", ["a1", "a2", "a3"], 1)])
    assert result.counts == {"a1": 1, "a2": 1, "a3": 0}
    assert result.voters == 1


def test_truncation_comes_before_the_spoil_check() -> None:
    # MSC3381: truncate to max_selections during processing; an unknown id cut off by the
    # truncation no longer spoils the vote.
    result = tally(POLL, [response("@a:x", ["a1", "zz"], 1)])
    assert (result.counts["a1"], result.spoiled) == (1, 0)
    result = tally(POLL, [response("@a:x", ["zz", "a1"], 1)])
    assert (result.counts["a1"], result.spoiled) == (0, 1)


def test_a_repeated_answer_counts_once() -> None:
    two = PollDefinition(START, BOT, ("a1", "a2"), max_selections=2)
    result = tally(two, [response("@a:x", ["a1", "a1"], 1)])
    assert result.counts == {"a1": 1, "a2": 0}


def test_redacted_latest_reverts_to_the_previous_vote() -> None:
    redacted = response("@a:x", ["a2"], 2)
    redacted["content"] = {}
    result = tally(POLL, [response("@a:x", ["a1"], 1), redacted])
    assert result.counts["a1"] == 1


def test_the_same_event_twice_changes_nothing() -> None:
    # Timeline and relations API may both deliver an event.
    vote = response("@a:x", ["a1"], 1)
    closing = end(BOT, 5)
    assert tally(POLL, [vote, vote, closing, closing]) == tally(POLL, [vote, closing])


def test_votes_from_before_the_start_count() -> None:
    # Clock drift over federation: MSC3381 counts them.
    assert tally(POLL, [response("@a:x", ["a1"], -5)]).counts["a1"] == 1


def test_tally_keeps_its_own_counts() -> None:
    counts = {"a1": 1}
    result = Tally(counts, 1, 0)
    counts["a1"] = 5
    assert result.counts == {"a1": 1}
    assert copy.deepcopy(result) == result
    assert dataclasses.asdict(result)["counts"] == {"a1": 1}


# --- the anonymous mode: one poll per direct chat ----------------------------------------


def _dm_poll(n: int) -> PollDefinition:
    return PollDefinition(f"$dm{n}", BOT, ("a1", "a2", "a3"))


def test_merge_direct_chat_polls() -> None:
    parts = [
        tally(_dm_poll(1), [response("@a:x", ["a1"], 1, start="$dm1"), end(BOT, 9, start="$dm1")]),
        tally(
            _dm_poll(2),
            [
                response("@b:x", ["a1"], 1, start="$dm2"),
                response("@b:x", ["a3"], 2, start="$dm2"),  # changed: the latest counts
                end(BOT, 8, start="$dm2"),
            ],
        ),
        tally(_dm_poll(3), [response("@c:x", ["x"], 1, start="$dm3"), end(BOT, 7, start="$dm3")]),
        tally(_dm_poll(4), [end(BOT, 7, start="$dm4")]),  # never answered
    ]
    merged = merge_tallies(parts)
    assert merged == Tally({"a1": 1, "a2": 0, "a3": 1}, 2, 1, ended=True, ended_ts=9)


def test_merge_is_open_while_any_part_is() -> None:
    parts = [tally(_dm_poll(1), [end(BOT, 9, start="$dm1")]), tally(_dm_poll(2), [])]
    merged = merge_tallies(parts)
    assert not merged.ended
    assert merged.ended_ts is None
    assert merge_tallies([]) == Tally({}, 0, 0)


def test_tally_latest_from_stored_latest_votes() -> None:
    # A store that keeps the latest vote per direct chat (until close) counts with this.
    latest: dict[str, Vote] = {}
    for event in [
        response("@a:x", ["a1"], 1, start="$dm1"),
        response("@b:x", ["a2"], 2, start="$dm2"),
        response("@a:x", ["a3"], 3, start="$dm1"),
        response("@b:x", ["a1"], 1, start="$dm2"),  # older, arrives late: ignored
        response("@c:x", [], 4, start="$dm3"),
    ]:
        vote = parse_response(event)
        latest[vote.start_event_id] = newer_vote(latest.get(vote.start_event_id), vote)
    result = tally_latest(_dm_poll(0), latest, ended_ts=10)
    assert result == Tally({"a1": 0, "a2": 1, "a3": 1}, 2, 0, ended=True, ended_ts=10)


def test_newer_vote() -> None:
    old = Vote("@a:x", START, ("a1",), 1, "$1")
    new = Vote("@a:x", START, ("a2",), 2, "$2")
    same_time = Vote("@a:x", START, ("a3",), 2, "$3")
    assert newer_vote(None, old) is old
    assert newer_vote(old, new) is new
    assert newer_vote(new, old) is new
    assert newer_vote(new, same_time) is same_time  # a tie goes to the one that came last


# --- summary -----------------------------------------------------------------------------


def _tallies(**counts: dict[str, int]) -> dict[str, Tally]:
    return {key: Tally(c, sum(c.values()), 0, ended=True, ended_ts=1) for key, c in counts.items()}


def test_summary_above_min_answers() -> None:
    questionnaire = load_questionnaire(default=VERSION_1)
    summary = summarise(questionnaire, _tallies(q1={"a1": 2, "a2": 1, "a5": 1}))
    q1 = summary.question("q1")
    assert (q1.answers, q1.too_few) == (4, False)
    assert [(a.text, a.count) for a in q1.distribution] == [
        ("sehr zufrieden", 2),
        ("zufrieden", 1),
        ("teils/teils", 0),
        ("eher unzufrieden", 0),
        ("gar nicht zufrieden", 1),
    ]
    assert q1.mean == 3.8  # (5 + 5 + 4 + 1) / 4 = 3.75, rounded half up
    assert [q.key for q in summary.questions] == ["q1", "q2", "q3", "q4", "q5"]
    assert summary.min_answers == 3


def test_summary_below_min_answers_shows_only_the_number() -> None:
    summary = summarise(
        load_questionnaire(default=VERSION_1), _tallies(q1={"a1": 1, "a2": 1}, q5={"a1": 3})
    )
    q1 = summary.question("q1")
    assert (q1.answers, q1.too_few, q1.distribution, q1.mean) == (2, True, (), None)
    q2 = summary.question("q2")  # no tally at all
    assert (q2.answers, q2.too_few, q2.distribution, q2.mean) == (0, True, (), None)
    q5 = summary.question("q5")
    assert (q5.answers, q5.too_few, q5.mean) == (3, False, 5.0)


def test_summary_threshold_is_configurable_but_never_below_two() -> None:
    tallies = _tallies(q1={"a1": 2})
    assert (
        not summarise(load_questionnaire(default=VERSION_1), tallies, min_answers=2)
        .question("q1")
        .too_few
    )
    assert (
        summarise(load_questionnaire(default=VERSION_1), tallies, min_answers=5)
        .question("q1")
        .too_few
    )
    with pytest.raises(ValueError, match="single person"):
        summarise(load_questionnaire(default=VERSION_1), tallies, min_answers=1)


def test_summary_of_a_choice_question_has_no_mean() -> None:
    question = Question(
        key="c",
        text="Welche Uhrzeit?",
        kind=QuestionKind.choice,
        answers=(Answer(id="m", text="morgens"), Answer(id="a", text="abends")),
    )
    questionnaire = load_questionnaire(default=VERSION_1).model_copy(
        update={"questions": (question,)}
    )
    summary = summarise(questionnaire, _tallies(c={"m": 2, "a": 2}))
    assert summary.question("c").mean is None
    assert [a.count for a in summary.question("c").distribution] == [2, 2]


def test_spoiled_votes_are_no_answers() -> None:
    tallies = {"q1": Tally({"a1": 2}, voters=2, spoiled=5)}
    assert summarise(load_questionnaire(default=VERSION_1), tallies).question("q1").too_few


# --- properties --------------------------------------------------------------------------

USERS = ("@a:x", "@b:x", "@c:x", "@d:x")
SELECTIONS = st.lists(st.sampled_from(["a1", "a2", "a3", "zz"]), max_size=3)


@st.composite
def poll_events(draw: st.DrawFn, *, with_ends: bool = True) -> list[dict]:
    """Responses and end events with distinct timestamps."""
    size = draw(st.integers(min_value=0, max_value=14))
    stamps = draw(st.lists(st.integers(0, 1000), min_size=size, max_size=size, unique=True))
    events = []
    for ts in stamps:
        if with_ends and draw(st.integers(0, 6)) == 0:
            events.append(end(draw(st.sampled_from((BOT, *USERS))), ts))
        else:
            events.append(response(draw(st.sampled_from(USERS)), draw(SELECTIONS), ts))
    return events


@given(poll_events())
def test_counts_never_exceed_voters(events: list[dict]) -> None:
    result = tally(POLL, events)
    senders = {e["sender"] for e in events if e["type"] == POLL_RESPONSE}
    assert result.total == result.voters  # one selection each
    assert result.voters + result.spoiled <= len(senders)
    assert all(count >= 0 for count in result.counts.values())


@given(st.data(), poll_events())
def test_event_order_does_not_matter_with_distinct_timestamps(data, events: list[dict]) -> None:
    shuffled = data.draw(st.permutations(events))
    assert tally(POLL, shuffled) == tally(POLL, events)


@given(poll_events(with_ends=False), st.sampled_from(USERS), SELECTIONS)
def test_a_later_vote_replaces_the_earlier_ones(events, user, selections) -> None:
    later = response(user, selections, 2000)
    others = [e for e in events if e["sender"] != user]
    assert tally(POLL, [*events, later]) == tally(POLL, [*others, later])


@given(poll_events(with_ends=False))
def test_per_person_polls_merge_to_the_room_count(events: list[dict]) -> None:
    # Counting each person separately (the anonymous mode) gives the room's result.
    by_sender = [[e for e in events if e["sender"] == user] for user in USERS]
    assert merge_tallies(tally(POLL, part) for part in by_sender) == tally(POLL, events)


@settings(max_examples=50)
@given(poll_events(), st.integers(1000, 2000), st.sampled_from(USERS), SELECTIONS)
def test_nothing_after_the_end_changes_the_result(events, ts, user, selections) -> None:
    closed = [*events, end(BOT, 999)]
    assert tally(POLL, [*closed, response(user, selections, ts)]) == tally(POLL, closed)
