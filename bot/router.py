"""The router: text of a message → command → handler → reply. No Matrix here."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.calling import authorize, read_arguments
from bot.command import (
    Command,
    PlainHandler,
    Reply,
    Request,
    RoomNotice,
    Services,
    UserError,
)
from bot.domain.theme_names import first_word, fold
from bot.rendering import Message, shorten
from bot.store.database import StoreUnavailable, is_unavailable

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
    """Routes a message to the command it names, among `commands` (the chat verbs, which
    only the wiring imports); a plain message in a direct chat to `plain` (the answer to an
    evaluation's open question)."""

    def __init__(
        self, services: Services, commands: Sequence[Command], plain: PlainHandler
    ) -> None:
        self.services = services
        self.commands = tuple(commands)
        self.plain = plain

    def with_services(self, services: Services) -> Router:
        """The same commands over other services (tests: another table of rights)."""
        return Router(services, self.commands, self.plain)

    def find_command(self, word: str) -> Command | None:
        """The command for a verb as typed: German or English, any case, umlauts folded."""
        folded = fold(word)
        return next((c for c in self.commands if folded in (fold(w) for w in c.words)), None)

    def _plain(self, body: str, *, room_id: str, now: datetime) -> Outcome | None:
        """A message without the prefix in a direct chat: an answer to a pending open
        question of an evaluation, else nothing."""
        if len(body) > MAX_COMMAND_LENGTH:
            return None
        try:
            with self.services.store.savepoint():
                reply = self.plain.handler(body, room_id=room_id, now=now, services=self.services)
        except Exception as err:
            if is_unavailable(err):
                raise StoreUnavailable(str(err)) from err
            log.exception("plain reply in %s failed", room_id)
            return Outcome(self.plain.verb, self.services.renderer.error("internal"), "error")
        return None if reply is None else Outcome(self.plain.verb, reply, "ok")

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
        command = self.find_command(verb or "hilfe")
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
            usage=form.usage(renderer.argument_labels),
        )
        try:
            # The declared right is enforced here, before the handler runs; a handler that
            # fails leaves nothing half done (its writes roll back, its reply is recorded).
            request = authorize(form, request, self.services)
            request = read_arguments(form, request, self.services)
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
