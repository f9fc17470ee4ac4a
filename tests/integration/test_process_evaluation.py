"""The process evaluation on the real homeserver, as the people in it see it: the automatic
start announced in the coordination room, open answers given by a plain reply in the
direct chat, the internal evaluation offered once step 6 is done, started and answered,
and `!zt jahresbericht`."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from tests.integration.conftest import RunningBot
from tests.integration.test_evaluation import join_all, people, poll_for

pytestmark = pytest.mark.integration

OPEN_STORED = "Danke, Ihre Antwort ist gespeichert – ohne Ihren Namen."


async def with_coordination_room(
    bot_factory, coordinator: ScriptedUser, directory: Path, extra: str
) -> tuple[RunningBot, str]:
    """A bot whose coordination room exists (made for its account first, then the bot
    starts again with it configured)."""
    first = await bot_factory(directory=directory)
    koordination = await coordinator.create_room([first.user_id], name="Koordination")
    await coordinator.wait_for_member(koordination, first.user_id)
    await first.stop()
    bot = await bot_factory(
        extra=f'[rooms]\nkoordination = "{koordination}"\n{extra}', directory=directory
    )
    return bot, koordination


def bodies(user: ScriptedUser, room_id: str, sender: str) -> list[str]:
    return [r.body for r in user.received if r.room_id == room_id and r.sender == sender]


async def wait_said(user: ScriptedUser, room_id: str, sender: str, text: str) -> str:
    await user.wait_until(lambda: any(text in b for b in bodies(user, room_id, sender)), timeout=60)
    return next(b for b in bodies(user, room_id, sender) if text in b)


def stored_rows(bot: RunningBot, query: str) -> list[tuple]:
    engine = sa.create_engine(bot.config.database_url)
    with engine.connect() as connection:
        rows = [tuple(row) for row in connection.execute(sa.text(query))]
    engine.dispose()
    return rows


async def test_automatic_start_is_announced_and_plain_replies_answer_the_open_question(
    bot_factory, synapse: LocalSynapse, coordinator: ScriptedUser, tmp_path: Path
) -> None:
    extra = '[evaluation]\nmin_answers = 2\nignore_users = ["@koordination:localhost"]'
    bot, koordination = await with_coordination_room(
        bot_factory, coordinator, tmp_path / "auto", extra
    )
    olga, paul = await people(synapse, "olga", "paul")
    z2_room = await coordinator.create_room([bot.user_id], name="Z2 Stadtgrün")
    await coordinator.wait_for_member(z2_room, bot.user_id)
    await join_all(coordinator, z2_room, [olga, paul])
    # Z2 a week ago: the evaluation is due since the working day after it.
    z2 = bot.bot.clock.now().date() - timedelta(days=7)
    await coordinator.ask(z2_room, f"!zt neu Stadtgrün {z2:%d.%m.%Y}")
    await coordinator.ask(z2_room, "!zt raum Stadtgrün z2")

    announced = await wait_said(coordinator, koordination, bot.user_id, "von selbst begonnen")
    assert announced.startswith("Die Evaluation von „Stadtgrün“ hat von selbst begonnen")
    assert "2 Personen werden im Direktchat gefragt" in announced
    assert "!zt umfrage beenden Stadtgrün" in announced

    answers = {olga: "Mehr Pausen einplanen", paul: "Die Ergebnisse früher verschicken"}
    for person, text in answers.items():
        await person.wait_until(
            lambda person=person: any(r.body.startswith("Offene Frage:") for r in person.received),
            timeout=60,
        )
        question = next(r for r in person.received if r.body.startswith("Offene Frage:"))
        assert question.room_id != z2_room and question.sender == bot.user_id
        assert "Was sollten wir beim nächsten Zukunftstisch anders machen?" in question.body
        assert "einfach mit einer Nachricht hier im Chat (ohne Befehl)" in question.body
        direct = question.room_id
        await person.vote(direct, poll_for(person, direct, "Mein Beitrag wurde gehört."), ["a1"])
        thanks = await person.ask(direct, text)  # no !zt: a plain reply
        assert thanks.body == OPEN_STORED
    # A plain message in the Z2 room is not an answer, and the bot stays silent there.
    await olga.send(z2_room, "Danke allen!")
    await olga.ask(z2_room, "!zt hilfe")  # answered after it, had it been
    assert not any(OPEN_STORED in b for b in bodies(olga, z2_room, bot.user_id))

    stored = stored_rows(bot, "SELECT * FROM evaluation_open_answer")
    assert sorted(row[-1] for row in stored) == sorted(answers.values())
    for person in (olga, paul):
        assert all(person.user_id not in str(row) for row in stored)
        assert all(r.room_id not in str(stored) for r in person.received)

    await coordinator.ask(koordination, "!zt umfrage beenden Stadtgrün")
    summary = await wait_said(coordinator, koordination, bot.user_id, "Auswertung „Stadtgrün“")
    assert "Mein Beitrag wurde gehört. – 2 Antworten, Mittelwert 5,0 von 5" in summary
    assert "2 Antworten (ohne Namen):" in summary
    assert "   – Mehr Pausen einplanen" in summary
    assert "   – Die Ergebnisse früher verschicken" in summary
    assert "olga" not in summary and "paul" not in summary
    assert stored_rows(bot, "SELECT * FROM evaluation_open_prompt") == []
    for person in (olga, paul):
        await person.close()


async def test_internal_evaluation_offered_after_step_6_started_answered_and_in_the_year_report(
    bot_factory, synapse: LocalSynapse, coordinator: ScriptedUser, tmp_path: Path
) -> None:
    extra = '[evaluation]\nmin_answers = 2\nignore_users = ["@koordination:localhost"]'
    bot, koordination = await with_coordination_room(
        bot_factory, coordinator, tmp_path / "intern", extra
    )
    rita, sven = await people(synapse, "rita", "sven")
    team = await coordinator.create_room([bot.user_id], name="Fachbereich Bauen")
    await coordinator.wait_for_member(team, bot.user_id)
    await join_all(coordinator, team, [rita, sven])
    await coordinator.ask(team, "!zt neu Quartier 12.04.2027")
    await coordinator.ask(team, "!zt raum Quartier team")
    await coordinator.ask(team, "!zt erledigt Quartier 6 trotzdem")

    for room in (koordination, team):
        offer = await wait_said(coordinator, room, bot.user_id, "Zeit für die interne Evaluation")
        assert offer.startswith("Der Rat hat über „Quartier“ entschieden (Schritt 6 erledigt).")
        assert offer.endswith("Starten: !zt umfrage Quartier intern")

    refused = await rita.ask(team, "!zt umfrage Quartier intern")
    assert "Koordinator*innen" in refused.body
    started = await coordinator.ask(koordination, "!zt umfrage Quartier intern")
    assert started.body.startswith("Die interne Evaluation von „Quartier“ startet jetzt")
    for person in (rita, sven):
        await person.wait_until(lambda person=person: len(person.polls) >= 3, timeout=60)
        direct = person.polls[0].room_id
        assert direct not in (team, koordination)
        intro = next(r for r in person.received if r.room_id == direct)
        assert intro.body.startswith("Interne Evaluation „Quartier“")
        await person.vote(direct, poll_for(person, direct, TIMELINE), ["a2"])
        await person.wait_until(
            lambda person=person: any("Offene Frage:" in r.body for r in person.received)
        )
    assert len(rita.polls) == 3  # timeline, materials, participation; the open one is text
    first = await rita.ask(rita.polls[0].room_id, "Unterlagen eine Woche früher an die TN")
    assert first.body == OPEN_STORED
    second = await sven.ask(sven.polls[0].room_id, "Kernteam früher einbinden")
    assert second.body == OPEN_STORED

    await coordinator.ask(koordination, "!zt umfrage beenden Quartier intern")
    summary = await wait_said(coordinator, team, bot.user_id, "Interne Evaluation „Quartier“")
    assert f"1. {TIMELINE} – 2 Antworten, Mittelwert 4,0 von 5" in summary
    assert "Was sollten wir beim nächsten Thema anders machen? – 2 Antworten (ohne Namen):" in (
        summary
    )
    assert "– Unterlagen eine Woche früher an die TN" in summary
    assert "Interne Evaluation „Quartier“" in await wait_said(
        coordinator, koordination, bot.user_id, "Interne Evaluation „Quartier“"
    )

    report = await coordinator.ask(koordination, "!zt jahresbericht 2027")
    assert report.body.startswith("Jahresbericht 2027: 1 Thema mit Z2")
    assert "• Quartier (Z2 12.04.2027):" in report.body
    assert "Rat entschieden" in report.body
    assert "!zt jahresbericht 2027 datei" in report.body
    for person in (rita, sven):
        await person.close()


TIMELINE = "Der Zeitplan des Themas wurde eingehalten."
