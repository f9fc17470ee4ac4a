"""The outbox: a handled command is recorded once with its reply until the reply is sent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.store.outbox import Outbox
from bot.store.themes import Store

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
REPLY = {"msgtype": "m.notice", "body": "Thema „Mobilität“ angelegt"}


def test_a_command_is_recorded_once_and_its_reply_kept_until_sent(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade()
    outbox = Outbox(store)
    assert not outbox.was_handled("$a")
    assert outbox.record("$a", "!r:x", REPLY, NOW)
    assert not outbox.record("$a", "!r:x", REPLY, NOW), "never handled twice"
    assert outbox.was_handled("$a")
    assert outbox.pending(NOW - timedelta(hours=1)) == [("$a", "!r:x", REPLY)]
    outbox.sent("$a")
    assert outbox.pending(NOW - timedelta(hours=1)) == []
    assert outbox.was_handled("$a")
    assert outbox.prune(NOW + timedelta(seconds=1)) == 1
    store.close()


def test_replies_older_than_the_transaction_window_are_not_resent(database_url: str) -> None:
    store = Store(database_url)
    store.upgrade()
    outbox = Outbox(store)
    outbox.record("$old", "!r:x", REPLY, NOW - timedelta(days=1))
    outbox.record("$new", "!r:x", REPLY, NOW)
    assert [event for event, _, _ in outbox.pending(NOW - timedelta(hours=23))] == ["$new"]
    store.close()
