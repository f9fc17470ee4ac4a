"""Rights are declared by each command and enforced by the router: every mutating verb,
run by a department member who is no coordinator and by an outsider, against a real store."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from bot.command import Command, Right
from bot.rendering import Renderer
from bot.router import Router
from commands import COMMANDS
from tests.conftest import COORDINATOR

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
MEMBER = "@fachbereich:stadt.example"  # in Mobilität's team room, no coordinator
OUTSIDER = "@gast:andere.example"
TEAM_ROOM = "!team:stadt.example"
OTHER_ROOM = "!fremd:stadt.example"

KVP_USAGE = "kvp <Thema> [Idee]"
# One valid call of every form that changes something, by the form's usage line.
CALLS = {
    "neu <Thema> <Z2>": "neu Klima 15.06.2027",
    "verschieben <Thema> <Z2>": "verschieben Mobilität 22.04.2027",
    "erledigt <Thema> <Schritt> [<Schritt> …] [Notiz] [trotzdem]": "erledigt Mobilität 1",
    "offen <Thema> <Schritt>": "offen Mobilität 2",
    "überspringen <Thema> <Schritt> [Grund]": "überspringen Mobilität 3a",
    "termin <Thema> <Schritt> <Datum> [HH:MM[–HH:MM]] [trotzdem]": (
        "termin Mobilität 5 30.04.2027 trotzdem"
    ),
    "ort <Thema> <Schritt> <Ort|entfernen>": "ort Mobilität Z2 Ratssaal",
    "zuständig <Thema> <Schritt> [niemand] [@person:server …]": (
        "zuständig Mobilität 3 @anna:stadt.example"
    ),
    "raum <Thema> [team|buergerdialog|z2|entfernen]": "raum Mobilität z2",
    "fachbereich <Thema> <Name>": "fachbereich Mobilität Amt für Verkehrsplanung",
    "kernteam <Thema> [entfernen] [@person:server …]": "kernteam Mobilität @anna:stadt.example",
    "kontakt <Thema> <Text>": "kontakt Mobilität Anna, Tel. 123",
    "teilnehmende <Thema> [entfernen] [@person:server …]": (
        "teilnehmende Mobilität @ratsfrau:stadt.example"
    ),
    "ratssitzung <Datum>": "ratssitzung 20.05.2027",
    "ratssitzung entfernen <Datum>": "ratssitzung entfernen 03.06.2027",
    "vorlage <Thema> <Nummer>": "vorlage Mobilität BV/2027/0012",
    "umfrage <Thema> [intern] [anonym|raum] [trotzdem]": "umfrage Mobilität intern",
    "umfrage beenden <Thema> [intern]": "umfrage beenden Mobilität",
    KVP_USAGE: "kvp Mobilität Einladungen früher verschicken",
    "kvp übernommen <Nr> [@person, bis Datum]": (
        "kvp übernommen 1 @anna:stadt.example bis 01.06.2030"
    ),
    "kvp umgesetzt <Nr>": "kvp umgesetzt 1",
    "dokument <Thema> <Schritt> <URL> [Titel]": (
        "dokument Mobilität 3 https://cloud.stadt.example/s/thesen Thesenpapier"
    ),
    "kvp verworfen <Nr> [Grund]": "kvp verworfen 1 passt nicht",
    "umbenennen <Thema> <neuer Name>": "umbenennen Mobilität Mobilität und Verkehr",
    "pausieren <Thema>": "pausieren Mobilität",
    "fortsetzen <Thema>": "fortsetzen Mobilität",
    "archivieren <Thema>": "archivieren Mobilität",
    "löschen <Thema> [bestätigen]": "löschen Mobilität bestätigen",
    "kalender <Thema> abo neu": "kalender Mobilität abo neu",
    "kalender abo neu": "kalender abo neu",
    "öffentlich <Thema> [auswertung] an|aus": "öffentlich Mobilität an",
    "beteiligung <Thema> link <URL|entfernen>": (
        "beteiligung Mobilität link https://beteiligung.stadt.example/mobilitaet"
    ),
    "meilenstein <Name> <Datum|KW|Quartal>": ("meilenstein Masterplan Mobilität Q3/2027"),
    "meilenstein <Name> entfernen": "meilenstein Masterplan Mobilität entfernen",
}
# Mutating forms open to everyone, on purpose: an improvement idea may come from anyone.
PUBLIC = {"kvp <Thema> [Idee]"}


def forms(command: Command) -> Iterator[Command]:
    yield command
    yield from command.listed_forms  # subcommands (with their own forms) and tails
    if command.bare is not None:
        yield command.bare


MUTATING = [form for command in COMMANDS for form in forms(command) if form.changes]
# The usage lines as the German help shows them.
LABELS = Renderer("de").argument_labels


def usage(form: Command) -> str:
    return form.usage(LABELS)


class _Authority:
    def is_coordinator(self, user_id: str) -> bool:
        return user_id == COORDINATOR

    def is_member(self, room_id: str, user_id: str) -> bool:
        return room_id == TEAM_ROOM and user_id in (COORDINATOR, MEMBER)


@pytest.fixture
def router(make_bot) -> Router:
    bot = make_bot(
        "[council]\nmeetings = [2027-06-03]\n"
        '[web]\nlisten = "127.0.0.1:0"\npublic_url = "https://zt.stadt.example"'
    )
    router = bot.router.with_services(dataclasses.replace(bot.router.services, rights=_Authority()))
    for text in ("!zt neu Mobilität 15.04.2027", "!zt erledigt Mobilität 2 trotzdem"):
        outcome = router.handle(text, sender=COORDINATOR, room_id=TEAM_ROOM, now=NOW)
        assert outcome is not None and outcome.result == "ok", outcome
    return router


def snapshot(router: Router) -> list[tuple]:
    """Every row of every table that a command can change."""
    engine = router.services.store.engine
    with engine.connect() as connection:
        tables = (
            "theme",
            "step",
            "history",
            "responsibility",
            "council_meeting",
            "theme_paper",
            "idea",
            "feed_token",
            "step_document",
            "strategy_milestone",
        )
        return [
            tuple(row)
            for table in tables
            for row in connection.execute(sa.text(f"SELECT * FROM {table} ORDER BY 1"))
        ]


def test_every_mutating_form_declares_who_may_run_it() -> None:
    assert {usage(form) for form in MUTATING} == set(CALLS), "a call for each mutating form"
    for form in MUTATING:
        if usage(form) not in PUBLIC:
            assert form.right is not Right.everyone, usage(form)


def refused(form: Command, sender: str) -> bool:
    """Whether the declared right keeps `sender` out of `form`."""
    if form.right is Right.coordinators:
        return True
    return form.right is Right.theme_members and sender == OUTSIDER


REFUSALS = [
    pytest.param(form, sender, id=f"{usage(form).split(' <')[0]}-{who}")
    for form in MUTATING
    for sender, who in ((MEMBER, "member"), (OUTSIDER, "outsider"))
    if refused(form, sender)
]


@pytest.mark.parametrize(("form", "sender"), REFUSALS)
def test_a_form_refuses_who_may_not_and_changes_nothing(
    router: Router, form: Command, sender: str
) -> None:
    before = snapshot(router)
    text = f"!zt {CALLS[usage(form)]}"
    outcome = router.handle(text, sender=sender, room_id=OTHER_ROOM, now=NOW)
    assert outcome is not None and outcome.result == "refused", (text, outcome)
    assert outcome.reply.body.startswith("Das dürfen nur Koordinator*innen"), outcome.reply.body
    assert snapshot(router) == before


@pytest.mark.parametrize(
    "form",
    [form for form in MUTATING if form.right is Right.theme_members],
    ids=lambda form: usage(form).split(" <")[0],
)
def test_members_of_the_themes_rooms_may_mark_its_steps(router: Router, form: Command) -> None:
    outcome = router.handle(f"!zt {CALLS[usage(form)]}", sender=MEMBER, room_id=TEAM_ROOM, now=NOW)
    assert outcome is not None and outcome.result == "ok", outcome


def test_a_non_optional_step_needs_a_coordinator_even_for_members(router: Router) -> None:
    outcome = router.handle(
        "!zt überspringen Mobilität 3 liegt vor", sender=MEMBER, room_id=TEAM_ROOM, now=NOW
    )
    assert outcome is not None and outcome.result == "refused"
    assert "Koordinator*innen" in outcome.reply.body
