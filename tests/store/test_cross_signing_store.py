"""The bot's cross-signing keys in the database: a whole set, replaced in one transaction."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from bot.store.cross_signing_keys import CrossSigningKeys, StoredKey
from bot.store.themes import Store

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
BOT = "@zt-bot:example.org"


def key_set(tag: str) -> dict[str, StoredKey]:
    return {
        usage: StoredKey(public_key=f"{tag}-{usage}-public", private_key=f"{tag}-{usage}-seed")
        for usage in ("master", "self_signing", "user_signing")
    }


@pytest.fixture
def keys(database_url: str):
    store = Store(database_url)
    store.upgrade()
    yield CrossSigningKeys(store)
    store.close()


def test_save_and_load_a_key_set(keys: CrossSigningKeys) -> None:
    assert keys.load(BOT) is None
    keys.save(BOT, key_set("first"), NOW)
    assert keys.load(BOT) == key_set("first")
    assert keys.load("@other:example.org") is None, "per account"
    keys.save(BOT, key_set("second"), NOW)
    assert keys.load(BOT) == key_set("second"), "a new set replaces the old one"


def test_a_failed_save_keeps_the_old_set_whole(keys: CrossSigningKeys) -> None:
    keys.save(BOT, key_set("first"), NOW)
    broken = key_set("second")
    broken["user_signing"] = StoredKey(public_key="p", private_key=None)  # type: ignore[arg-type]
    with pytest.raises(sa.exc.IntegrityError):
        keys.save(BOT, broken, NOW)
    assert keys.load(BOT) == key_set("first"), "the delete was rolled back with the insert"


def test_only_a_whole_set_is_saved(keys: CrossSigningKeys) -> None:
    partial = key_set("first")
    del partial["user_signing"]
    with pytest.raises(ValueError):
        keys.save(BOT, partial, NOW)
    assert keys.load(BOT) is None


def test_the_secret_stays_out_of_repr() -> None:
    assert "seed" not in repr(StoredKey(public_key="pub", private_key="seed"))
