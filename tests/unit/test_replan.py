"""Moving Z2: open unpinned steps keep their offsets, done/skipped/pinned ones their dates."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.process import load_template
from bot.domain.timeline import plan, replan

TEMPLATE = load_template()
KEYS = [step.key for step in TEMPLATE.steps]


@dataclass(frozen=True)
class StoredStep:
    key: str
    due: date
    pinned: bool = False
    state: str = "open"


def stored(z2: date) -> list[StoredStep]:
    return [StoredStep(p.key, p.due) for p in plan(TEMPLATE, z2)]


z2s = st.dates(min_value=date(2020, 1, 6), max_value=date(2090, 12, 31))
shifts = st.integers(min_value=-400, max_value=400).map(lambda d: timedelta(days=d))
fates = st.lists(st.sampled_from(["open", "done", "skipped", "pinned"]), min_size=8, max_size=8)


@given(z2s, shifts, fates)
def test_move_keeps_offsets_of_open_steps_and_dates_of_the_rest(
    z2: date, shift: timedelta, fate: list[str]
) -> None:
    steps = [
        replace(step, pinned=f == "pinned", state="open" if f in ("open", "pinned") else f)
        for step, f in zip(stored(z2), fate, strict=True)
    ]
    new_z2 = z2 + shift
    changes = replan(TEMPLATE, new_z2, (), steps)
    after = {s.key: changes.get(s.key, s.due) for s in steps}
    for step in steps:
        definition = TEMPLATE.step(step.key)
        if step.pinned or step.state != "open":
            assert after[step.key] == step.due, "done, skipped and pinned steps keep their date"
        elif definition.after_step is not None:  # step 7: Z2 + 5 W, ≥ a week after step 6
            earliest = after[definition.after_step] + timedelta(weeks=definition.after_weeks)
            own = new_z2 + timedelta(weeks=definition.offset_weeks)
            assert after[step.key] == max(own, earliest)
        elif definition.anchor == "z2":
            assert after[step.key] == new_z2 + timedelta(weeks=definition.offset_weeks)
        else:
            anchor = after[definition.anchor]
            assert after[step.key] == anchor + timedelta(weeks=definition.offset_weeks)
    assert set(changes) <= {s.key for s in steps if not s.pinned and s.state == "open"}


@given(z2s, shifts)
def test_moving_there_and_back_restores_every_date(z2: date, shift: timedelta) -> None:
    steps = stored(z2)
    moved = [
        replace(s, due=replan(TEMPLATE, z2 + shift, (), steps).get(s.key, s.due)) for s in steps
    ]
    back = replan(TEMPLATE, z2, (), moved)
    assert [back.get(s.key, s.due) for s in moved] == [s.due for s in steps]


def test_council_meeting_moves_step_6_and_7_follows() -> None:
    z2 = date(2027, 4, 12)
    changes = replan(TEMPLATE, z2, [date(2027, 5, 20)], stored(z2))
    assert changes == {"6": date(2027, 5, 20), "7": date(2027, 5, 27)}


def test_pin_moves_followers_only() -> None:
    z2 = date(2027, 4, 12)
    changes = replan(TEMPLATE, z2, (), stored(z2), {"6": date(2027, 6, 1)})
    assert changes == {"6": date(2027, 6, 1), "7": date(2027, 6, 8)}
