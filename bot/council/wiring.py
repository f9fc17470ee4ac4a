"""The council package as the configuration sets it up: the client with the bot's contact,
and the one line `zt-bot check --online` prints about the council information system."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from bot.config import Config
from bot.council.client import ClientLimits, OParlClient, OParlUnavailable
from bot.council.values import council_label, read_meetings
from bot.rendering import Renderer

# "In the coming year" for the check.
COMING = timedelta(days=365)


def client_for(config: Config, limits: ClientLimits | None = None) -> OParlClient:
    """The client that says who asks: `[council] contact`, else the bot's Matrix id."""
    contact = config.council.contact or config.matrix.user_id
    return OParlClient(contact=contact, limits=limits)


@dataclass(frozen=True)
class Probe:
    ok: bool
    text: str  # for the operator, in the bot's language (oparl.j2)


async def probe(
    config: Config,
    *,
    today: date,
    limits: ClientLimits | None = None,
    renderer: Renderer | None = None,
) -> Probe:
    """Read the configured council's meetings once: which body, which council, how many
    meetings in the coming year; or what is wrong."""
    words = renderer or Renderer(config.bot.language)
    entry, council = config.council.oparl, config.council
    if entry is None:
        return Probe(True, words.sentence("oparl", "probe_off").body)
    async with client_for(config, limits) as client:
        try:
            data = await client.council_meetings(
                entry, council.body, council.organization, today=today
            )
        except OParlUnavailable as failure:
            return Probe(False, failure.text(words))
    body, organization = council_label(data)
    coming = [m for m in read_meetings(data, config.bot.zone) if today <= m.day < today + COMING]
    text = words.sentence(
        "oparl",
        "probe_read",
        body=body,
        organization=organization,
        count=len(coming),
        next=coming[0].day if coming else None,
    ).body
    return Probe(True, text)
