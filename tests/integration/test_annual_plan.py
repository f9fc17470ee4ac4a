"""`!zt jahresplan`: the year's themes by quarter with their warnings, against the real
homeserver (a bot of its own, so that no other test's themes are in its plan)."""

from __future__ import annotations

import pytest

from bot.demo.scripted_user import ScriptedUser

pytestmark = pytest.mark.integration


def section(body: str, heading: str) -> list[str]:
    """The lines under a heading of the plain-text plan, up to the next blank line."""
    lines = body.splitlines()
    start = lines.index(heading) + 1
    end = next((i for i in range(start, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start:end]


async def test_annual_plan_by_quarter_with_warnings(
    bot_factory, coordinator: ScriptedUser, member: ScriptedUser, accounts
) -> None:
    bot = await bot_factory()
    room_id = await coordinator.create_room([bot.user_id, accounts.member.user_id])
    await coordinator.wait_for_member(room_id, bot.user_id)
    await member.client.join(room_id)
    await coordinator.wait_for_member(room_id, accounts.member.user_id)

    # Two Z2 in KW 15/2027 (Monday and Thursday), and an idea for Q4.
    for command in (
        "!zt neu Digitale Ethik KW 15/2027",
        "!zt neu Mobilität 15.04.2027",
        "!zt neu Regenwasserbewirtschaftung Q4/2027",
    ):
        created = await coordinator.ask(room_id, command)
        assert "angelegt" in created.body, created.body

    # Everyone may read the plan, not only coordinators.
    reply = await member.ask(room_id, "!zt jahresplan 2027")
    body = reply.body
    assert body.startswith("Jahresplan 2027: 3 Themen, davon 1 Idee")
    assert section(body, "Q1 · Januar bis März") == ["  – noch nichts geplant"]
    q2 = section(body, "Q2 · April bis Juni")
    assert [line.split("  ")[1].strip() for line in q2] == ["Digitale Ethik", "Mobilität"]
    # Its first step (01.02.2027) has not begun: planned, not running (issue 21).
    assert "Z2 12.04.2027 (KW 15)" in q2[0] and "geplant" in q2[0] and "läuft" not in q2[0]
    assert "Z2 15.04.2027 (KW 15)" in q2[1]
    assert section(body, "Q3 · Juli bis September") == ["  – noch nichts geplant"]
    [idea] = section(body, "Q4 · Oktober bis Dezember")
    assert "Regenwasserbewirtschaftung" in idea and "noch kein Z2-Termin" in idea
    assert "💡 Idee" in idea

    assert (
        "⚠ Z2 von „Digitale Ethik“ und „Mobilität“ in derselben Woche KW 15 (12.04.–18.04.2027)"
        in body
    )
    # Step 3a of the worked example falls on Easter Monday, inside the Easter break.
    assert (
        "⚠ Digitale Ethik, Schritt 3a „Fraktionssitzungen (optional)“ am Mo 29.03.2027 "
        "(KW 13): Feiertag (Ostermontag), Schulferien (Oster-/Frühjahrsferien)" in body
    )
    assert "Feiertag (Pfingstmontag)" in body  # step 7 on 17.05.2027
    assert "Ferien unbekannt" not in body

    html = reply.content["content"]["formatted_body"]
    assert "<h4>Q2 · April bis Juni</h4>" in html and "<table>" in html
    assert "<h4>Hinweise</h4>" in html

    # The English alias, and a year whose school holidays are not known yet.
    await coordinator.ask(room_id, "!zt neu Zukunft KW 16/2031")
    later = await coordinator.ask(room_id, "!zt annual 2031")
    assert "Jahresplan 2031: 1 Thema" in later.body
    assert "Ferien unbekannt: Für 2031 kenne ich die NRW-Schulferien noch nicht" in later.body

    # Without a year: the current one (nothing planned there by this test's bot).
    current = await coordinator.ask(room_id, "!zt plan")
    year = bot.bot.clock.now().year
    assert current.body.startswith(f"Jahresplan {year}")


async def test_annual_plan_refuses_a_bad_year_in_german(
    room: str, coordinator: ScriptedUser
) -> None:
    word = await coordinator.ask(room, "!zt jahresplan abc")
    assert "„abc“ ist keine Jahreszahl. So geht es: !zt jahresplan [Jahr]" in word.body
    old = await coordinator.ask(room, "!zt jahresplan 1999")
    assert "Das Jahr 1999 liegt außerhalb von 2000 bis 2100." in old.body
    huge = await coordinator.ask(room, "!zt plan 99999")
    assert "Das Jahr 99999 liegt außerhalb von 2000 bis 2100." in huge.body


async def test_an_empty_year_says_how_to_add_a_theme(room: str, coordinator: ScriptedUser) -> None:
    reply = await coordinator.ask(room, "!zt jahresplan 2099")
    assert "Für 2099 steht noch kein Thema im Plan." in reply.body
    assert "„!zt neu <Thema> <Z2>“" in reply.body
    assert "!zt neu Regenwasserbewirtschaftung Q4/2099" in reply.body
