"""Documents on steps and the follow-up of adopted ideas (issue 21 points 3 and 6), on the
real homeserver: a link in an `erledigt` note becomes the step's document and the next
step's reminder links it (step 5 links the Fotoprotokoll of Z2); an adopted idea's owner
is reminded once, on its day, in the coordination room."""

from __future__ import annotations

import re

import pytest

from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import City, unique
from tests.integration.test_reminders import reminders_in, wait_for_reminders

# The day of test_who_hears_what (a Wednesday, every reminder due today goes out at once).
from tests.integration.test_who_hears_what import DAY, _rows

pytestmark = pytest.mark.integration

FOTO = "https://cloud.stadt.example/s/fotoprotokoll"


async def test_the_fotoprotokoll_of_z2_is_linked_in_the_reminder_of_step_5(
    city: City, coordinator: ScriptedUser
) -> None:
    bot = city.bot
    team = await city.room("Amt für Mobilität")
    name = await city.theme("Mobilität", "KW 15/2030", team)

    done = await coordinator.ask(
        team, f"!zt erledigt {name} Z2 Fotoprotokoll: {FOTO}, bitte ansehen trotzdem"
    )
    assert f"✅ Schritt 4 „Z2 Strategie-Tisch“ von {name} ist erledigt." in done.body
    assert "📎 Als Dokument von Schritt 4 abgelegt" in done.body and FOTO in done.body
    titled = await coordinator.ask(
        team, f"!zt dokument {name} 4 https://x.example/a<b>.pdf <b>Entwurf</b>"
    )
    assert "kein Link, den ich ablegen kann" in titled.body  # < > never in a link
    added = await coordinator.ask(
        team, f"!zt dokument {name} 4 https://x.example/teilnehmende.pdf <b>Liste</b>"
    )
    assert "<b>Liste</b> – https://x.example/teilnehmende.pdf" in added.body
    assert "<b>Liste" not in added.content["content"]["formatted_body"]

    # Step 5 (the Beschlussvorlage) due today: its reminder links what Z2 produced.
    await coordinator.ask(team, f"!zt termin {name} 5 {DAY} trotzdem")
    [reminder] = await wait_for_reminders(coordinator, team, bot.user_id, 1)
    assert reminder.body.startswith("📌 Heute fällig: Schritt 5")
    assert "Aus Schritt 4 „Z2 Strategie-Tisch“:" in reminder.body
    assert f"📎 {FOTO}" in reminder.body
    assert "📎 <b>Liste</b> – https://x.example/teilnehmende.pdf" in reminder.body
    html = reminder.content["content"]["formatted_body"]
    assert f'<a href="{FOTO}">{FOTO}</a>' in html and "&lt;b&gt;Liste&lt;/b&gt;" in html

    status = await coordinator.ask(team, f"!zt status {name}")
    assert FOTO in status.body


async def test_an_adopted_ideas_owner_is_reminded_once_on_its_day(
    city: City, coordinator: ScriptedUser, accounts
) -> None:
    bot, koordination = city.bot, city.koordination
    name = unique("Klima")
    await coordinator.ask(koordination, f"!zt neu {name} KW 15/2030")
    stored = await coordinator.ask(koordination, f"!zt kvp {name} Einladungen früher verschicken")
    number = re.search(r"Nr\. (\d+)", stored.body).group(1)  # type: ignore[union-attr]
    owner = accounts.member.user_id
    adopted = await coordinator.ask(koordination, f"!zt kvp übernommen {number} {owner} bis {DAY}")
    assert adopted.body == (
        f"KVP-Idee Nr. {number} ist übernommen. {owner} setzt sie um; am {DAY} erinnere ich "
        f"im Koordinationsraum daran. Ist sie umgesetzt: !zt kvp umgesetzt {number}."
    )

    def follow_ups() -> list:
        return [
            r for r in reminders_in(coordinator, koordination, bot.user_id)
            if r.body.startswith(f"🔁 KVP-Idee Nr. {number}")
        ]  # fmt: skip

    await coordinator.wait_until(lambda: len(follow_ups()) >= 1, 30)
    [reminder] = follow_ups()
    assert "heute ist der Tag, sie umzusetzen" in reminder.body and owner in reminder.body
    assert reminder.content["content"]["m.mentions"] == {"user_ids": [owner]}
    # Once: the sent-log holds one row for it; a later round trip brings no second one.
    listed = await coordinator.ask(koordination, "!zt kvp")
    assert f"{number}. [{name}] Einladungen früher verschicken · {owner} · bis {DAY}" in listed.body
    rows = _rows(bot, f"SELECT status FROM reminder_log WHERE step_key = 'kvp-{number}'")
    assert rows == [("sent",)]
    assert len(follow_ups()) == 1
    closed = await coordinator.ask(koordination, f"!zt kvp umgesetzt {number}")
    assert closed.body.startswith(f"KVP-Idee Nr. {number} ist umgesetzt und abgeschlossen.")
