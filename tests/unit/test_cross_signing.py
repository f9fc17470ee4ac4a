"""Cross-signing helpers: keys and signatures, checked with an independent implementation
(vodozemac's Ed25519 over canonicaljson's bytes), as another Matrix client would check them."""

from __future__ import annotations

import pytest
import vodozemac
from canonicaljson import encode_canonical_json

from bot.matrix.cross_signing import (
    SigningKey,
    decode_base64,
    encode_base64,
    generate_keys,
    has_valid_signature,
    key_object,
    keys_from_store,
    operator_message,
    public_key_of,
    sign_json,
    signing_key_upload,
)

USER = "@zt-bot:example.org"


def verify(obj: dict, user_id: str, public: str) -> None:
    """Raises unless `obj` carries a valid signature of `public` (not bot code)."""
    signed_part = {k: v for k, v in obj.items() if k not in ("signatures", "unsigned")}
    signature = obj["signatures"][user_id][f"ed25519:{public}"]
    vodozemac.Ed25519PublicKey.from_base64(public).verify_signature(
        encode_canonical_json(signed_part), vodozemac.Ed25519Signature.from_base64(signature)
    )


@pytest.fixture(scope="module")
def keys() -> dict[str, SigningKey]:
    return generate_keys()


def test_three_different_keys_with_unpadded_base64(keys: dict[str, SigningKey]) -> None:
    assert set(keys) == {"master", "self_signing", "user_signing"}
    assert len({key.public for key in keys.values()}) == 3
    for key in keys.values():
        assert "=" not in key.public and "=" not in key.seed
        assert len(decode_base64(key.seed)) == 32
        assert key.key_id == f"ed25519:{key.public}"
        assert key.seed not in repr(key), "the secret stays out of logs and test output"


def test_base64_round_trip_without_padding() -> None:
    for length in range(6):
        data = bytes(range(length))
        assert decode_base64(encode_base64(data)) == data


def test_a_signature_verifies_independently_and_covers_the_object(
    keys: dict[str, SigningKey],
) -> None:
    device = {"user_id": USER, "device_id": "ABC", "keys": {"ed25519:ABC": "xyz"}}
    signed = sign_json(device, USER, keys["self_signing"])
    verify(signed, USER, keys["self_signing"].public)
    assert has_valid_signature(signed, USER, keys["self_signing"].public)
    assert "signatures" not in device, "the original is left alone"

    changed = {**signed, "device_id": "OTHER"}
    with pytest.raises(vodozemac.SignatureException):
        verify(changed, USER, keys["self_signing"].public)
    assert not has_valid_signature(changed, USER, keys["self_signing"].public)
    assert not has_valid_signature(signed, USER, keys["master"].public), "another key"
    assert not has_valid_signature(signed, "@someone:else", keys["self_signing"].public)


def test_signatures_and_unsigned_are_not_signed_and_earlier_signatures_stay(
    keys: dict[str, SigningKey],
) -> None:
    device = {
        "user_id": USER,
        "device_id": "ABC",
        "signatures": {USER: {"ed25519:ABC": "the device's own"}},
        "unsigned": {"device_display_name": "Zukunftstische-Bot"},
    }
    signed = sign_json(device, USER, keys["self_signing"])
    assert signed["signatures"][USER]["ed25519:ABC"] == "the device's own"
    assert signed["unsigned"] == device["unsigned"]
    # Another display name or more signatures do not touch the signature.
    renamed = {**signed, "unsigned": {"device_display_name": "renamed"}}
    verify(renamed, USER, keys["self_signing"].public)
    assert has_valid_signature(renamed, USER, keys["self_signing"].public)


def test_the_upload_has_the_master_key_sign_the_other_two(keys: dict[str, SigningKey]) -> None:
    body = signing_key_upload(USER, keys)
    master = keys["master"].public
    assert body["master_key"] == {
        "user_id": USER,
        "usage": ["master"],
        "keys": {f"ed25519:{master}": master},
    }
    for name, usage in (("self_signing_key", "self_signing"), ("user_signing_key", "user_signing")):
        obj = body[name]
        assert obj["usage"] == [usage] and obj["user_id"] == USER
        assert public_key_of(obj) == keys[usage].public
        verify(obj, USER, master)


def test_keys_come_back_the_same_from_the_store(keys: dict[str, SigningKey]) -> None:
    stored = {usage: key.stored() for usage, key in keys.items()}
    assert all(s.public_key == keys[u].public for u, s in stored.items())
    assert keys_from_store(stored) == keys
    assert keys["master"].seed not in repr(stored)


def test_public_key_of_odd_objects() -> None:
    assert public_key_of(None) is None
    assert public_key_of({"keys": "no"}) is None
    assert public_key_of({"keys": {"ed25519:a": "a", "ed25519:b": "b"}}) is None
    key = generate_keys()["master"]
    assert public_key_of(key_object(USER, key)) == key.public


def test_the_operator_is_told_what_to_do_for_each_way_the_homeserver_asks() -> None:
    password_flows = {"flows": [{"stages": ["m.login.password"]}], "session": "s"}
    text = operator_message(USER, password_flows, have_password=False)
    assert "ZT_MATRIX_PASSWORD" in text and "restart the bot" in text
    assert "Element users do not see the bot's messages in encrypted rooms" in text

    url = "https://auth.example.org/account?action=org.matrix.cross_signing_reset"
    oauth = {
        "flows": [{"stages": ["m.oauth"]}],
        "params": {"m.oauth": {"url": url}},
        "session": "dummy",
    }
    text = operator_message(USER, oauth, have_password=True)
    assert f"approve the cross-signing reset at {url}" in text and "10 minutes" in text

    odd = {"flows": [{"stages": ["m.login.sso"]}]}
    assert "homeserver admin" in operator_message(USER, odd, have_password=True)
