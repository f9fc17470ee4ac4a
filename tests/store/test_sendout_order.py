"""The order of an evaluation's send-out (issue 25): the coordination room hears first how
long it takes under the homeserver's limits, then each person gets their direct chat and
at once their questions, the next person's chat being created meanwhile; a restart in the
middle neither repeats nor skips anyone."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import Bot
from bot.domain.sendout import SendLimits
from tests.matrix_port import RecordingMatrix
from tests.store.test_process_evaluation import (  # noqa: F401 (fixtures)
    NOW,
    ROOM,
    Z2_ROOM,
    bot,
    config_file,
    engine_of,
    say,
)


class Killed(BaseException):
    """The process ends here (as SIGKILL would: nothing after it runs)."""


@pytest.fixture
def started(bot: Bot) -> Bot:  # noqa: F811 (the bot of the process evaluation tests)
    return bot


PEOPLE = [f"@person{number}:stadt.example" for number in range(6)]


class OrderedTransport(RecordingMatrix):
    """Records direct chats created and events sent in one log; creating a chat takes a
    few turns of the event loop (a homeserver round trip), so overlap shows."""

    def __init__(self) -> None:
        super().__init__()
        self.rooms = {ROOM: [self.user_id], Z2_ROOM: [*PEOPLE, self.user_id]}
        self.log: list[tuple[str, str]] = []
        self.created: dict[str, str] = {}

    async def direct_room(self, user_id: str) -> str:
        self.log.append(("create", user_id))
        for _ in range(3):
            await asyncio.sleep(0)
        room = self.created.setdefault(user_id, f"!dm-{user_id[1:].split(':')[0]}:stadt.example")
        self.log.append(("created", room))
        return room

    async def send_now(self, room_id, event_type, content, txn_id, priority) -> str:
        self.log.append(("send", room_id))
        return await super().send_now(room_id, event_type, content, txn_id, priority)


async def test_each_person_gets_the_questions_before_a_later_chat_is_made(started: Bot) -> None:
    engine, _ = engine_of(started)
    transport = OrderedTransport()
    engine.matrix = transport
    say(started, "neu Garten 12.04.2027")
    say(started, "raum Garten z2", room=Z2_ROOM)
    say(started, "umfrage Garten")
    await engine.tick(NOW)

    log = transport.log
    creates = [user for what, user in log if what == "create"]
    assert creates == PEOPLE  # one chat each, in order
    # The announcement goes first, before any chat is made.
    assert log[0] == ("send", ROOM)
    (announced,) = transport.notices(ROOM)
    assert announced.startswith(
        "Die Evaluation von „Garten“ geht jetzt an 6 Personen im Direktchat."
    )
    assert "Synapse" in announced and "override_ratelimit" in announced
    assert "die ersten Teilnehmenden erhalten ihre Fragen sofort" in announced
    # Person n's questions are all out before the chat of person n + 2 is asked for: at
    # most one chat is made ahead of the one being filled.
    for number, person in enumerate(PEOPLE[:-2]):
        room = transport.created[person]
        last_send = max(i for i, entry in enumerate(log) if entry == ("send", room))
        later = log.index(("create", PEOPLE[number + 2]))
        assert last_send < later, (person, log)
    for person in PEOPLE:
        room = transport.created[person]
        assert len([1 for entry in log if entry == ("send", room)]) == 1 + 9 + 1
    (evaluation,) = started.router.services.evaluations.for_theme(1)
    assert (evaluation.status, evaluation.participants) == ("open", 6)


async def test_the_announcement_follows_the_limits_the_bot_has_learned(started: Bot) -> None:
    engine, transport = engine_of(started)
    transport.sendout_limits = lambda: SendLimits(messages=None, rooms=None)  # type: ignore[method-assign] (exempt, as far as seen)
    say(started, "neu Garten 12.04.2027")
    say(started, "raum Garten z2", room=Z2_ROOM)
    say(started, "umfrage Garten")
    await engine.tick(NOW)
    assert transport.notices(ROOM) == []  # nothing to wait for: nothing to tell


async def test_an_automatic_start_says_how_long_sending_takes(started: Bot) -> None:
    engine, _ = engine_of(started)
    transport = OrderedTransport()
    engine.matrix = transport
    say(started, "neu Garten 25.05.2027")  # a week before NOW: due since the day after
    say(started, "raum Garten z2", room=Z2_ROOM)
    await engine.tick(NOW)
    (told,) = transport.notices(ROOM)
    assert told.startswith("Die Evaluation von „Garten“ hat von selbst begonnen")
    assert "6 Personen werden im Direktchat gefragt" in told
    assert "Der Versand dauert bei den üblichen Sendegrenzen eines Synapse-Homeservers etwa" in told
    assert transport.log[0] == ("send", ROOM)


async def test_after_a_crash_in_the_middle_nobody_is_asked_twice(started: Bot) -> None:
    """The engine stops (the bot killed) after the third person's chat; the next tick
    sends only what is missing, and the recorded polls say who has them."""
    engine, _ = engine_of(started)
    transport = OrderedTransport()
    engine.matrix = transport
    say(started, "neu Garten 12.04.2027")
    say(started, "raum Garten z2", room=Z2_ROOM)
    say(started, "umfrage Garten")
    polls_sent = 0

    async def killed_midway(room_id, event_type, content, txn_id, priority) -> str:
        nonlocal polls_sent
        if event_type.endswith("poll.start"):
            polls_sent += 1
            if polls_sent == 9 * 2 + 4:  # in the middle of the third person's polls
                raise Killed
        return await OrderedTransport.send_now(transport, room_id, event_type, content, txn_id,
                                               priority)  # fmt: skip

    transport.send_now = killed_midway  # type: ignore[method-assign]
    with pytest.raises(Killed):
        await engine.tick(NOW)
    transport.send_now = OrderedTransport.send_now.__get__(transport)  # type: ignore[method-assign]
    await engine.tick(NOW)
    polls = started.router.services.evaluations.polls(1)
    by_room: dict[str, set[str]] = {}
    for poll in polls:
        by_room.setdefault(poll.room_id, set()).add(poll.question_key)
    assert sorted(by_room) == sorted(transport.created.values())
    assert all(len(keys) == 9 for keys in by_room.values())
    assert len(polls) == 6 * 9  # each question once per person
