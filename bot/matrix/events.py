"""Every event content the bot sends, built in one place: notices, replies, reminders,
polls, files and pictures.

Bots send `m.notice`. Replies carry the `m.in_reply_to` relation and no quoted fallback
(the relation is enough, and the event stays small); mentions go in `m.mentions`. Polls
use the unstable MSC3381 types, which every Element client renders and sends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Literal

from bot.domain.polls import POLL_END, POLL_RESPONSE, POLL_START, REFERENCE
from bot.domain.questionnaire import Question
from bot.rendering import Attachment, Message

NOTICE = "m.notice"
HTML = "org.matrix.custom.html"
# Every reminder carries its sent-log key, so that after a long outage the bot can find it
# in the room's history before it sends it again.
REMINDER_MARKER = "org.zukunftstische.reminder"
TEXT = "org.matrix.msc1767.text"
KIND_UNDISCLOSED = "org.matrix.msc3381.poll.undisclosed"
KIND_DISCLOSED = "org.matrix.msc3381.poll.disclosed"

PollKind = Literal["undisclosed", "disclosed"]
_KINDS: Mapping[str, str] = MappingProxyType(
    {"undisclosed": KIND_UNDISCLOSED, "disclosed": KIND_DISCLOSED}
)


def notice(message: Message, mentions: Sequence[str] = ()) -> dict[str, Any]:
    """A notice with plain and HTML text; `mentions` are the people it pings."""
    content: dict[str, Any] = {
        "msgtype": NOTICE,
        "body": message.body,
        "format": HTML,
        "formatted_body": message.html,
    }
    if mentions:
        content["m.mentions"] = {"user_ids": list(mentions)}
    return content


def reply(message: Message, reply_to: str, sender: str) -> dict[str, Any]:
    """The answer to a command: a notice in reply to it that mentions who asked."""
    return {
        **notice(message, [sender]),
        "m.relates_to": {"m.in_reply_to": {"event_id": reply_to}},
    }


def reminder(message: Message, key: str) -> dict[str, Any]:
    """A reminder: a notice that mentions the responsible people (even none: an empty
    `m.mentions` tells clients not to guess from the text) and carries its key."""
    return {
        **notice(message),
        "m.mentions": {"user_ids": list(message.mentions)},
        REMINDER_MARKER: {"key": key},
    }


def reminder_key(content: Mapping[str, Any]) -> str | None:
    """The sent-log key a reminder's content carries, if it is one."""
    marker = content.get(REMINDER_MARKER)
    key = marker.get("key") if isinstance(marker, Mapping) else None
    return key if isinstance(key, str) else None


def file_reply(
    attachment: Attachment, uri: str, reply_to: str, encryption: Mapping[str, Any] | None
) -> dict[str, Any]:
    """An `m.file` in reply to a command; in an encrypted room `encryption` holds the
    upload's key, iv and hashes and there is no plain `url`."""
    content: dict[str, Any] = {
        "msgtype": "m.file",
        "body": attachment.filename,
        "filename": attachment.filename,
        "info": {"mimetype": attachment.mimetype, "size": len(attachment.data)},
    }
    return _uploaded(content, uri, reply_to, encryption)


def _uploaded(
    content: dict[str, Any], uri: str, reply_to: str, encryption: Mapping[str, Any] | None
) -> dict[str, Any]:
    """An upload's reply: its `url`, or in an encrypted room its `file` (url and keys)."""
    content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    if encryption is not None:
        content["file"] = {"url": uri, **encryption}
    else:
        content["url"] = uri
    return content


def image_reply(
    attachment: Attachment,
    uri: str,
    reply_to: str,
    encryption: Mapping[str, Any] | None,
    thumbnail: tuple[str, Mapping[str, Any] | None] | None = None,
) -> dict[str, Any]:
    """An `m.image` in reply to a command. `body` is the alt text (screen readers and
    notifications read it), `info` its size in pixels and bytes. In an encrypted room
    `encryption` holds the upload's key, iv and hashes and there is no plain `url`; the
    same goes for the thumbnail (`thumbnail`: its uri and its own keys, or None)."""
    assert attachment.width is not None and attachment.height is not None
    info: dict[str, Any] = {
        "w": attachment.width,
        "h": attachment.height,
        "mimetype": attachment.mimetype,
        "size": len(attachment.data),
    }
    small = attachment.thumbnail
    if thumbnail is not None and small is not None:
        thumbnail_uri, thumbnail_keys = thumbnail
        info["thumbnail_info"] = {
            "w": small.width,
            "h": small.height,
            "mimetype": small.mimetype,
            "size": len(small.data),
        }
        if thumbnail_keys is not None:
            info["thumbnail_file"] = {"url": thumbnail_uri, **thumbnail_keys}
        else:
            info["thumbnail_url"] = thumbnail_uri
    content: dict[str, Any] = {
        "msgtype": "m.image",
        "body": attachment.alt or attachment.filename,
        "filename": attachment.filename,
        "info": info,
    }
    return _uploaded(content, uri, reply_to, encryption)


def poll_start(question: Question, *, kind: PollKind = "undisclosed") -> dict[str, Any]:
    """Content of an `org.matrix.msc3381.poll.start` event for one question, as Element
    builds it, with a numbered plain-text fallback for clients without polls."""
    if not question.is_poll:
        raise ValueError(f"question {question.key!r} is open, not a poll")
    if kind not in _KINDS:
        raise ValueError(f"kind {kind!r}: 'undisclosed' or 'disclosed' expected")
    fallback = "\n".join(
        [question.text, *(f"{n}. {a.text}" for n, a in enumerate(question.answers, start=1))]
    )
    return {
        POLL_START: {
            "question": {TEXT: question.text, "body": question.text, "msgtype": "m.text"},
            "kind": _KINDS[kind],
            "max_selections": 1,
            "answers": [{"id": a.id, TEXT: a.text} for a in question.answers],
        },
        TEXT: fallback,
    }


def poll_response(start_event_id: str, answer_ids: Sequence[str]) -> dict[str, Any]:
    """Content of an `org.matrix.msc3381.poll.response` (what Element sends when one votes)."""
    return {
        "m.relates_to": {"rel_type": REFERENCE, "event_id": start_event_id},
        POLL_RESPONSE: {"answers": list(answer_ids)},
    }


def poll_end(start_event_id: str, text: str) -> dict[str, Any]:
    """Content of an `org.matrix.msc3381.poll.end`; `text` is the fallback for other clients."""
    return {
        "m.relates_to": {"rel_type": REFERENCE, "event_id": start_event_id},
        POLL_END: {},
        TEXT: text,
        "body": text,
        "msgtype": "m.text",
    }
