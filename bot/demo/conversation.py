"""`zt-bot demo`: a throwaway Synapse on loopback, the bot, and a scripted conversation.

The answers printed are the bot's real replies over a real homeserver. Without --once
the homeserver and the bot keep running so that a person can log in with any client.
What the demo types and says is templates/<lang>/demo.j2 (German, as the demo's bot).
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
from pathlib import Path

from bot.app import build_bot
from bot.config import load_config
from bot.demo.homeserver import LocalSynapse, create_synapse
from bot.demo.scripted_user import ScriptedUser
from bot.rendering import Renderer

DEMO_PASSWORD = "zukunft-demo"


def _words(block: str, /, **values: object) -> str:
    # The demo's bot speaks German (its config sets no language), and so does the demo.
    return Renderer().sentence("demo", block, **values).body


def conversation() -> list[str]:
    """The commands the scripted person types, one per line of the `conversation` block."""
    return _words("conversation").splitlines()


def write_bot_config(
    directory: Path, synapse: LocalSynapse, bot_user: str, coordinator: str
) -> Path:
    path = directory / "config.toml"
    path.write_text(
        f"""[matrix]
homeserver = "{synapse.url}"
user_id = "{bot_user}"
password = "{DEMO_PASSWORD}"
device_id = "ZTDEMO"

[bot]
coordinators = ["{coordinator}"]
data_dir = "data"
""",
        "utf-8",
    )
    return path


def _print_exchange(command: str, answer: str) -> None:
    print(f"\n> {command}")
    for line in answer.splitlines():
        print(f"  {line}")


async def run_demo(*, once: bool) -> int:
    with tempfile.TemporaryDirectory(prefix="zt-demo-") as tmp:
        directory = Path(tmp)
        print(_words("starting"), flush=True)
        synapse = create_synapse(directory / "synapse")
        synapse.start()
        try:
            return await _converse(directory, synapse, once=once)
        finally:
            synapse.stop()


async def _converse(directory: Path, synapse: LocalSynapse, *, once: bool) -> int:
    bot_account = synapse.register("zt-bot", DEMO_PASSWORD)
    person = synapse.register("demo", DEMO_PASSWORD)
    config = load_config(write_bot_config(directory, synapse, bot_account.user_id, person.user_id))
    bot = build_bot(config)
    bot_task = asyncio.create_task(bot.run())
    user = ScriptedUser(synapse.url, person)
    await user.start()
    try:
        room_id = await user.create_room([bot_account.user_id], name="Zukunftstische Demo")
        await user.wait_for_member(room_id, bot_account.user_id)
        print(_words("room", room=room_id, person=person.user_id, bot=bot_account.user_id))
        for command in conversation():
            reply = await user.ask(room_id, command)
            _print_exchange(command, reply.body)
        if not once:
            running = _words(
                "running", url=synapse.url, person=person.user_id, password=DEMO_PASSWORD
            )
            print(f"\n{running}", flush=True)
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.Event().wait()
        return 0
    finally:
        await user.close()
        bot_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bot_task
