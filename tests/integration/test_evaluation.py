"""Evaluation after Z2 on the real homeserver: native MSC3381 polls, counted per MSC3381,
in the room or anonymously in direct chats; KVP ideas."""

from __future__ import annotations

import asyncio

import pytest
import sqlalchemy as sa

from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from bot.domain.polls import POLL_END, POLL_RESPONSE, POLL_START
from bot.matrix.events import poll_end
from tests.integration.conftest import PASSWORD, Accounts

pytestmark = pytest.mark.integration


async def people(synapse: LocalSynapse, *names: str) -> list[ScriptedUser]:
    users = []
    for name in names:
        user = ScriptedUser(synapse.url, synapse.register(name, PASSWORD))
        user.auto_join = True
        await user.start()
        users.append(user)
    return users


async def join_all(owner: ScriptedUser, room_id: str, users: list[ScriptedUser]) -> None:
    for user in users:
        await owner.client.room_invite(room_id, user.user_id)
        await owner.wait_for_member(room_id, user.user_id)


def poll_for(user: ScriptedUser, room_id: str, question_text: str) -> str:
    for poll in user.polls_in(room_id):
        content = poll.content["content"][POLL_START]
        if content["question"]["body"] == question_text:
            return poll.event_id
    raise AssertionError(f"no poll {question_text!r} in {room_id}")


async def z2_theme(coordinator: ScriptedUser, room_id: str, name: str) -> None:
    """A theme whose Z2 participants sit in `room_id` (Z2 on 12.04.2027: an evaluation
    started before is confirmed with `trotzdem`)."""
    await coordinator.ask(room_id, f"!zt neu {name} 12.04.2027")
    bound = await coordinator.ask(room_id, f"!zt raum {name} z2")
    assert "Z2-Raum" in bound.body, bound.body


Q1 = "Wie zufrieden sind Sie insgesamt mit dem Zukunftstisch?"
Q2 = "Das Ziel des Zukunftstischs war mir klar."
POLLS = 9  # the questionnaire's scale questions; the open one is a text


async def test_room_mode_polls_are_native_and_counted_per_msc3381(
    bot_factory, synapse: LocalSynapse, coordinator: ScriptedUser, accounts: Accounts
) -> None:
    bot = await bot_factory()
    anna, ben, cem, dora = await people(synapse, "anna", "ben", "cem", "dora")
    room_id = await coordinator.create_room([bot.user_id], name="Z2 Mobilität")
    await coordinator.wait_for_member(room_id, bot.user_id)
    await join_all(coordinator, room_id, [anna, ben, cem, dora])
    await z2_theme(coordinator, room_id, "Mobilität")
    refused = await anna.ask(room_id, "!zt umfrage Mobilität raum trotzdem")
    assert "Das dürfen nur Koordinator*innen" in refused.body
    started = await coordinator.ask(room_id, "!zt umfrage Mobilität raum trotzdem")
    assert f"als Umfrage im Z2-Raum „Z2 Mobilität“ (https://matrix.to/#/{room_id})" in (
        started.body
    )
    await anna.wait_until(lambda: len(anna.polls_in(room_id)) >= POLLS)
    start = anna.polls_in(room_id)[0].content
    assert start["type"] == POLL_START
    assert start["content"][POLL_START]["kind"] == "org.matrix.msc3381.poll.undisclosed"
    assert start["content"][POLL_START]["max_selections"] == 1
    assert len(anna.polls_in(room_id)) == POLLS  # one poll per question, the open one is text

    q1, q2 = poll_for(anna, room_id, Q1), poll_for(anna, room_id, Q2)
    await anna.vote(room_id, q1, ["a1"])
    await anna.vote(room_id, q1, ["a2"])  # changed: only the latest counts
    await ben.vote(room_id, q1, ["zz"])  # unknown answer id: spoiled
    await cem.vote(room_id, q1, ["a1"])
    await dora.vote(room_id, q1, ["a3"])
    await dora.vote(room_id, q2, ["a1"])  # the only answer to question 2
    await anna.vote(room_id, q2, ["a2"])
    await anna.vote(room_id, q2, [])  # withdrawn (the close reads the votes from the server)

    closing = await coordinator.ask(room_id, "!zt umfrage beenden Mobilität")
    assert "wird beendet" in closing.body
    await coordinator.wait_until(
        lambda: any("Auswertung „Mobilität“" in r.body for r in coordinator.received)
    )
    summary = next(r for r in coordinator.received if "Auswertung „Mobilität“" in r.body).body
    assert f"1. {Q1} – 3 Antworten, Mittelwert 4,0 von 5" in summary
    assert "sehr zufrieden 1 · eher zufrieden 1 · teils, teils 1 · eher unzufrieden 0" in summary
    assert f"2. {Q2} – 1 Antwort: zu wenige Antworten (mindestens 3)" in summary
    assert "trifft voll zu 1" not in summary  # a single answer is never shown

    # A vote after the end changes nothing.
    await cem.vote(room_id, q1, ["a5"])
    again = await coordinator.ask(room_id, "!zt auswertung Mobilität")
    assert f"1. {Q1} – 3 Antworten, Mittelwert 4,0 von 5" in again.body
    overview = await coordinator.ask(room_id, "!zt auswertung")
    assert "Mobilität: 4,0" in overview.body

    # The coordination office's CSV: aggregates only, the same threshold as in chat.
    from bot.cli import main

    exported = bot.config.bot.data_dir / "ergebnisse.csv"
    config_file = bot.config.bot.data_dir.parent / "config.toml"
    assert main(["export-results", "--config", str(config_file), "--output", str(exported)]) == 0
    lines = exported.read_text("utf-8-sig").splitlines()
    assert lines[0] == "Thema;Beendet;Modus;Frage;Antworten;Mittelwert;Antwort;Anzahl"
    assert any(line.endswith(f"{Q1};3;4,0;eher zufrieden;1") for line in lines)
    assert any(f"{Q2};1;;zu wenige Antworten;" in line for line in lines)
    for user in (anna, ben, cem, dora):
        await user.close()


async def test_polls_follow_elements_rules_for_ends_and_responses(
    bot_factory, synapse: LocalSynapse, coordinator: ScriptedUser
) -> None:
    """matrix-js-sdk counts an end from anyone who may redact others' events (the room's
    creator: infinite power in room version 12, level 100 before) and writes responses
    under the stable key, an empty vote as a block without answers. The bot counts alike."""
    bot = await bot_factory("[evaluation]\nmin_answers = 2")
    helga, ida, jan = await people(synapse, "helga", "ida", "jan")
    room_id = await coordinator.create_room([bot.user_id], name="Z2 Wasser")
    await coordinator.wait_for_member(room_id, bot.user_id)
    await join_all(coordinator, room_id, [helga, ida, jan])
    await z2_theme(coordinator, room_id, "Wasser")
    await coordinator.ask(room_id, "!zt umfrage Wasser raum trotzdem")
    await helga.wait_until(lambda: len(helga.polls_in(room_id)) >= POLLS)
    q1, q2 = poll_for(helga, room_id, Q1), poll_for(helga, room_id, Q2)

    def end(start: str) -> dict:
        return poll_end(start, "Die Umfrage wurde beendet.")

    stable = "m.poll.response"
    await helga.send_event(room_id, stable, response_block(q1, stable, ["a1"]))
    await ida.vote(room_id, q1, ["a2"])
    await jan.vote(room_id, q1, ["a1"])
    await jan.send_event(room_id, POLL_RESPONSE, response_block(q1, POLL_RESPONSE, None))
    # Jan (power 0) cannot end a poll; the room's creator can, as in Element.
    await jan.send_event(room_id, POLL_END, end(q2))
    await helga.vote(room_id, q2, ["a1"])
    await coordinator.send_event(room_id, POLL_END, end(q1))
    await asyncio.sleep(0.3)
    await ida.vote(room_id, q1, ["a5"])  # after the end: Element ignores it, so do we
    await ida.vote(room_id, q2, ["a2"])  # q2 still runs

    await coordinator.ask(room_id, "!zt umfrage beenden Wasser")
    await coordinator.wait_until(
        lambda: any("Auswertung „Wasser“" in r.body for r in coordinator.received)
    )
    summary = next(r for r in coordinator.received if "Auswertung „Wasser“" in r.body).body
    # Q1: Helga a1 (stable key), Ida a2 (her later a5 came after the end), Jan withdrew.
    assert f"1. {Q1} – 2 Antworten, Mittelwert 4,5 von 5" in summary
    assert f"2. {Q2} – 2 Antworten" in summary
    for user in (helga, ida, jan):
        await user.close()


def response_block(start: str, event_type: str, answers: list[str] | None) -> dict:
    """A response as matrix-js-sdk serializes it: `answers` left out for an empty vote."""
    block = {} if answers is None else {"answers": answers}
    return {"m.relates_to": {"rel_type": "m.reference", "event_id": start}, event_type: block}


async def test_anonymous_mode_asks_everyone_in_a_direct_chat_and_keeps_only_counts(
    bot_factory, synapse: LocalSynapse, coordinator: ScriptedUser
) -> None:
    bot = await bot_factory("[evaluation]\nmin_answers = 2")
    erik, fenja, gül = await people(synapse, "erik", "fenja", "gul")
    room_id = await coordinator.create_room([bot.user_id], name="Z2 Klima")
    await coordinator.wait_for_member(room_id, bot.user_id)
    await join_all(coordinator, room_id, [erik, fenja, gül])
    # Erik already has a direct chat with the bot: it is reused.
    existing = await erik.create_room([bot.user_id], name="Erik und Bot", direct=True)
    await erik.wait_for_member(existing, bot.user_id)
    await z2_theme(coordinator, room_id, "Klima")
    # The coordinator (a session-wide user) has seen polls of earlier tests: count from here.
    seen_before = len(coordinator.polls)
    coordinator.auto_join = True  # the coordinator is asked too, in a new direct chat
    started = await coordinator.ask(room_id, "!zt umfrage Klima trotzdem")
    assert "4 Personen werden im Direktchat gefragt (die Mitglieder des Z2-Raums" in started.body

    def new_polls(user: ScriptedUser) -> list:
        return user.polls[seen_before:] if user is coordinator else user.polls

    for user in (erik, fenja, gül, coordinator):
        await user.wait_until(lambda user=user: len(new_polls(user)) >= POLLS, timeout=60)
    assert {p.room_id for p in erik.polls} == {existing}
    direct_rooms = {p.room_id for u in (erik, fenja, gül, coordinator) for p in new_polls(u)}
    assert room_id not in direct_rooms and len(direct_rooms) == 4
    intro = next(r for r in fenja.received if "Zum Datenschutz" in r.body)
    assert intro.room_id != room_id

    for user, answer in ((erik, "a1"), (fenja, "a1"), (gül, "a4")):
        start = poll_for(user, user.polls[0].room_id, Q1)
        await user.vote(user.polls[0].room_id, start, [answer])
    gül_room = gül.polls[0].room_id
    await gül.vote(gül_room, poll_for(gül, gül_room, Q1), ["a2"])  # changed vote

    await coordinator.ask(room_id, "!zt umfrage beenden Klima")
    await coordinator.wait_until(
        lambda: any("Auswertung „Klima“" in r.body for r in coordinator.received)
    )
    summary = next(r for r in coordinator.received if "Auswertung „Klima“" in r.body)
    assert summary.room_id == room_id
    assert "(anonym, 4 Personen gefragt)" in summary.body
    assert f"1. {Q1} – 3 Antworten, Mittelwert 4,7 von 5" in summary.body
    assert "sehr zufrieden 2 · eher zufrieden 1 · teils, teils 0" in summary.body

    # After the close the database holds counts only: no person, no direct chat.
    engine = sa.create_engine(bot.config.database_url)
    with engine.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM evaluation_poll")).scalar() == 0
        tables = ("evaluation", "evaluation_poll", "evaluation_result")
        stored = " ".join(
            str(row)
            for table in tables
            for row in connection.execute(sa.text(f"SELECT * FROM {table}"))
        )
    engine.dispose()
    for user in (erik, fenja, gül, coordinator):
        assert user.user_id not in stored
    for direct in direct_rooms:
        assert direct not in stored
    coordinator.auto_join = False
    for user in (erik, fenja, gül):
        await user.close()


async def test_kvp_ideas_and_triage(
    room: str, coordinator: ScriptedUser, member: ScriptedUser, accounts: Accounts
) -> None:
    from tests.integration.conftest import unique

    name = unique("Wärmewende")
    await coordinator.ask(room, f"!zt neu {name} 12.04.2027")
    stored = await member.ask(room, f"!zt kvp {name} Einladungen zwei Wochen früher verschicken")
    number = stored.body.split("Nr. ")[1].split(" ")[0]
    listing = await coordinator.ask(room, f"!zt kvp {name}")
    assert f"{number}. Einladungen zwei Wochen früher verschicken (@fachbereich:localhost)" in (
        listing.body
    )
    refused = await member.ask(room, f"!zt kvp übernommen {number}")
    assert "Das dürfen nur Koordinator*innen" in refused.body
    adopted = await coordinator.ask(room, f"!zt kvp übernommen {number}")
    assert f"KVP-Idee Nr. {number} ist übernommen" in adopted.body
    twice = await coordinator.ask(room, f"!zt kvp verworfen {number}")
    assert "schon entschieden" in twice.body
    unknown = await coordinator.ask(room, "!zt kvp verworfen 999999")
    assert "gibt es nicht" in unknown.body
    empty = await coordinator.ask(room, f"!zt kvp {name}")
    assert "Keine offenen KVP-Ideen" in empty.body


async def test_kvp_in_a_direct_chat_is_stored_without_author(
    shared_bot, member: ScriptedUser, coordinator: ScriptedUser, room: str, accounts: Accounts
) -> None:
    from tests.integration.conftest import unique

    name = unique("Radverkehr")
    await coordinator.ask(room, f"!zt neu {name} 12.04.2027")
    direct = await member.create_room([accounts.bot.user_id], name="DM", direct=True)
    await member.wait_for_member(direct, accounts.bot.user_id)
    stored = await member.ask(direct, f"!zt kvp {name} Mehr Zeit für Rückfragen")
    assert "ohne Ihren Namen" in stored.body
    listing = await coordinator.ask(room, f"!zt kvp {name}")
    assert "Mehr Zeit für Rückfragen" in listing.body
    assert "@fachbereich" not in listing.body


async def test_anonymous_mode_reminds_only_those_who_have_not_answered_halfway(
    bot_factory, synapse: LocalSynapse, coordinator: ScriptedUser, tmp_path
) -> None:
    from datetime import timedelta

    from bot.clock import Clock

    directory = tmp_path / "halbzeit"
    extra = '[evaluation]\nopen_days = 2\nignore_users = ["@koordination:localhost"]'
    bot = await bot_factory(extra=extra, directory=directory)
    hanna, ilias = await people(synapse, "hanna", "ilias")
    room_id = await coordinator.create_room([bot.user_id], name="Z2 Halbzeit")
    await coordinator.wait_for_member(room_id, bot.user_id)
    await join_all(coordinator, room_id, [hanna, ilias])
    await z2_theme(coordinator, room_id, "Halbzeit")
    await coordinator.ask(room_id, "!zt umfrage Halbzeit trotzdem")
    for user in (hanna, ilias):
        await user.wait_until(lambda user=user: len(user.polls) >= POLLS, timeout=60)
    direct = hanna.polls[0].room_id
    await hanna.vote(direct, poll_for(hanna, direct, Q1), ["a2"])
    await bot.stop()

    # A day and an hour later (the shifted clock stands in for waiting): halfway is past.
    later = Clock(bot.bot.clock.zone, timedelta(hours=25))
    await bot_factory(extra=extra, directory=directory, clock=later)
    await ilias.wait_until(lambda: any("Kurze Erinnerung" in r.body for r in ilias.received))
    assert not any("Kurze Erinnerung" in r.body for r in hanna.received)
    for user in (hanna, ilias):
        await user.close()
