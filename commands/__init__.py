"""The chat verbs, one module each, registered here declaratively."""

from __future__ import annotations

from bot.command import Command, PlainHandler
from bot.domain.theme_names import fold
from commands import (
    antwort,
    archivieren,
    auswertung,
    beteiligung,
    dokument,
    erinnerungen,
    erledigt,
    fachbereich,
    fortsetzen,
    hilfe,
    jahresbericht,
    jahresplan,
    kalender,
    kernteam,
    kontakt,
    kvp,
    loeschen,
    meilenstein,
    neu,
    oeffentlich,
    offen,
    ort,
    pausieren,
    ratssitzung,
    raum,
    status,
    teilnehmende,
    termin,
    themen,
    ueberspringen,
    umbenennen,
    umfrage,
    verlauf,
    verschieben,
    vorlage,
    zeitplan,
    zustaendig,
)

# The order is the order of `!zt hilfe`: reading first, then the process, then housekeeping.
COMMANDS: tuple[Command, ...] = (
    hilfe.COMMAND,
    status.COMMAND,
    zeitplan.COMMAND,
    themen.COMMAND,
    neu.COMMAND,
    verschieben.COMMAND,
    erledigt.COMMAND,
    dokument.COMMAND,
    offen.COMMAND,
    ueberspringen.COMMAND,
    termin.COMMAND,
    ort.COMMAND,
    zustaendig.COMMAND,
    raum.COMMAND,
    fachbereich.COMMAND,
    kernteam.COMMAND,
    kontakt.COMMAND,
    teilnehmende.COMMAND,
    ratssitzung.COMMAND,
    vorlage.COMMAND,
    jahresplan.COMMAND,
    meilenstein.COMMAND,
    erinnerungen.COMMAND,
    kalender.COMMAND,
    oeffentlich.COMMAND,
    beteiligung.COMMAND,
    umfrage.COMMAND,
    auswertung.COMMAND,
    jahresbericht.COMMAND,
    kvp.COMMAND,
    verlauf.COMMAND,
    umbenennen.COMMAND,
    pausieren.COMMAND,
    fortsetzen.COMMAND,
    archivieren.COMMAND,
    loeschen.COMMAND,
)


# A message without the prefix in a direct chat: the answer to an evaluation's open question.
PLAIN = PlainHandler(antwort.VERB, antwort.plain_reply)


def find_command(word: str) -> Command | None:
    """The command for a verb as typed: German or English, any case, umlauts folded."""
    folded = fold(word)
    return next((c for c in COMMANDS if folded in (fold(w) for w in c.words)), None)
