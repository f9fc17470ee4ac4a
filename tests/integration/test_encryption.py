"""End-to-end encrypted rooms: the bot reads commands and answers there, across restarts."""

from __future__ import annotations

import asyncio

import pytest
from nio.api import Api

from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import PASSWORD

pytestmark = pytest.mark.integration


async def event_type(user: ScriptedUser, room_id: str, event_id: str) -> str:
    """The event's type as the homeserver stores it (matrix-nio would decrypt it)."""
    method, path = Api.room_get_event(user.client.access_token, room_id, event_id)
    response = await user.client.send(method, path)
    return (await response.json())["type"]


async def knows_device(user: ScriptedUser, user_id: str, device_id: str) -> None:
    """Wait until the test user's client has seen (and queried) the bot's new device."""
    async with asyncio.timeout(30):
        while device_id not in {
            d.id for d in user.client.device_store.active_user_devices(user_id)
        }:
            if user.client.should_query_keys:
                await user.client.keys_query()
            await asyncio.sleep(0.2)


async def test_command_and_answer_in_an_encrypted_room_survive_a_restart(
    bot_factory, synapse: LocalSynapse, tmp_path
) -> None:
    account = synapse.register("verschluesselt", PASSWORD)
    user = ScriptedUser(synapse.url, account, store_path=tmp_path / "user-store")
    await user.start()
    directory = tmp_path / "bot"
    try:
        bot = await bot_factory(directory=directory)
        room_id = await user.create_room([bot.user_id], name="Geheim", encrypted=True)
        await user.wait_for_member(room_id, bot.user_id)
        reply = await user.ask(room_id, "!zt hilfe", timeout=60)
        assert "Befehle" in reply.body  # decrypted by the test user: it was encrypted
        assert await event_type(user, room_id, reply.event_id) == "m.room.encrypted"

        # Same device, same keys after a restart: still readable and answering.
        await bot.stop()
        await bot_factory(directory=directory)
        again = await user.ask(room_id, "!zt themen", timeout=60)
        assert "Noch keine Themen" in again.body
    finally:
        await user.close()


async def test_the_longest_answer_fits_the_event_limit_once_encrypted(
    bot_factory, synapse: LocalSynapse, accounts, tmp_path
) -> None:
    """An answer as long as the bot makes one, in an encrypted room: the ciphertext is a
    third longer than the text (base64), and the homeserver refuses an event over 64 KiB
    with M_TOO_LARGE, so the bot's limit must leave room for that, or the command stays
    unanswered."""
    account = synapse.register("verschluesselt-lang", PASSWORD)
    user = ScriptedUser(synapse.url, account, store_path=tmp_path / "user-store")
    await user.start()
    try:
        bot = await bot_factory()
        room_id = await user.create_room([bot.user_id], name="Lang und geheim", encrypted=True)
        await user.wait_for_member(room_id, bot.user_id)
        # 150 themes whose names HTML escaping makes five times as long, through the bot's
        # own router (quicker than 150 round trips): the list of them is as long as an
        # answer may be.
        for number in range(150):
            outcome = bot.bot.router.handle(
                f"!zt neu A{number:03d} {'&' * 75} 15.04.2027",
                sender=accounts.coordinator.user_id, room_id=room_id, now=bot.bot.clock.now(),
            )  # fmt: skip
            assert outcome is not None and outcome.result == "ok", outcome
        try:
            reply = await user.ask(room_id, "!zt themen", timeout=30)
        except TimeoutError:
            pytest.fail("no answer to '!zt themen' within 30 s (see the log: M_TOO_LARGE?)")
        assert reply.body.startswith("Themen") and "A000" in reply.body  # decrypted
        assert reply.body.endswith("(gekürzt)")  # cut to the limit: as long as answers get
        assert await event_type(user, room_id, reply.event_id) == "m.room.encrypted"
    finally:
        await user.close()


@pytest.mark.parametrize("lost", ["key store", "data directory"])
async def test_lost_keys_mean_a_new_device_not_deafness(
    lost: str, bot_factory, synapse: LocalSynapse, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    """The key store gone (the device record says which device the bot was), or the whole
    data directory (a new machine, a container without its volume: only the homeserver
    knows): either way the bot becomes a new device and removes the old one."""
    import logging
    import shutil

    caplog.set_level(logging.INFO, logger="bot.matrix")
    account = synapse.register(f"schluessellos-{lost.split()[0]}", PASSWORD)
    user = ScriptedUser(synapse.url, account, store_path=tmp_path / "user-store")
    await user.start()
    directory = tmp_path / "bot"
    try:
        bot = await bot_factory(directory=directory)
        old_device = bot.bot.adapter.client.device_id
        room_id = await user.create_room([bot.user_id], name="Geheim 2", encrypted=True)
        await user.wait_for_member(room_id, bot.user_id)
        assert "Befehle" in (await user.ask(room_id, "!zt hilfe", timeout=60)).body
        await bot.stop()
        shutil.rmtree(bot.config.matrix.store_path)
        if lost == "data directory":
            shutil.rmtree(bot.config.bot.data_dir)
        restarted = await bot_factory(directory=directory)
        client = restarted.bot.adapter.client
        new_device = client.device_id
        assert new_device != old_device
        if lost == "key store":
            assert f"encryption keys of device {old_device} are missing" in caplog.text
        else:
            assert f"other encryption keys for device {old_device}" in caplog.text
        assert f"old device {old_device} removed" in caplog.text
        devices = await client.devices()
        ids = {d.id for d in devices.devices}  # besides the registration's own login
        assert new_device in ids and old_device not in ids
        # Its keys are on the homeserver: no upload is tried again on every sync.
        assert client.olm is not None and client.olm.account.shared
        assert not client.should_upload_keys
        # What Element does when a member's device list changes, and matrix-nio as the
        # test user's client does not by itself: a new room key, shared with the new device.
        await knows_device(user, restarted.user_id, new_device)
        user.client.invalidate_outbound_session(room_id)
        again = await user.ask(room_id, "!zt themen", timeout=60)
        assert "Noch keine Themen" in again.body
        # The next start keeps the new device (and its keys).
        await restarted.stop()
        third = await bot_factory(directory=directory)
        assert third.bot.adapter.client.device_id == new_device
    finally:
        await user.close()
