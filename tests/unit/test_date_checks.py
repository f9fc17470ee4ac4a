"""Consistent dates: the process's order and the concept's minimum distances."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.date_checks import ConflictKind, conflicts
from bot.domain.process import TemplateError, load_template, parse_template
from bot.domain.timeline import plan
from bot.rendering import Renderer, describe_file_error

TEMPLATE = load_template()
Z2 = date(2027, 4, 12)
PLANNED = {step.key: step.due for step in plan(TEMPLATE, Z2)}


def test_the_shipped_plan_has_no_conflicts_and_the_minimum_gaps_of_the_concept() -> None:
    assert conflicts(TEMPLATE, PLANNED, Z2, changed=[*PLANNED, "z2"]) == []
    gaps = {s.key: (s.min_weeks_before, s.min_weeks_after, s.gap_to) for s in TEMPLATE.steps}
    assert gaps["1"] == (6, None, "2")  # 6 W vor Z1
    assert gaps["2"] == (4, None, "z2")  # 4 W vor Sitzung Z2
    assert gaps["3"] == (1, None, "z2")
    assert gaps["5"] == (None, 2, "z2")  # 2 W nach Z2
    assert gaps["6"] == (None, 4, "z2")  # 4 W nach Z2


def test_a_step_before_an_earlier_one_is_an_order_conflict() -> None:
    dates = PLANNED | {"3": date(2027, 1, 25)}  # before step 1 (01.02.2027) and Z1
    found = conflicts(TEMPLATE, dates, Z2, changed=["3"])
    orders = [(c.step.key, c.other.key) for c in found if c.kind == ConflictKind.order]
    assert orders == [("3", "1"), ("3", "2")]


def test_too_close_before_and_after() -> None:
    dates = PLANNED | {"2": date(2027, 3, 29), "5": date(2027, 4, 19)}
    found = conflicts(TEMPLATE, dates, Z2, changed=["2", "5"])
    kinds = {(c.step.key, c.kind, c.days_apart, c.weeks) for c in found}
    assert (
        "2",
        ConflictKind.too_close_before,
        14,
        4,
    ) in kinds  # Z1 two weeks before Z2, four asked
    assert ("5", ConflictKind.too_close_after, 7, 2) in kinds
    # Step 1 now lies only 8 weeks before the later Z1: fine (6 asked).
    assert all(c.step.key != "1" for c in found)


def test_only_conflicts_that_the_change_touches() -> None:
    dates = PLANNED | {"2": date(2027, 3, 29)}
    assert conflicts(TEMPLATE, dates, Z2, changed=["6"]) == []
    assert conflicts(TEMPLATE, dates, Z2, changed=["z2"])  # Z2 is step 2's reference


def test_skipped_steps_do_not_count() -> None:
    dates = PLANNED | {"3a": date(2027, 5, 30)}
    assert conflicts(TEMPLATE, dates, Z2, changed=["3a"])
    assert conflicts(TEMPLATE, dates, Z2, changed=["3a"], ignored=["3a"]) == []


def test_gap_to_must_name_a_step() -> None:
    text = (
        '[[steps]]\nkey = "1"\nname = "A"\nkind = "meeting"\nleads = ["koordination"]\n'
        'offset_weeks = -2\nmin_weeks_before = 1\ngap_to = "9"\n'
    )
    with pytest.raises(TemplateError) as info:
        parse_template(text)
    assert "gap_to '9' muss ein Schritt oder 'z2' sein" in describe_file_error(info.value)


@pytest.mark.parametrize("language", ["de", "en"])
def test_the_refusal_says_why_in_words(language: str) -> None:
    dates = PLANNED | {"2": date(2027, 3, 29), "3": date(2027, 1, 25)}
    found = conflicts(TEMPLATE, dates, Z2, changed=["2", "3"])
    text = (
        Renderer(language)
        .error(
            "dates_conflict",
            conflicts=found,
            confirm="termin X 2 29.03.2027 trotzdem",
            prefix="!zt",
        )
        .body
    )
    if language == "de":
        assert (
            "Schritt 2 „Z1 Expertisen-Tisch“ am 29.03.2027 läge nur 14 Tage vor Z2 (12.04.2027);"
            " vorgesehen sind mindestens 4 Wochen" in text
        )
        assert "Schritt 3 „Aufbereitung für Z2“ am 25.01.2027 läge vor Schritt 1" in text
        assert text.endswith("Soll es trotzdem so sein: !zt termin X 2 29.03.2027 trotzdem")
    else:
        assert "would be only 14 days before Z2 (12.04.2027)" in text
