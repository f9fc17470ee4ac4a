"""Exactly once for commands: the bot is killed (a failpoint, like SIGKILL) for every
mutating verb twice: once after the command's effect, before it commits with the record of
its reply, and once right after that commit, before the reply is sent. After the restarts
each command's effect exists once and its answer arrives once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.config import load_config
from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from bot.failpoints import ENV_FAILPOINTS, EXIT_CODE
from tests.integration.conftest import PASSWORD, Accounts, Databases, write_plain_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SECRET = {"ZT_MATRIX_PASSWORD": PASSWORD}
# Every mutating form (tests/unit/test_rights.py lists them); `{idea}` is filled in.
COMMANDS = (
    "neu Klima 15.06.2027",
    "verschieben Klima 22.06.2027",
    "erledigt Klima 1 Fahrplan steht",
    "offen Klima 1",
    "überspringen Klima 3a",
    "termin Klima 5 07.07.2027",
    "termin Klima beteiligung 03.05.2027",
    "fachbereich Klima Umweltamt",
    "kernteam Klima @anna:localhost @ben:localhost",
    "kontakt Klima Frau Muster, Tel. 123",
    "zuständig Klima 3 @anna:localhost",
    "raum Klima z2",
    "ratssitzung 20.07.2027",
    "ratssitzung entfernen 20.07.2027",
    "kvp Klima Einladungen früher verschicken",
    "kvp übernommen {idea}",
    "kvp Klima Mehr Zeit für Rückfragen",
    "kvp verworfen {idea} passt nicht",
    "umfrage Klima raum trotzdem",
    "umfrage beenden Klima",
    "umbenennen Klima Klimaschutz",
    "pausieren Klimaschutz",
    "fortsetzen Klimaschutz",
    "archivieren Klimaschutz",
)


def start(config: Path, log: Path, *, killed_at: str | None = None) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ZT_MATRIX_PASSWORD": PASSWORD}
    env.pop(ENV_FAILPOINTS, None)
    if killed_at is not None:
        env[ENV_FAILPOINTS] = f"{killed_at}=exit"
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "--config", str(config)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def replies_to(user: ScriptedUser, event_id: str) -> list[str]:
    return [
        r.body
        for r in user.received
        if r.content.get("content", {}).get("m.relates_to", {}).get("m.in_reply_to", {})
        .get("event_id") == event_id
    ]  # fmt: skip


def newest_idea(config: Path) -> int | None:
    engine = sa.create_engine(load_config(config, environ=SECRET).database_url)
    with engine.connect() as connection:
        newest = connection.execute(sa.text("SELECT max(id) FROM idea")).scalar()
    engine.dispose()
    return newest


def counts(config: Path, actor: str) -> dict[str, int]:
    """How often each kind of effect is in the database (history: what `actor` did)."""
    engine = sa.create_engine(load_config(config, environ=SECRET).database_url)
    with engine.connect() as connection:
        found = {
            f"history:{action}": count
            for action, count in connection.execute(
                sa.text("SELECT action, count(*) FROM history WHERE actor = :a GROUP BY action"),
                {"a": actor},
            )
        }
        for table in ("theme", "idea", "evaluation", "council_meeting", "handled_event"):
            found[table] = connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar()
    engine.dispose()
    return found


async def test_every_mutating_command_applies_once_and_is_answered_once_across_a_kill(
    synapse: LocalSynapse,
    coordinator: ScriptedUser,
    accounts: Accounts,
    databases: Databases,
    tmp_path: Path,
) -> None:
    bot = synapse.register("zt-einmal", PASSWORD)
    rest = f'coordinators = ["{accounts.coordinator.user_id}"]'
    config = write_plain_config(tmp_path, synapse, bot.user_id, databases, matrix="", rest=rest)
    log = tmp_path / "bot.log"
    room_id = await coordinator.create_room([bot.user_id], name="Einmal")
    joiner = start(config, log)
    try:
        await coordinator.wait_for_member(room_id, bot.user_id, timeout=60)
    finally:
        joiner.send_signal(signal.SIGTERM)
        await asyncio.to_thread(joiner.wait, 30)

    sent: list[tuple[str, str]] = []
    for text in COMMANDS:
        # The number the bot gave the last idea: its answer comes only after the next start.
        text = text.format(idea=newest_idea(config))
        event_id = await coordinator.send(room_id, f"!zt {text}")
        sent.append((event_id, text))
        # Killed before the commit (nothing of it stays, it comes again), then after it.
        for point in ("command_applied", "command_committed"):
            process = start(config, log, killed_at=point)
            code = await asyncio.to_thread(process.wait, 90)
            assert code == EXIT_CODE, (text, point, log.read_text("utf-8")[-2000:])

    final = start(config, log)
    try:
        await coordinator.wait_until(
            lambda: all(replies_to(coordinator, event_id) for event_id, _ in sent), timeout=90
        )
        # A second copy of any answer would be queued before the answer to a command sent
        # now (one queue, answers in order): once that is here, so would be any copy.
        await coordinator.ask(room_id, "!zt hilfe", timeout=60)
        for event_id, text in sent:
            answers = replies_to(coordinator, event_id)
            assert len(answers) == 1, (text, answers)
            assert not answers[0].startswith("Das hat nicht geklappt"), (text, answers[0])
    finally:
        final.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(final.wait, 30) == 0

    found = counts(config, coordinator.user_id)
    assert found["theme"] == 1 and found["idea"] == 2 and found["evaluation"] == 1
    assert found["council_meeting"] == 0  # added once, removed once
    assert found["handled_event"] == len(COMMANDS) + 1  # and the probe `hilfe`
    for action in ("created", "moved", "done", "reopened", "skipped", "pinned", "responsible",
                   "room_bound", "renamed", "paused", "resumed", "archived", "participation_moved",
                   "department", "core_team_added", "contact"):  # fmt: skip
        assert found.get(f"history:{action}") == 1, (action, found)
