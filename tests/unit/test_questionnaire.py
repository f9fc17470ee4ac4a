"""domain.questionnaire: the evaluation questions as data, and errors that point at the line."""

from __future__ import annotations

import re

import pytest

from bot.domain.questionnaire import (
    INTERNAL,
    VERSION_1,
    QuestionKind,
    Questionnaire,
    QuestionnaireError,
    default_questionnaire_text,
    load_questionnaire,
    parse_questionnaire,
)
from bot.rendering import Renderer, describe_file_error

AGREE = ["trifft voll zu", "trifft eher zu", "teils, teils", "trifft eher nicht zu"]
AGREE.append("trifft gar nicht zu")
HEADER = r"^\[\[questions\]\]"
ID_A2 = r"id = .a2."
# The concept's own aims for Z2, one aspect per question.
PARTICIPANT_KEYS = ["gesamt", "ziel", "rahmen", "gehoert", "optionen", "weiter", "zeit"]
PARTICIPANT_KEYS += ["moderation", "wieder"]


def test_default_questions_ask_one_aspect_each_for_the_concepts_aims() -> None:
    questionnaire = load_questionnaire()
    assert questionnaire.questionnaire.version == 2
    assert [q.key for q in questionnaire.questions] == [*PARTICIPANT_KEYS, "open"]
    assert [q.key for q in questionnaire.polls] == PARTICIPANT_KEYS
    texts = {q.key: q.text for q in questionnaire.questions}
    assert texts["ziel"] == "Das Ziel des Zukunftstischs war mir klar."
    assert "mitgestaltet" in texts["rahmen"]
    assert texts["gehoert"] == "Mein Beitrag wurde gehört."
    assert "Entscheidungsoptionen" in texts["optionen"]
    assert "weitergeht" in texts["weiter"]
    assert texts["zeit"].startswith("Die Zeit") and texts["moderation"].startswith("Die Moderation")
    assert "wieder" in texts["wieder"]
    for question in questionnaire.questions:
        # One aspect: no "A und B" in a question (the old "Ziel und Rahmen", "Zeit und
        # Moderation" could not tell which one a "no" meant).
        assert " und " not in question.text, question.text
    for key in PARTICIPANT_KEYS[1:-1]:
        assert [a.text for a in questionnaire.question(key).answers] == AGREE
    open_question = questionnaire.question("open")
    assert open_question.kind is QuestionKind.open
    assert open_question.text == "Was sollten wir beim nächsten Zukunftstisch anders machen?"
    assert not open_question.answers


def _assert_balanced(questionnaire: Questionnaire) -> None:
    for question in questionnaire.polls:
        assert question.kind is QuestionKind.scale
        assert question.answer_ids == tuple(f"a{n}" for n in range(1, len(question.answers) + 1))
        scores = [a.score for a in question.answers]
        # Balanced: five steps, 5 = best ... 1 = worst, the middle in the middle.
        assert scores == [5, 4, 3, 2, 1], question.key


def test_default_scales_are_balanced_and_comparable() -> None:
    _assert_balanced(load_questionnaire())
    _assert_balanced(load_questionnaire(default=INTERNAL))


def test_internal_questionnaire_asks_about_the_process() -> None:
    internal = load_questionnaire(default=INTERNAL)
    assert internal.questionnaire.name == "Interne Prozessevaluation"
    assert [q.key for q in internal.polls] == ["zeitplan", "unterlagen", "beteiligung"]
    assert "Zeitplan" in internal.question("zeitplan").text
    assert "rechtzeitig" in internal.question("unterlagen").text
    assert "Beteiligung" in internal.question("beteiligung").text
    assert internal.question("aendern").kind is QuestionKind.open
    assert "anders machen" in internal.question("aendern").text


def test_version_1_stays_readable_and_maps_where_comparable() -> None:
    old = load_questionnaire(default=VERSION_1)
    assert [q.key for q in old.polls] == ["q1", "q2", "q3", "q4", "q5"]
    assert [a.score for a in old.question("q5").answers] == [5, 4, 2, 1]
    current = load_questionnaire()
    # Same aspect on the same 1-5 range: compared as one question across the versions.
    assert current.comparable_key("q1") == "gesamt"
    assert current.comparable_key("Q3") == "gehoert"
    assert current.comparable_key("q5") == "wieder"
    # Two aspects at once ("Ziel und Rahmen", "Zeit und Moderation"): not comparable.
    assert current.comparable_key("q2") == "q2"
    assert current.comparable_key("q4") == "q4"
    assert current.comparable_key("ziel") == "ziel"


def test_previous_keys_may_not_name_another_question() -> None:
    text = _toml(_question("q1"), _question("q2") + 'previous_keys = ["q1"]\n')
    assert "previous_keys 'q1'" in _error(text)
    fine = _toml(_question("neu") + 'previous_keys = ["alt"]\n')
    assert parse_questionnaire(fine).comparable_key("alt") == "neu"


def test_default_texts_for_the_anonymous_mode() -> None:
    info = load_questionnaire().questionnaire
    assert info.intro.startswith("Vielen Dank")
    # The privacy note must say exactly what anonymity means in Matrix.
    assert "Matrix-Server" in info.privacy_note
    assert "ohne Ihren Namen" in info.privacy_note
    assert "\\" not in info.privacy_note
    assert "\n" not in info.privacy_note


def test_question_lookup_is_case_insensitive() -> None:
    questionnaire = load_questionnaire()
    assert questionnaire.question("ZIEL").key == "ziel"
    assert questionnaire.question("q9") is None
    assert questionnaire.question("gesamt").answer("a2").text == "eher zufrieden"
    assert questionnaire.question("gesamt").answer("a9") is None


def test_json_round_trip_of_the_default() -> None:
    questionnaire = load_questionnaire()
    assert Questionnaire.from_json(questionnaire.to_json()) == questionnaire


def test_default_text_parses() -> None:
    assert parse_questionnaire(default_questionnaire_text()) == load_questionnaire()


def test_load_from_a_file(tmp_path) -> None:
    path = tmp_path / "fragen.toml"
    path.write_text(_toml(_question("x")), "utf-8")
    assert [q.key for q in load_questionnaire(path).questions] == ["x"]


def test_missing_file_is_an_error(tmp_path) -> None:
    with pytest.raises(QuestionnaireError) as info:
        load_questionnaire(tmp_path / "fragen.toml")
    assert describe_file_error(info.value).startswith(f"{tmp_path / 'fragen.toml'}: kann nicht")
    assert ": cannot be read: " in describe_file_error(info.value, Renderer("en"))


def test_choice_question_needs_no_scores() -> None:
    text = _toml(_question("c", kind="choice", answers=['{ id = "x", text = "X" }', _a("y")]))
    question = parse_questionnaire(text).question("c")
    assert question.kind is QuestionKind.choice
    assert question.answers[0].score is None


def test_answers_as_tables_work_too() -> None:
    text = _toml(
        '[[questions]]\nkey = "t"\ntext = "Tabellen?"\nkind = "scale"\n'
        '[[questions.answers]]\nid = "a1"\ntext = "ja"\nscore = 5\n'
        '[[questions.answers]]\nid = "a2"\ntext = "nein"\nscore = 1\n'
    )
    assert parse_questionnaire(text).question("t").answer_ids == ("a1", "a2")


# --- errors -----------------------------------------------------------------------------


def _a(answer_id: str, score: int | None = 3) -> str:
    score_part = f", score = {score}" if score is not None else ""
    return f'{{ id = "{answer_id}", text = "Antwort {answer_id}"{score_part} }}'


def _question(
    key: str,
    *,
    kind: str = "scale",
    answers: list[str] | None = None,
    header: str = "[[questions]]",
) -> str:
    lines = [header, f'key = "{key}"', f'text = "Frage {key}?"', f'kind = "{kind}"']
    if answers is None:
        answers = [_a("a1", 5), _a("a2", 1)]
    if answers:
        lines.append("answers = [")
        lines.extend(f"  {answer}," for answer in answers)
        lines.append("]")
    return "\n".join(lines) + "\n"


def _toml(*questions: str) -> str:
    return '[questionnaire]\nname = "Test"\nversion = 1\n\n' + "\n".join(questions)


def _line(text: str, pattern: str, index: int = 0) -> int:
    """Line (1-based) of the index-th line matching pattern."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if re.search(pattern, line)]
    return found[index]


def _error(text: str) -> str:
    with pytest.raises(QuestionnaireError) as info:
        parse_questionnaire(text, "fragen.toml")
    return describe_file_error(info.value)


def test_bad_toml_is_an_error() -> None:
    message = _error("[[questions]\nkey = ")
    assert "TOML" in message
    assert message.startswith("fragen.toml")


def test_no_questions_is_an_error() -> None:
    assert "questions" in _error('[questionnaire]\nname = "leer"\n')


def test_duplicate_question_key_names_key_and_line() -> None:
    text = _toml(_question("q1"), _question("q2"), _question("Q2"))
    message = _error(text)
    assert "questions[2]" in message
    assert "doppelt" in message
    assert f"Zeile {_line(text, HEADER, 2)}" in message


def test_unknown_kind_names_key_and_line() -> None:
    text = _toml(_question("q1"), _question("q2", kind="skala"))
    message = _error(text)
    assert "questions.1.kind" in message
    assert f"Zeile {_line(text, HEADER, 1)}" in message


def test_unknown_field_names_key_and_line() -> None:
    text = _toml(_question("q1") + 'txet = "Tippfehler"\n')
    message = _error(text)
    assert "questions.0.txet" in message
    assert f"Zeile {_line(text, HEADER, 0)}" in message


def test_one_answer_is_too_few() -> None:
    text = _toml(_question("q1"), _question("q2", answers=[_a("a1")]))
    message = _error(text)
    assert "questions.1" in message
    assert "2 bis 20" in message
    assert f"Zeile {_line(text, HEADER, 1)}" in message


def test_twenty_one_answers_are_too_many() -> None:
    answers = [_a(f"a{n}") for n in range(1, 22)]
    assert "2 bis 20" in _error(_toml(_question("q1", answers=answers)))
    # Twenty are fine.
    parse_questionnaire(_toml(_question("q1", answers=answers[:20])))


def test_duplicate_answer_id_names_the_answer_line() -> None:
    text = _toml(_question("q1"), _question("q2", answers=[_a("a1"), _a("a2"), _a("a2")]))
    message = _error(text)
    assert "questions.1" in message
    assert "answers[2]" in message
    assert "'a2'" in message
    assert f"Zeile {_line(text, ID_A2, 2)}" in message


def test_duplicate_answer_text_is_an_error() -> None:
    answers = ['{ id = "x", text = "Ja", score = 1 }', '{ id = "y", text = "ja", score = 2 }']
    assert "doppelt" in _error(_toml(_question("q1", answers=answers)))


def test_scale_without_score_names_the_answer_line() -> None:
    text = _toml(_question("q1", answers=[_a("a1", 5), _a("a2", None), _a("a3", 1)]))
    message = _error(text)
    assert "answers[1] (a2)" in message
    assert "score" in message
    assert f"Zeile {_line(text, ID_A2)}" in message


def test_bad_answer_field_names_key_path_and_line() -> None:
    text = _toml(_question("q1", answers=[_a("a1"), '{ id = "a2", text = "" }']))
    message = _error(text)
    assert "questions.0.answers.1.text" in message
    assert f"Zeile {_line(text, ID_A2)}" in message


def test_open_question_with_answers_is_an_error() -> None:
    assert "offene Frage" in _error(_toml(_question("open", kind="open")))


def test_unknown_questionnaire_key_names_its_line() -> None:
    text = _toml(_question("q1")).replace("version = 1", "version = 1\nintroo = 'x'")
    message = _error(text)
    assert "questionnaire.introo" in message
    assert f"Zeile {_line(text, '^introo')}" in message


def test_line_is_right_when_a_header_has_a_comment() -> None:
    text = _toml(
        _question("q1", header="[[questions]]  # Zufriedenheit"), _question("q2", kind="x")
    )
    message = _error(text)
    assert "questions.1.kind" in message
    assert re.findall(r"Zeile (\d+)", message) == [str(_line(text, HEADER, 1))]
