"""Which room hears what (domain.lead_rooms, domain.date_changes): one message per room
that acts on it; the coordination room sees the Fachbereich's steps in its digest, not as
copies; the Bürgerdialog never in the team room; moved dates in every other room."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from bot.domain.date_changes import date_change, rooms_to_tell
from bot.domain.lead_rooms import RoomSetup, addressees, citizen_dialogue_unbound
from bot.domain.process import Lead, load_template
from bot.domain.themes import StepRecord, ThemeRecord, ThemeView
from bot.domain.timeline import plan

KOORD, TEAM, TEAM2, BD, Z2 = "!koord", "!team", "!team2", "!bd", "!z2"
FB, KO, BDL = Lead.fachbereich, Lead.koordination, Lead.buergerdialog


def rooms_of(leads: tuple[Lead, ...], setup: RoomSetup) -> list[str]:
    return [a.room_id for a in addressees(leads, setup)]


CITY = RoomSetup(team=TEAM, coordination=KOORD, citizen_dialogue=BD, more_teams=(TEAM2,), z2=Z2)
NO_TEAM = RoomSetup(team=None, coordination=KOORD, citizen_dialogue=None)


@pytest.mark.parametrize(
    ("leads", "setup", "expected"),
    [
        # Fachbereich and Koordination: the team rooms; the coordination room has its digest.
        ((FB, KO), CITY, [TEAM, TEAM2]),
        # Z1 (step 2) also the citizen dialogue office's room, once each.
        ((FB, KO, BDL), CITY, [TEAM, TEAM2, BD]),
        # Step 7 leads with the Koordination first: still the team rooms.
        ((KO, FB), CITY, [TEAM, TEAM2]),
        # The Koordination alone (the council's decision): the coordination room.
        ((KO,), CITY, [KOORD]),
        # No team room yet: everything in the coordination room, once.
        ((FB, KO), NO_TEAM, [KOORD]),
        ((FB, KO, BDL), NO_TEAM, [KOORD]),
        # The Bürgerdialog alone (the participation notices): its room …
        ((BDL,), CITY, [BD]),
        # … else the coordination room (the notice says how to bind one), never the team.
        ((BDL,), RoomSetup(team=TEAM, coordination=KOORD, citizen_dialogue=None), [KOORD]),
    ],
)
def test_one_message_per_room_that_acts_on_the_step(
    leads: tuple[Lead, ...], setup: RoomSetup, expected: list[str]
) -> None:
    assert rooms_of(leads, setup) == expected


def test_a_city_that_keeps_copies_gets_them_in_the_coordination_room() -> None:
    copies = RoomSetup(team=TEAM, coordination=KOORD, citizen_dialogue=BD, coordination_copies=True)
    assert rooms_of((FB, KO), copies) == [TEAM, KOORD]
    assert rooms_of((FB, KO, BDL), copies) == [TEAM, KOORD, BD]


def test_without_a_coordination_room_nothing_is_lost() -> None:
    alone = RoomSetup(team=TEAM, coordination=None, citizen_dialogue=None)
    assert rooms_of((KO,), alone) == [TEAM]
    assert rooms_of((BDL,), alone) == [TEAM]  # no other room exists at all
    assert citizen_dialogue_unbound(alone)
    assert not citizen_dialogue_unbound(CITY)


# --- moved dates ----------------------------------------------------------------------------

TEMPLATE = load_template()


def view(z2: date, **rooms: object) -> ThemeView:
    record = ThemeRecord(
        id=1,
        name="Digitale Ethik",
        name_key="digitale ethik",
        z2=z2,
        process_json=TEMPLATE.to_json(),
        created_by="@k:stadt.de",
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
        **rooms,  # type: ignore[arg-type]
    )
    steps = tuple(
        StepRecord(theme_id=1, key=p.key, position=n, due=p.due)
        for n, p in enumerate(plan(TEMPLATE, z2))
    )
    return ThemeView(record, steps)


def setup_of(theme: ThemeView) -> RoomSetup:
    t = theme.theme
    return RoomSetup(
        team=t.team_room, coordination=KOORD, citizen_dialogue=t.buergerdialog_room, z2=t.z2_room
    )


def test_a_moved_z2_is_told_old_to_new_in_every_other_room() -> None:
    before = view(date(2027, 4, 12), team_room=TEAM, z2_room=Z2, buergerdialog_room=BD)
    after = view(date(2027, 4, 19))
    changes = {step.key: step.due for step in after.steps}
    change = date_change(before, changes, z2=date(2027, 4, 19))
    assert change is not None
    assert change.z2 == (date(2027, 4, 12), date(2027, 4, 19))
    assert [(m.key, m.old, m.new) for m in change.steps][:2] == [
        ("1", date(2027, 2, 1), date(2027, 2, 8)),
        ("2", date(2027, 3, 15), date(2027, 3, 22)),
    ]
    assert change.labels["2"] == "Z1 Expertisen-Tisch"
    # Typed in the coordination room: the team room, the Z2 room and (Z1 moved, which it
    # leads) the Bürgerdialog hear it; the coordination room has its answer.
    assert rooms_to_tell(change, setup_of(before), told_already={KOORD}) == [TEAM, Z2, BD]
    # Typed in the team room: the coordination room hears it too.
    assert rooms_to_tell(change, setup_of(before), told_already={TEAM}) == [Z2, KOORD, BD]


def test_a_moved_council_date_leaves_the_citizen_dialogue_alone() -> None:
    before = view(date(2027, 4, 12), team_room=TEAM, buergerdialog_room=BD)
    change = date_change(before, {"6": date(2027, 5, 20), "7": date(2027, 5, 27)})
    assert change is not None and change.z2 is None
    assert not change.concerns_citizen_dialogue
    assert rooms_to_tell(change, setup_of(before), told_already={KOORD}) == [TEAM]


def test_nothing_moved_tells_nobody() -> None:
    before = view(date(2027, 4, 12), team_room=TEAM)
    same = {step.key: step.due for step in before.steps}
    assert date_change(before, same, z2=date(2027, 4, 12)) is None
