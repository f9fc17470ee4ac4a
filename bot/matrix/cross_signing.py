"""Cross-signing for the bot's account: its device must be signed by its own account.

Since MSC4153 (Element, April 2026) a device that is not cross-signed by its owner can no
longer send to or receive from Element users in encrypted rooms. matrix-nio has no
cross-signing, so the bot does it here: a master key signs the self-signing and the
user-signing key, the self-signing key signs the bot's device. The private keys live in
the database (store/cross_signing_keys.py), so a lost matrix-nio key store only means a
new device, which is signed with the same keys: no password needed then.

The helpers at the top are pure (keys, canonical JSON, signatures); `ensure_cross_signing`
talks to the homeserver. Ed25519 comes from `cryptography`, canonical JSON from
`canonicaljson`: nothing of the crypto is written by hand.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from canonicaljson import encode_canonical_json
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from nio import AsyncClient, KeysUploadResponse
from nio.api import Api

from bot.store.cross_signing_keys import USAGES, CrossSigningKeys, StoredKey

log = logging.getLogger(__name__)

PASSWORD_STAGE = "m.login.password"
# Homeservers with the Matrix Authentication Service: a reset is approved on a web page.
OAUTH_STAGES = ("m.oauth", "org.matrix.cross_signing_reset")
UNSIGNED_PARTS = ("signatures", "unsigned")


# Keys and signatures (pure) ----------------------------------------------------------------


def encode_base64(data: bytes) -> str:
    """Matrix's base64: standard alphabet, no padding."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def decode_base64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class SigningKey:
    """An Ed25519 key for one cross-signing usage; `seed` is the secret (unpadded base64)."""

    usage: str
    seed: str = field(repr=False)

    @property
    def _private(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(decode_base64(self.seed))

    @property
    def public(self) -> str:
        raw = self._private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return encode_base64(raw)

    @property
    def key_id(self) -> str:
        # Cross-signing keys are named by their public key.
        return f"ed25519:{self.public}"

    def sign(self, message: bytes) -> str:
        return encode_base64(self._private.sign(message))

    def stored(self) -> StoredKey:
        return StoredKey(public_key=self.public, private_key=self.seed)


CrossSigningSet = dict[str, SigningKey]


def generate_keys() -> CrossSigningSet:
    """A new master, self-signing and user-signing key."""
    keys = {}
    for usage in USAGES:
        raw = Ed25519PrivateKey.generate().private_bytes(
            Encoding.Raw, PrivateFormat.Raw, NoEncryption()
        )
        keys[usage] = SigningKey(usage, encode_base64(raw))
    return keys


def keys_from_store(stored: Mapping[str, StoredKey]) -> CrossSigningSet:
    return {usage: SigningKey(usage, key.private_key) for usage, key in stored.items()}


def canonical_bytes(obj: Mapping) -> bytes:
    """What a Matrix signature covers: canonical JSON without `signatures` and `unsigned`."""
    return encode_canonical_json({k: v for k, v in obj.items() if k not in UNSIGNED_PARTS})


def sign_json(obj: Mapping, user_id: str, key: SigningKey) -> dict:
    """A copy of `obj` with `key`'s signature added to the ones it has."""
    signature = key.sign(canonical_bytes(obj))
    signatures = {owner: dict(sigs) for owner, sigs in obj.get("signatures", {}).items()}
    signatures.setdefault(user_id, {})[key.key_id] = signature
    return {**obj, "signatures": signatures}


def has_valid_signature(obj: Mapping, user_id: str, public: str) -> bool:
    """Whether `obj` carries a valid signature of `user_id`'s key `public`."""
    try:
        signature = obj["signatures"][user_id][f"ed25519:{public}"]
        verifier = Ed25519PublicKey.from_public_bytes(decode_base64(public))
        verifier.verify(decode_base64(signature), canonical_bytes(obj))
    except (InvalidSignature, KeyError, TypeError, ValueError):
        return False
    return True


def key_object(user_id: str, key: SigningKey) -> dict:
    """The public part of a cross-signing key as the homeserver wants it."""
    return {"user_id": user_id, "usage": [key.usage], "keys": {key.key_id: key.public}}


def signing_key_upload(user_id: str, keys: CrossSigningSet) -> dict:
    """The body of /keys/device_signing/upload: the master key signs the other two."""
    master = keys["master"]
    return {
        "master_key": key_object(user_id, master),
        "self_signing_key": sign_json(key_object(user_id, keys["self_signing"]), user_id, master),
        "user_signing_key": sign_json(key_object(user_id, keys["user_signing"]), user_id, master),
    }


def public_key_of(obj: object) -> str | None:
    """The Ed25519 public key of a cross-signing key object from /keys/query."""
    if not isinstance(obj, dict) or not isinstance(obj.get("keys"), dict):
        return None
    found = [v for k, v in obj["keys"].items() if k.startswith("ed25519:")]
    return found[0] if len(found) == 1 and isinstance(found[0], str) else None


# Talking to the homeserver ------------------------------------------------------------------

State = Literal["ready", "bootstrapped", "device_signed", "needs_password", "failed"]


@dataclass(frozen=True)
class CrossSigningOutcome:
    """What the bootstrap ended with; `message` is one log line for the operator."""

    state: State
    message: str

    @property
    def ok(self) -> bool:
        return self.state in ("ready", "bootstrapped", "device_signed")


@dataclass(frozen=True)
class OwnKeys:
    """The bot's own entries in a /keys/query answer."""

    public: dict[str, str | None]  # usage → the homeserver's public key (None: none there)
    device: dict | None  # this device's key object, as the homeserver returned it

    def matches(self, keys: CrossSigningSet) -> bool:
        return all(self.public[usage] == keys[usage].public for usage in USAGES)

    def device_key_differs(self, device_id: str, ed25519: str) -> bool:
        """The homeserver holds keys for this device that are not `ed25519`: the device
        was set up by a key store this bot no longer has."""
        if self.device is None:
            return False
        return self.device.get("keys", {}).get(f"ed25519:{device_id}") != ed25519


class HomeserverError(RuntimeError):
    """An answer the bootstrap cannot go on with (the reason, never a secret)."""


async def _post(client: AsyncClient, path: list[str], body: dict) -> tuple[int, dict]:
    """POST JSON with the access token in the header (never in a URL that may be logged)."""
    response = await client.send(
        "POST",
        Api._build_path(path),
        json.dumps(body),
        headers={
            "Authorization": f"Bearer {client.access_token}",
            "Content-Type": "application/json",
        },
    )
    try:
        answer = await response.json(content_type=None)
    except ValueError:
        answer = {}
    return response.status, answer if isinstance(answer, dict) else {}


def _refused(what: str, status: int, answer: dict) -> HomeserverError:
    reason = answer.get("errcode") or "no error code"
    detail = answer.get("error") or answer.get("message") or ""
    return HomeserverError(f"{what}: HTTP {status} ({reason}: {detail})")


async def query_own_keys(client: AsyncClient) -> OwnKeys:
    """The account's cross-signing keys and this device's keys, as the homeserver has them."""
    user_id = client.user_id
    status, answer = await _post(client, ["keys", "query"], {"device_keys": {user_id: []}})
    if status != 200:
        raise _refused("/keys/query", status, answer)
    public = {
        usage: public_key_of(answer.get(f"{usage}_keys", {}).get(user_id)) for usage in USAGES
    }
    device = answer.get("device_keys", {}).get(user_id, {}).get(client.device_id)
    return OwnKeys(public, device if isinstance(device, dict) else None)


async def _upload_device_keys(client: AsyncClient) -> None:
    """A new device's keys must be on the homeserver before they can be signed."""
    if client.should_upload_keys:
        response = await client.keys_upload()
        if not isinstance(response, KeysUploadResponse):
            raise HomeserverError(f"device keys not uploaded: {response}")


async def _sign_device(client: AsyncClient, device: dict, self_signing: SigningKey) -> None:
    """Sign the device's key object exactly as the homeserver has it."""
    user_id, device_id = client.user_id, client.device_id
    unsigned = {k: v for k, v in device.items() if k not in UNSIGNED_PARTS}
    signed = sign_json(unsigned, user_id, self_signing)
    body = {user_id: {device_id: signed}}
    status, answer = await _post(client, ["keys", "signatures", "upload"], body)
    failures = answer.get("failures") or {}
    if status != 200 or failures:
        detail = failures.get(user_id, {}).get(device_id, {}) if failures else answer
        raise _refused(f"signature of device {device_id}", status, detail)
    log.info("device %s of %s signed with the self-signing key", device_id, user_id)


def operator_message(user_id: str, answer: dict, *, have_password: bool) -> str:
    """What the operator must do when the homeserver wants proof to replace the keys."""
    flows = [stage for flow in answer.get("flows", []) for stage in flow.get("stages", [])]
    params = answer.get("params", {})
    url = next((params[s].get("url") for s in OAUTH_STAGES if s in params), None)
    consequence = (
        "Until then Element users do not see the bot's messages in encrypted rooms and it "
        "cannot read theirs (MSC4153); unencrypted rooms work."
    )
    if url:
        return (
            f"cross-signing of {user_id} was set up by another client and the bot does not "
            f"have those keys: approve the cross-signing reset at {url} (or have a homeserver "
            "admin call POST /_synapse/admin/v1/users/<user_id>/"
            "_allow_cross_signing_replacement_without_uia) and restart the bot within 10 "
            f"minutes. {consequence}"
        )
    if PASSWORD_STAGE in flows and not have_password:
        return (
            f"cross-signing of {user_id} was set up by another client and the bot does not "
            "have those keys; replacing them needs the account password, and the bot has "
            "none (it logs in with an access token). Set the password once (matrix.password "
            "in the config or the environment variable ZT_MATRIX_PASSWORD; the access token "
            f"may stay) and restart the bot. {consequence}"
        )
    return (
        f"cross-signing of {user_id} was set up by another client; the homeserver offers no "
        f"way for the bot to replace it (stages {sorted(set(flows))}): reset the account's "
        f"cross-signing with a homeserver admin, then restart the bot. {consequence}"
    )


async def _upload_signing_keys(
    client: AsyncClient, keys: CrossSigningSet, password: str | None
) -> CrossSigningOutcome | None:
    """Upload the keys; None when the homeserver took them, else what stopped it.

    The first upload needs no password (MSC3967); replacing keys that are already there
    needs user-interactive auth, done with the password when the bot has one."""
    user_id = client.user_id
    path = ["keys", "device_signing", "upload"]
    body = signing_key_upload(user_id, keys)
    status, answer = await _post(client, path, body)
    if status == 200:
        return None
    if status != 401 or "flows" not in answer:
        raise _refused("/keys/device_signing/upload", status, answer)
    flows = [stage for flow in answer["flows"] for stage in flow.get("stages", [])]
    if password is None or PASSWORD_STAGE not in flows:
        message = operator_message(user_id, answer, have_password=password is not None)
        return CrossSigningOutcome("needs_password", message)
    auth = {
        "type": PASSWORD_STAGE,
        "identifier": {"type": "m.id.user", "user": user_id},
        "password": password,
        "session": answer.get("session"),
    }
    status, answer = await _post(client, path, {**body, "auth": auth})
    if status == 200:
        return None
    if status == 401:  # the same stage offered again: the password was wrong
        return CrossSigningOutcome(
            "failed",
            f"the homeserver refused the password of {user_id} for replacing its "
            "cross-signing keys: check matrix.password (or ZT_MATRIX_PASSWORD) and restart",
        )
    raise _refused("/keys/device_signing/upload", status, answer)


async def _load(store: CrossSigningKeys, user_id: str) -> CrossSigningSet | None:
    stored = await asyncio.to_thread(store.load, user_id)
    return None if stored is None else keys_from_store(stored)


async def _ensure_device_signed(client: AsyncClient, own: OwnKeys, keys: CrossSigningSet) -> bool:
    """Sign this device unless it carries a valid signature already; True if it signed."""
    if own.device is None:
        raise HomeserverError(f"the homeserver has no keys of device {client.device_id}")
    if has_valid_signature(own.device, client.user_id, keys["self_signing"].public):
        return False
    await _sign_device(client, own.device, keys["self_signing"])
    return True


def _log_upload(user_id: str, master: str, *, created: bool, replaced: bool) -> None:
    origin = "created" if created else "taken from the database"
    if replaced:
        log.warning(
            "cross-signing keys of %s %s and uploaded, replacing the ones another client had "
            "set up (master key %s); Element users may be told that the bot's identity changed",
            user_id,
            origin,
            master,
        )
    else:
        log.info(
            "cross-signing keys of %s %s and uploaded (master key %s); private keys in the "
            "database",
            user_id,
            origin,
            master,
        )


async def ensure_cross_signing(
    client: AsyncClient, keys: CrossSigningKeys, *, password: str | None, now: datetime
) -> CrossSigningOutcome:
    """Make the bot's account cross-signed and its current device signed.

    Call after login, before the first sync. Logs one INFO line per action; the caller
    logs the outcome's message when it is not `ok`. Raises HomeserverError (and the
    client's network errors) when the homeserver cannot be reached or answers oddly."""
    user_id = client.user_id
    await _upload_device_keys(client)
    own = await query_own_keys(client)
    ours = await _load(keys, user_id)
    if ours is not None and own.matches(ours):
        if await _ensure_device_signed(client, own, ours):
            return CrossSigningOutcome(
                "device_signed", f"new device {client.device_id} of {user_id} cross-signed"
            )
        log.info("cross-signing of %s already set up, device %s signed", user_id, client.device_id)
        return CrossSigningOutcome("ready", "cross-signing already set up")
    replacing = own.public["master"] is not None
    created = ours is None
    if ours is None:
        ours = generate_keys()
        # Saved before the upload: keys the homeserver has must never be keys we lost.
        await asyncio.to_thread(
            keys.save, user_id, {usage: key.stored() for usage, key in ours.items()}, now
        )
    stopped = await _upload_signing_keys(client, ours, password)
    if stopped is not None:
        return stopped
    _log_upload(user_id, ours["master"].public, created=created, replaced=replacing)
    await _ensure_device_signed(client, own, ours)
    return CrossSigningOutcome(
        "bootstrapped", f"cross-signing of {user_id} set up, device {client.device_id} signed"
    )
