"""The chat verbs, one module each, registered here declaratively."""

from __future__ import annotations

from bot.names import fold
from commands import hilfe, neu, status, themen
from commands.base import Command

COMMANDS: tuple[Command, ...] = (
    hilfe.COMMAND,
    status.COMMAND,
    themen.COMMAND,
    neu.COMMAND,
)


def find_command(word: str) -> Command | None:
    """The command for a verb as typed: German or English, any case, umlauts folded."""
    folded = fold(word)
    return next((c for c in COMMANDS if folded in (fold(w) for w in c.words)), None)
