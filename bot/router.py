"""The router: text of a message → command → handler → reply. No Matrix here."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.command import Reply, Request, RoomNotice, Services, UserError, authorize
from bot.domain.theme_names import first_word
from bot.rendering import Message, shorten
from bot.store.database import StoreUnavailable, is_unavailable
from commands import find_command
from commands.antwort import VERB as ANSWER_VERB
from commands.antwort import plain_reply

log = logging.getLogger(__name__)

# A command longer than this is refused unread (the Matrix limit is 64 KiB per event).
MAX_COMMAND_LENGTH = 4000


@dataclass(frozen=True)
class Outcome:
    verb: str
    reply: Message
    result: str  # "ok", "refused", "error"
    # The command went through and may have changed what reminders depend on.
    changed: bool = False
    # Told to other rooms, with the reply (the adapter records both in one transaction).
    notices: tuple[RoomNotice, ...] = ()


def command_text(body: str, prefix: str) -> str | None:
    """The text after the prefix, or None when the message is not addressed to the bot."""
    stripped = body.lstrip()
    if stripped[: len(prefix)].casefold() != prefix.casefold():
        return None
    rest = stripped[len(prefix) :]
    if rest and not rest[0].isspace():
        return None  # "!ztx" is somebody else's command
    return rest.strip()


class Router:
    def __init__(self, services: Services) -> None:
        self.services = services

    def _plain(self, body: str, *, room_id: str, now: datetime) -> Outcome | None:
        """A message without the prefix in a direct chat: an answer to a pending open
        question of an evaluation, else nothing."""
        if len(body) > MAX_COMMAND_LENGTH:
            return None
        try:
            with self.services.store.savepoint():
                reply = plain_reply(body, room_id=room_id, now=now, services=self.services)
        except Exception as err:
            if is_unavailable(err):
                raise StoreUnavailable(str(err)) from err
            log.exception("plain reply in %s failed", room_id)
            return Outcome(ANSWER_VERB, self.services.renderer.error("internal"), "error")
        return None if reply is None else Outcome(ANSWER_VERB, reply, "ok")

    def handle(
        self,
        body: str,
        *,
        sender: str,
        room_id: str,
        now: datetime,
        mentions: tuple[str, ...] = (),
        is_direct: bool = False,
    ) -> Outcome | None:
        """The reply to a message, or None when it is not a command for this bot."""
        text = command_text(body, self.services.config.bot.prefix)
        if text is None:
            return self._plain(body, room_id=room_id, now=now) if is_direct else None
        renderer = self.services.renderer
        if len(text) > MAX_COMMAND_LENGTH:
            return Outcome("?", renderer.error("too_long", limit=MAX_COMMAND_LENGTH), "refused")
        verb, args = first_word(text)
        command = find_command(verb or "hilfe")
        if command is None:
            reply = renderer.error(
                "unknown_verb", verb=shorten(verb, 30), prefix=self.services.config.bot.prefix
            )
            return Outcome(shorten(verb, 30), reply, "refused")
        form, args = command.form(args)
        request = Request(
            sender=sender,
            room_id=room_id,
            verb=verb,
            args=args,
            now=now,
            mentions=mentions,
            is_direct=is_direct,
            usage=form.usage,
        )
        try:
            # The declared right is enforced here, before the handler runs; a handler that
            # fails leaves nothing half done (its writes roll back, its reply is recorded).
            request = authorize(form, request, self.services)
            with self.services.store.savepoint():
                answer = form.handler(request, self.services)
            if isinstance(answer, Reply):
                return Outcome(command.name, answer.message, "ok", form.changes, answer.notices)
            return Outcome(command.name, answer, "ok", changed=form.changes)
        except UserError as refusal:
            context = {"prefix": self.services.config.bot.prefix, **refusal.context}
            return Outcome(command.name, renderer.error(refusal.code, **context), "refused")
        except Exception as err:
            if is_unavailable(err):  # the caller waits and runs the command again
                raise StoreUnavailable(str(err)) from err
            log.exception("command %s failed", command.name)
            return Outcome(command.name, renderer.error("internal"), "error")
