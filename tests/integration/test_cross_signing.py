"""Cross-signing (MSC4153): the bot's device is signed by its own account, as another user
sees it through /keys/query; the identity survives restarts and a lost key store.

The chain is checked here independently of the bot's code: vodozemac's Ed25519 over
canonicaljson's bytes, as another Matrix client checks it.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import aiohttp
import pytest
import vodozemac
from canonicaljson import encode_canonical_json

from bot.config import load_config
from bot.demo.homeserver import Account, LocalSynapse
from bot.matrix.cross_signing import generate_keys, signing_key_upload
from bot.store.cross_signing_keys import CrossSigningKeys
from tests.integration.conftest import PASSWORD, Databases, start_bot, write_plain_config

pytestmark = pytest.mark.integration


async def post(synapse: LocalSynapse, token: str, path: str, body: dict) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{synapse.url}/_matrix/client/v3/{path}", json=body, headers=headers) as r,
    ):
        return r.status, await r.json()


async def query_keys(synapse: LocalSynapse, viewer: Account, user_id: str) -> dict:
    """The bot's keys as another user's client downloads them."""
    status, answer = await post(
        synapse, viewer.access_token, "keys/query", {"device_keys": {user_id: []}}
    )
    assert status == 200, answer
    return answer


def only_ed25519_key(obj: dict) -> str:
    (public,) = [v for k, v in obj["keys"].items() if k.startswith("ed25519:")]
    assert obj["keys"] == {f"ed25519:{public}": public}
    return public


def verify(obj: dict, user_id: str, public: str, key_id: str | None = None) -> None:
    """Raises unless `obj` carries a valid Ed25519 signature of `public` (cross-signing
    keys are named by their public key, device keys by the device id)."""
    signed_part = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    signature = obj["signatures"][user_id][key_id or f"ed25519:{public}"]
    vodozemac.Ed25519PublicKey.from_base64(public).verify_signature(
        encode_canonical_json(signed_part), vodozemac.Ed25519Signature.from_base64(signature)
    )


def verified_chain(answer: dict, user_id: str, device_id: str) -> tuple[str, str]:
    """master key → self-signing key → device key; the two public keys of the chain."""
    master = answer["master_keys"][user_id]
    assert master["user_id"] == user_id and master["usage"] == ["master"]
    master_public = only_ed25519_key(master)
    self_signing = answer["self_signing_keys"][user_id]
    assert self_signing["user_id"] == user_id and self_signing["usage"] == ["self_signing"]
    verify(self_signing, user_id, master_public)
    self_signing_public = only_ed25519_key(self_signing)
    device = answer["device_keys"][user_id][device_id]
    assert device["user_id"] == user_id and device["device_id"] == device_id
    verify(device, user_id, self_signing_public)
    # The device's own signature is there too: the object is the one the device uploaded.
    own_key = f"ed25519:{device_id}"
    verify(device, user_id, device["keys"][own_key], own_key)
    return master_public, self_signing_public


@pytest.fixture
def cross_signing_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="bot.matrix.cross_signing")
    return caplog


async def test_a_fresh_bot_cross_signs_its_device_and_keeps_that_over_a_restart(
    bot_factory, synapse: LocalSynapse, tmp_path: Path, cross_signing_log
) -> None:
    viewer = synapse.register("kreuz-pruefer", PASSWORD)
    directory = tmp_path / "bot"
    bot = await bot_factory(directory=directory)
    user_id, device_id = bot.user_id, bot.bot.adapter.client.device_id
    assert f"cross-signing keys of {user_id} created and uploaded" in cross_signing_log.text
    assert f"device {device_id} of {user_id} signed" in cross_signing_log.text
    master, self_signing = verified_chain(
        await query_keys(synapse, viewer, user_id), user_id, device_id
    )
    stored = CrossSigningKeys(bot.bot.store).load(user_id)
    assert stored is not None and stored["master"].public_key == master

    await bot.stop()
    cross_signing_log.clear()
    again = await bot_factory(directory=directory)
    assert again.bot.adapter.client.device_id == device_id
    assert f"cross-signing of {user_id} already set up" in cross_signing_log.text
    assert "uploaded" not in cross_signing_log.text, "nothing uploaded again"
    assert "signed with the self-signing key" not in cross_signing_log.text
    answer = await query_keys(synapse, viewer, user_id)
    assert verified_chain(answer, user_id, device_id) == (master, self_signing)


async def test_a_new_device_after_a_lost_key_store_is_signed_by_the_same_identity(
    bot_factory, synapse: LocalSynapse, tmp_path: Path, cross_signing_log
) -> None:
    viewer = synapse.register("kreuz-pruefer-2", PASSWORD)
    directory = tmp_path / "bot"
    bot = await bot_factory(directory=directory)
    user_id, old_device = bot.user_id, bot.bot.adapter.client.device_id
    chain = verified_chain(await query_keys(synapse, viewer, user_id), user_id, old_device)
    await bot.stop()
    shutil.rmtree(bot.config.matrix.store_path)

    cross_signing_log.clear()
    restarted = await bot_factory(directory=directory)
    new_device = restarted.bot.adapter.client.device_id
    assert new_device != old_device
    text = cross_signing_log.text
    assert f"device {new_device} of {user_id} signed with the self-signing key" in text
    assert "uploaded" not in text, "the identity is kept, not created anew"
    answer = await query_keys(synapse, viewer, user_id)
    assert verified_chain(answer, user_id, new_device) == chain
    # Its keys are lost for good: removed, so that no client keeps encrypting for it.
    assert old_device not in answer["device_keys"][user_id]


async def foreign_cross_signing(synapse: LocalSynapse, account: Account) -> str:
    """Cross-signing set up for the account by another client (say Element): its master key."""
    keys = generate_keys()
    body = signing_key_upload(account.user_id, keys)
    status, answer = await post(synapse, account.access_token, "keys/device_signing/upload", body)
    assert status == 200, answer  # the first upload needs no password (MSC3967)
    return keys["master"].public


async def test_a_token_login_cannot_replace_keys_set_up_elsewhere_and_says_what_to_do(
    synapse: LocalSynapse, tmp_path: Path, databases: Databases, cross_signing_log
) -> None:
    account = synapse.register("zt-bot-token", PASSWORD)
    viewer = synapse.register("kreuz-pruefer-3", PASSWORD)
    foreign = await foreign_cross_signing(synapse, account)
    path = write_plain_config(
        tmp_path / "bot",
        synapse,
        account.user_id,
        databases,
        matrix=f'access_token = "{account.access_token}"',
    )
    bot = await start_bot(load_config(path, environ={}))
    try:
        assert not bot.task.done(), "the bot runs on (unencrypted rooms, other clients)"
        text = cross_signing_log.text
        assert f"cross-signing of {account.user_id} was set up by another client" in text
        assert "needs the account password" in text
        assert "ZT_MATRIX_PASSWORD" in text and "restart the bot" in text
        assert "Element users do not see the bot's messages in encrypted rooms" in text
        assert PASSWORD not in text and account.access_token not in text
        answer = await query_keys(synapse, viewer, account.user_id)
        assert only_ed25519_key(answer["master_keys"][account.user_id]) == foreign, "untouched"
    finally:
        await bot.stop()


async def test_with_the_password_the_bot_replaces_keys_set_up_elsewhere(
    synapse: LocalSynapse, tmp_path: Path, databases: Databases, cross_signing_log
) -> None:
    account = synapse.register("zt-bot-ersetzt", PASSWORD)
    viewer = synapse.register("kreuz-pruefer-4", PASSWORD)
    foreign = await foreign_cross_signing(synapse, account)
    path = write_plain_config(tmp_path / "bot", synapse, account.user_id, databases)
    bot = await start_bot(load_config(path, environ={}))
    try:
        text = cross_signing_log.text
        assert "created and uploaded, replacing the ones another client had set up" in text
        assert PASSWORD not in text
        device_id = bot.bot.adapter.client.device_id
        answer = await query_keys(synapse, viewer, account.user_id)
        master, _ = verified_chain(answer, account.user_id, device_id)
        assert master != foreign
    finally:
        await bot.stop()


async def test_a_token_login_on_a_fresh_account_sets_up_cross_signing(
    synapse: LocalSynapse, tmp_path: Path, databases: Databases, cross_signing_log
) -> None:
    account = synapse.register("zt-bot-token-neu", PASSWORD)
    viewer = synapse.register("kreuz-pruefer-5", PASSWORD)
    matrix = f'access_token = "{account.access_token}"'
    path = write_plain_config(tmp_path / "bot", synapse, account.user_id, databases, matrix=matrix)
    bot = await start_bot(load_config(path, environ={}))
    try:
        assert "created and uploaded" in cross_signing_log.text
        answer = await query_keys(synapse, viewer, account.user_id)
        verified_chain(answer, account.user_id, account.device_id)
    finally:
        await bot.stop()


async def test_a_wrong_password_for_replacing_the_keys_is_reported(
    synapse: LocalSynapse, tmp_path: Path, databases: Databases, cross_signing_log
) -> None:
    account = synapse.register("zt-bot-falsch", PASSWORD)
    foreign = await foreign_cross_signing(synapse, account)
    matrix = f'access_token = "{account.access_token}"\npassword = "not-the-password"'
    path = write_plain_config(tmp_path / "bot", synapse, account.user_id, databases, matrix=matrix)
    bot = await start_bot(load_config(path, environ={}))
    try:
        assert not bot.task.done()
        text = cross_signing_log.text
        assert f"the homeserver refused the password of {account.user_id}" in text
        assert "not-the-password" not in text
        answer = await query_keys(synapse, account, account.user_id)
        assert only_ed25519_key(answer["master_keys"][account.user_id]) == foreign
    finally:
        await bot.stop()


async def test_a_failing_bootstrap_is_logged_and_the_bot_runs_on(
    bot_factory, monkeypatch: pytest.MonkeyPatch, cross_signing_log
) -> None:
    async def unreachable(*_args: object, **_kwargs: object) -> None:
        raise OSError("connection reset by peer")

    monkeypatch.setattr("bot.matrix.login.ensure_cross_signing", unreachable)
    bot = await bot_factory()
    assert not bot.task.done()
    assert "cross-signing not checked (OSError: connection reset by peer)" in cross_signing_log.text
    assert "tried again at the next start" in cross_signing_log.text
