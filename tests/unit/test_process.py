"""domain.process: the process template as data, and errors that point at the line."""

from __future__ import annotations

import re

import pytest

from bot.domain.process import (
    Lead,
    ProcessTemplate,
    StepKind,
    TemplateError,
    default_template_text,
    load_template,
    parse_template,
)
from bot.rendering import Renderer, describe_file_error


def test_default_template_steps() -> None:
    template = load_template()
    assert [step.key for step in template.steps] == ["1", "2", "3", "3a", "4", "5", "6", "7"]
    optional = [step.key for step in template.steps if step.optional]
    assert optional == ["3a"]
    snapping = [step.key for step in template.steps if step.snap == "council"]
    assert snapping == ["6"]
    # Step 7: five weeks after Z2, never before a week after the council (issue 12).
    seven = template.step("7")
    assert (seven.anchor, seven.offset_weeks, seven.after_step, seven.after_weeks) == (
        "z2",
        5,
        "6",
        1,
    )
    assert set(seven.leads) == {Lead.koordination, Lead.fachbereich}
    assert template.step("7").kind == StepKind.continuous
    assert template.step("1").kind == StepKind.phase
    assert template.step("6").leads == (Lead.koordination,)
    assert Lead.buergerdialog in template.step("2").leads
    assert all(step.goals for step in template.steps)


def test_step_lookup_is_case_insensitive() -> None:
    template = load_template()
    assert template.step("3A").key == "3a"
    assert template.step("8") is None


def test_default_milestones() -> None:
    step2 = load_template().step("2")
    assert [(m.key, m.offset_weeks) for m in step2.milestones] == [
        ("beteiligung-start", -6),
        ("beteiligung-ende", -2),
    ]


def test_json_round_trip_of_the_default() -> None:
    template = load_template()
    assert ProcessTemplate.from_json(template.to_json()) == template


def test_json_round_trip_of_a_small_template() -> None:
    template = parse_template(_toml(_step("a", offset=-1), _step("b", anchor="a", offset=2)))
    again = ProcessTemplate.from_json(template.to_json())
    assert again == template
    assert again.step("b").anchor == "a"


def test_load_template_from_a_file(tmp_path) -> None:
    path = tmp_path / "prozess.toml"
    path.write_text(_toml(_step("x")), "utf-8")
    assert [step.key for step in load_template(path).steps] == ["x"]


def test_missing_file_is_a_template_error(tmp_path) -> None:
    with pytest.raises(TemplateError) as info:
        load_template(tmp_path / "prozess.toml")
    assert describe_file_error(info.value).startswith(f"{tmp_path / 'prozess.toml'}: kann nicht")


# --- errors -----------------------------------------------------------------------------


def _step(
    key: str,
    *,
    kind: str = "deadline",
    leads: str = '["koordination"]',
    offset: int = 0,
    anchor: str | None = None,
    header: str = "[[steps]]",
) -> str:
    lines = [
        header,
        f'key = "{key}"',
        f'name = "Schritt {key}"',
        f'kind = "{kind}"',
        f"leads = {leads}",
        f"offset_weeks = {offset}",
    ]
    if anchor is not None:
        lines.append(f'anchor = "{anchor}"')
    return "\n".join(lines) + "\n"


def _toml(*steps: str) -> str:
    return '[process]\nname = "Test"\nversion = 1\n\n' + "\n".join(steps)


def _header_line(text: str, index: int) -> int:
    """Line (1-based) of the index-th [[steps]] table header (comments allowed after it)."""
    headers = [n for n, line in enumerate(text.splitlines(), 1) if line.startswith("[[steps]]")]
    return headers[index]


def _error(text: str) -> str:
    with pytest.raises(TemplateError) as info:
        parse_template(text, "prozess.toml")
    return describe_file_error(info.value)


def test_unknown_kind_names_key_and_line() -> None:
    text = _toml(_step("1"), _step("2", kind="frist"), _step("3"))
    message = _error(text)
    assert "steps.1.kind" in message
    assert f"Zeile {_header_line(text, 1)}" in message
    assert message.startswith("prozess.toml")


def test_unknown_lead_names_key_and_line() -> None:
    text = _toml(_step("1"), _step("2"), _step("3", leads='["rathaus"]'))
    message = _error(text)
    assert "steps.2.leads" in message
    assert f"Zeile {_header_line(text, 2)}" in message


def test_bad_toml_is_a_template_error() -> None:
    message = _error("[[steps]\nkey = ")
    assert "TOML" in message
    assert message.startswith("prozess.toml")


def test_no_steps_is_an_error() -> None:
    assert "steps" in _error('[process]\nname = "leer"\n')


def test_unknown_field_is_an_error() -> None:
    text = _toml(_step("1") + "ofset_weeks = 3\n")
    message = _error(text)
    assert "steps.0.ofset_weeks" in message
    assert f"Zeile {_header_line(text, 0)}" in message


def test_duplicate_key_names_key_and_line() -> None:
    text = _toml(_step("1"), _step("2"), _step("2", offset=1))
    message = _error(text)
    assert "steps[2]" in message
    assert "'2'" in message
    # The line of the second [[steps]] table with key "2".
    assert f"Zeile {_header_line(text, 2)}" in message


def test_duplicate_key_is_case_insensitive() -> None:
    assert "doppelt" in _error(_toml(_step("3a"), _step("3A")))


def test_unknown_anchor_names_key_and_line() -> None:
    text = _toml(_step("1"), _step("2", anchor="9", offset=1))
    message = _error(text)
    assert "steps[1]" in message
    assert "'9'" in message
    assert f"Zeile {_header_line(text, 1)}" in message


def test_anchor_must_be_an_earlier_step() -> None:
    assert "anchor" in _error(_toml(_step("1", anchor="2"), _step("2")))


def test_line_is_right_when_a_steps_header_has_a_comment() -> None:
    # `[[steps]] # comment` is valid TOML; the line must still be the erroneous step's.
    text = _toml(
        _step("1", header="[[steps]]  # Vorbereitung"), _step("2", kind="frist"), _step("3")
    )
    message = _error(text)
    assert "steps.1.kind" in message
    assert re.findall(r"Zeile (\d+)", message) == [str(_header_line(text, 1))]


def test_default_text_parses() -> None:
    assert parse_template(default_template_text()) == load_template()


def test_a_citys_own_keys_get_every_feature_through_roles() -> None:
    """The code asks for a step's role, never for its key: renamed keys change nothing."""
    from datetime import UTC, date, datetime

    from bot.domain.evaluation import evaluation_step
    from bot.domain.process import MilestoneRole, StepRole, parse_template
    from bot.domain.reminder_plan import theme_facts
    from bot.domain.themes import StepRecord, ThemeRecord, ThemeView
    from bot.domain.timeline import plan

    text = default_template_text()
    for key in ("3a", "1", "2", "3", "4", "5", "6", "7"):  # 3a before 3
        text = text.replace(f'key = "{key}"', f'key = "S{key}"')
        text = text.replace(f'anchor = "{key}"', f'anchor = "S{key}"')
        text = text.replace(f'after_step = "{key}"', f'after_step = "S{key}"')
        text = text.replace(f'gap_to = "{key}"', f'gap_to = "S{key}"')
    own = parse_template(text, "eigener-prozess.toml")
    assert own.step_with_role(StepRole.evaluation).key == "S7"
    assert own.step_with_role(StepRole.council_decision).key == "S6"
    assert own.milestone_with_role(MilestoneRole.participation_start)[0].key == "S2"
    z2 = date(2027, 4, 12)
    theme = ThemeRecord(
        id=1,
        name="Eigen",
        name_key="eigen",
        z2=z2,
        process_json=own.to_json(),
        created_by="@k:example.org",
        created_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    steps = tuple(
        StepRecord(theme_id=1, key=p.key, position=i, due=p.due)
        for i, p in enumerate(plan(own, z2))
    )
    view = ThemeView(theme, steps)
    assert evaluation_step(view).key == "S7"
    facts = theme_facts(view)
    assert facts.participation_step == "S2"
    assert (facts.participation_opens, facts.participation_closes) == (
        date(2027, 3, 1),
        date(2027, 3, 29),
    )


def test_a_role_may_be_played_by_one_step_only() -> None:
    with pytest.raises(TemplateError) as info:
        parse_template(default_template_text().replace('role = "z2"', 'role = "evaluation"'))
    assert describe_file_error(info.value) == (
        "process.toml: role 'evaluation' steht bei mehr als einem Schritt"
    )
    assert describe_file_error(info.value, Renderer("en")) == (
        "process.toml: role 'evaluation' is given to more than one step"
    )


def test_step_7_is_five_weeks_after_z2_or_a_week_after_a_later_council() -> None:
    """The concept: "5 W nach Z2; kontinuierlich"; a council meeting later than Z2 + 4 W
    pushes step 7 to a week after it, an earlier one does not pull it forward."""
    from datetime import date

    from bot.domain.timeline import plan

    template = load_template()
    z2 = date(2027, 4, 12)  # KW 15
    dates = {p.key: p.due for p in plan(template, z2)}
    assert dates["6"] == date(2027, 5, 10) and dates["7"] == date(2027, 5, 17)  # KW 19, 20
    later = {p.key: p.due for p in plan(template, z2, [date(2027, 5, 20)])}
    assert later["6"] == date(2027, 5, 20) and later["7"] == date(2027, 5, 27)
    pinned_early = {p.key: p.due for p in plan(template, z2, pinned={"6": date(2027, 5, 3)})}
    assert pinned_early["7"] == date(2027, 5, 17)


def test_after_step_must_name_an_earlier_step() -> None:
    text = default_template_text().replace('after_step = "6"', 'after_step = "9"')
    with pytest.raises(TemplateError) as info:
        parse_template(text)
    assert "after_step '9' muss ein früher definierter Schritt sein" in describe_file_error(
        info.value
    )
