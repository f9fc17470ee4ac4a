"""The bot on a homeserver with Synapse's default rate limits (issue 25), what can be shown in
seconds: a join that meets 429 is waited out, survives a restart and succeeds; a withdrawn
invite to a configured room is told once; creating direct chats past the limit is read as
a rate limit (no matrix-nio validation warning). The long cases (a room of 40, an evaluation
of 10 with `status` every 20 s, a SIGKILL mid-send-out) are measured by
bench/default_limits.py.

Every limit is Synapse's default except two, so that each case takes seconds, not minutes:
a room takes one join every 10 s after its burst of 10 (default: 1/s, which a loaded test
machine can miss), and the bot may create 3 rooms, then one every 2 s (default: 10, then
one a minute)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio
from nio import DirectRoomsResponse, RoomCreateResponse
from nio.api import RoomPreset

from bot.config import load_config
from bot.demo.homeserver import LocalSynapse, create_synapse
from bot.demo.scripted_user import ScriptedUser
from bot.health import room_notes
from bot.rendering import Renderer
from tests.databases import BACKEND
from tests.integration.conftest import (
    PASSWORD,
    ROOM_VERSION,
    Databases,
    RunningBot,
    settled,
    start_bot,
    write_plain_config,
)

pytestmark = [
    pytest.mark.integration,
    # Joins and room creation do not depend on the database or the room id's form; the
    # reruns of the suite (PostgreSQL, room version 10) leave these out to save time.
    pytest.mark.skipif(
        BACKEND == "postgresql" or ROOM_VERSION is not None,
        reason="rate limits: run once, on SQLite and the default room version",
    ),
]

SLOW_ROOM = {"per_second": 0.1, "burst_count": 10}
FEW_ROOMS = {"per_second": 0.5, "burst_count": 3}


@pytest.fixture(scope="module")
def limited_synapse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSynapse]:
    server = create_synapse(
        tmp_path_factory.mktemp("limited"),
        raised_rate_limits=False,
        rate_limits={"rc_joins_per_room": SLOW_ROOM, "rc_room_creation": FEW_ROOMS},
    )
    server.start()
    yield server
    server.stop()


@pytest_asyncio.fixture
async def owner(limited_synapse: LocalSynapse) -> AsyncIterator[ScriptedUser]:
    user = ScriptedUser(limited_synapse.url, limited_synapse.register("leitung", PASSWORD))
    await user.start()
    yield user
    await user.close()


async def public_room(user: ScriptedUser, name: str) -> str:
    response = await user.client.room_create(name=name, preset=RoomPreset.public_chat)
    assert isinstance(response, RoomCreateResponse), response
    return response.room_id


async def until(condition, timeout: float = 60, every: float = 0.05) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(timeout):
        while not condition():  # noqa: ASYNC110 (polling state the bot keeps)
            await asyncio.sleep(every)


def bot_config(
    directory: Path, synapse: LocalSynapse, user_id: str, databases: Databases, rooms: str
) -> Path:
    return write_plain_config(
        directory,
        synapse,
        user_id,
        databases,
        matrix=f'password = "{PASSWORD}"\ndevice_id = "ZTLIMITS"',
        rest=f"{rooms}\n",
    )


async def test_joins_meet_429_survive_a_restart_and_a_withdrawn_invite_is_told_once(
    limited_synapse: LocalSynapse, owner: ScriptedUser, databases: Databases, tmp_path: Path
) -> None:
    bot = limited_synapse.register("zt-bot", PASSWORD)
    koordination = await owner.create_room([bot.user_id], name="Koordination")
    z2 = await public_room(owner, "Z2 Mobilität")
    buergerdialog = await public_room(owner, "Bürgerdialog")
    rooms = f'[rooms]\nkoordination = "{koordination}"\nbuergerdialog = "{buergerdialog}"'
    config = bot_config(tmp_path / "bot", limited_synapse, bot.user_id, databases, rooms)
    running = await start_bot(load_config(config))
    try:
        await owner.wait_for_member(koordination, bot.user_id)
        # Ten people join both rooms at once: each room's burst of joins is used up.
        people = [
            ScriptedUser(limited_synapse.url, limited_synapse.register(f"person{n}", PASSWORD))
            for n in range(10)
        ]
        try:
            await asyncio.gather(
                *(p.client.join(room) for p in people for room in (z2, buergerdialog))
            )
        finally:
            await asyncio.gather(*(p.client.close() for p in people))
        state = running.bot.adapter.sync_state
        assert state is not None
        before = state.load(bot.user_id)
        for room in (z2, buergerdialog):
            await owner.client.room_invite(room, bot.user_id)
        joiner = running.bot.adapter.joiner
        await until(
            lambda: all(
                room in joiner.pending and joiner.pending[room].rate_limited >= 1
                for room in (z2, buergerdialog)
            )
        )
        # Health and metrics show both rooms as still being joined.
        found = room_notes(running.bot.snapshot(), running.bot.clock.wall())
        notes = [note.text(Renderer()) for note in found]
        assert notes[0].startswith("tritt 2 Räumen noch bei:") and z2 in notes[0]
        assert "M_LIMIT_EXCEEDED" in notes[0]
        assert set(running.bot.readings().joining) == {z2, buergerdialog}

        # The Bürgerdialog takes its invite back: the join ends, the coordination room
        # hears of it once.
        await owner.client.room_kick(buergerdialog, bot.user_id, "falscher Raum")
        await until(lambda: buergerdialog in joiner.refused and buergerdialog not in joiner.pending)
        await owner.wait_until(
            lambda: any(
                "Einladung wurde zurückgenommen" in m.body
                for m in told(owner, koordination, bot.user_id)
            )
        )

        # A restart while the Z2 room's join still waits: the sync token is past the
        # invite (the next start's sync does not bring it again), the join resumes.
        await until(lambda: state.load(bot.user_id) != before)
        assert z2 in joiner.pending
    finally:
        await running.stop()
    again: RunningBot = await start_bot(load_config(config))
    try:
        await owner.wait_for_member(z2, bot.user_id, timeout=60)
        await settled(again, owner, koordination)  # a second notice would be in by now
        assert (
            len([m for m in told(owner, koordination, bot.user_id) if "Bürgerdialog" in m.body])
            == 1
        )
        assert z2 not in again.bot.adapter.joiner.pending
    finally:
        await again.stop()


def told(user: ScriptedUser, room_id: str, sender: str):  # type: ignore[no-untyped-def]
    return user.messages_in(room_id, sender)


async def test_direct_chats_past_the_room_limit_are_waited_for_without_a_warning(
    limited_synapse: LocalSynapse,
    databases: Databases,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    bot = limited_synapse.register("zt-bot-dm", PASSWORD)
    people = [limited_synapse.register(f"teilnehmerin{n}", PASSWORD) for n in range(5)]
    config = bot_config(tmp_path / "bot", limited_synapse, bot.user_id, databases, "")
    caplog.set_level(logging.WARNING, logger="nio")
    running = await start_bot(load_config(config))
    try:
        adapter = running.bot.adapter
        chats = [await adapter.direct_room(person.user_id) for person in people]
        assert None not in chats and len(set(chats)) == len(people)
        assert adapter.room_creation.interval is not None  # it met the limit, and learned it
        direct = await adapter.client.list_direct_rooms()
        assert isinstance(direct, DirectRoomsResponse)
        for person, chat in zip(people, chats, strict=True):
            assert direct.rooms[person.user_id] == [chat]
        # Asked again, the same chat: the homeserver's m.direct is the memory.
        assert await adapter.direct_room(people[0].user_id) == chats[0]
    finally:
        await running.stop()
    assert "Error validating response" not in caplog.text
