"""domain.council: meetings from three sources, what changed between two reads, and step 6
on the day of the theme's paper. Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time

from bot.domain.council import (
    CouncilUpdate,
    MeetingDiff,
    MeetingSource,
    ReadMeeting,
    compare_meetings,
    council_pins,
    decision_step,
    kept_by_hand,
    meeting_days,
    meeting_entries,
    paper_changes,
    replan_theme,
)
from bot.domain.papers import LinkedPaper
from bot.domain.process import load_template
from bot.domain.themes import StepRecord, ThemeRecord, ThemeView
from bot.domain.timeline import plan

TEMPLATE = load_template()
Z2 = date(2027, 3, 15)
APRIL_15 = date(2027, 4, 15)


def meeting(key: str, day: date, hour: int = 17, name: str | None = None) -> ReadMeeting:
    return ReadMeeting(key, name, datetime.combine(day, time(hour), tzinfo=UTC), day)


def view(
    paper: LinkedPaper | None = None, meetings: tuple[date, ...] = (APRIL_15,), **six: object
) -> ThemeView:
    theme = ThemeRecord(
        id=1,
        name="Sporthalle",
        name_key="sporthalle",
        z2=Z2,
        process_json=TEMPLATE.to_json(),
        created_by="@k:localhost",
        created_at=datetime(2027, 1, 1, tzinfo=UTC),
    )
    steps = tuple(
        StepRecord(theme_id=1, key=p.key, position=n, due=p.due)
        for n, p in enumerate(plan(TEMPLATE, Z2, meetings))
    )
    steps = tuple(replace(s, **six) if s.key == "6" else s for s in steps)  # type: ignore[arg-type]
    return ThemeView(theme, steps, paper=paper)


def paper(**fields: object) -> LinkedPaper:
    return LinkedPaper(key="https://ris/paper/1", reference="BV/2027/0012", **fields)  # type: ignore[arg-type]


def test_moved_cancelled_and_new_meetings_by_their_id() -> None:
    before = [meeting("m1", date(2027, 4, 15)), meeting("m2", date(2027, 5, 27))]
    after = [
        meeting("m1", date(2027, 4, 22)),
        meeting("m3", date(2027, 12, 9)),
    ]
    diff = compare_meetings(before, after)
    assert [(b.day, a.day) for b, a in diff.moved] == [(date(2027, 4, 15), date(2027, 4, 22))]
    assert [m.key for m in diff.cancelled] == ["m2"] and [m.key for m in diff.added] == ["m3"]
    assert diff.changed


def test_a_new_hour_on_the_same_day_is_no_change() -> None:
    before = [meeting("m1", APRIL_15, hour=17, name="3. Sitzung")]
    after = [meeting("m1", APRIL_15, hour=18, name="3. Sitzung (verlegt)")]
    diff = compare_meetings(before, after)
    assert diff == MeetingDiff() and not diff.changed
    assert not compare_meetings([], after).changed  # only new meetings: nothing moved


def test_entries_name_their_sources_and_hand_entered_ones_win() -> None:
    entries = meeting_entries(
        configured=[date(2027, 7, 1)],
        entered=[APRIL_15, date(2027, 5, 20)],
        read=[meeting("m3", APRIL_15, name="3. Sitzung"), meeting("m5", date(2027, 7, 8))],
    )
    by_day = {e.day: e for e in entries}
    assert [e.day for e in entries] == sorted(by_day)
    assert by_day[APRIL_15].sources == {MeetingSource.chat, MeetingSource.oparl}
    assert by_day[APRIL_15].by_hand and by_day[APRIL_15].name == "3. Sitzung"
    assert by_day[date(2027, 7, 1)].sources == {MeetingSource.config}
    assert not by_day[date(2027, 7, 8)].by_hand
    assert meeting_days([date(2027, 7, 1)], [APRIL_15], [meeting("m3", APRIL_15)]) == [
        APRIL_15,
        date(2027, 7, 1),
    ]
    diff = compare_meetings([meeting("m3", APRIL_15)], [])
    assert kept_by_hand(diff, [APRIL_15]) == {APRIL_15}


def test_step_6_goes_to_the_day_of_the_deciding_consultation() -> None:
    pending = paper(pending_day=date(2027, 7, 8))
    assert pending.council_day == date(2027, 7, 8)
    assert council_pins(view(pending)) == {"6": date(2027, 7, 8)}
    changes = replan_theme(view(pending), [APRIL_15, date(2027, 7, 8)])
    assert changes == {"6": date(2027, 7, 8), "7": date(2027, 7, 15)}
    decided = paper(decided=True, result="Unverändert beschlossen", result_day=APRIL_15)
    assert decided.council_day == APRIL_15 and replan_theme(view(decided), [APRIL_15]) == {}
    # Postponed ("vertagt") decides nothing and schedules nothing: step 6 follows the council.
    postponed = paper(result="vertagt", result_day=APRIL_15)
    assert postponed.council_day is None and council_pins(view(postponed)) == {}


def test_a_date_set_by_hand_and_a_done_step_keep_their_day() -> None:
    pending = paper(pending_day=date(2027, 7, 8))
    assert council_pins(view(pending, pinned=True)) == {}
    assert council_pins(view(pending, state="done")) == {}
    assert council_pins(view(None)) == {}
    # A pin by hand in the same re-planning wins over the paper.
    changes = replan_theme(view(pending), [APRIL_15], pins={"6": date(2027, 6, 3)})
    assert changes["6"] == date(2027, 6, 3)
    # A new Z2 moves everything else; the paper keeps step 6.
    moved = replan_theme(view(pending), [APRIL_15], z2=date(2027, 3, 22))
    assert moved["4"] == date(2027, 3, 22) and moved["6"] == date(2027, 7, 8)


def test_a_process_without_the_decision_role_is_left_alone() -> None:
    own = TEMPLATE.model_copy(
        update={"steps": tuple(s.model_copy(update={"role": None}) for s in TEMPLATE.steps)}
    )
    base = view(paper(pending_day=date(2027, 7, 8)))
    without = replace(base, theme=replace(base.theme, process_json=own.to_json()))
    assert council_pins(without) == {} and decision_step(without) is None
    assert decision_step(base) == "6"


def test_what_is_worth_telling() -> None:
    quiet = CouncilUpdate(first=False, meetings=7, diff=MeetingDiff(), papers=(), moved=())
    assert not quiet.worth_telling
    added = MeetingDiff(added=(meeting("m9", date(2027, 12, 9)),))
    assert not replace(quiet, diff=added).worth_telling  # a new meeting alone moves nothing
    assert replace(quiet, first=True).worth_telling
    assert replace(quiet, moved=(("Sporthalle", {"6": APRIL_15}),)).worth_telling
    before = {1: paper(pending_day=date(2027, 7, 8))}
    after = {1: paper(pending_day=date(2027, 7, 9))}
    [change] = paper_changes({1: "Parken"}, before, after)
    assert (change.theme, change.before, change.after) == (
        "Parken",
        date(2027, 7, 8),
        date(2027, 7, 9),
    )
    assert replace(quiet, papers=(change,)).worth_telling
    assert paper_changes({1: "Parken"}, before, before) == ()
