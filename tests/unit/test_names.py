"""domain.theme_names: theme names as people type them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.theme_names import (
    clean_name,
    closest,
    first_word,
    fold,
    resolve,
    resolve_leading,
    split_quoted,
    unquote,
)

THEMES = ["Mobilität", "Digitale Ethik", "Digitale Agenda", "Regenwasserbewirtschaftung"]


def test_fold_umlauts_and_case() -> None:
    assert fold("Mobilität") == fold("mobilitaet") == fold("MOBILITAT") == fold("MOBILITÄT")
    assert fold("Größe") == fold("groesse") == fold("GROSSE")
    assert fold("Grünfläche") == fold("gruenflaeche")


def test_fold_normalizes_whitespace_and_unicode_form() -> None:
    assert fold("  Digitale \t Ethik ") == fold("digitale ethik") == "digitale ethik"
    assert fold("Mobilita\u0308t") == fold("Mobilität")  # decomposed ä


def test_resolve_exact_and_prefix() -> None:
    assert resolve("Mobilität", THEMES).name == "Mobilität"
    assert resolve("mobil", THEMES).name == "Mobilität"
    assert resolve("MOBILITAET", THEMES).name == "Mobilität"
    assert resolve("regen", THEMES).name == "Regenwasserbewirtschaftung"
    assert resolve("digitale e", THEMES).name == "Digitale Ethik"


def test_resolve_quoted_names() -> None:
    for text in ['"Digitale Ethik"', "„Digitale Ethik“", "“Digitale Ethik”", " „digitale ethik“ "]:
        match = resolve(text, THEMES)
        assert match.name == "Digitale Ethik", text


def test_resolve_ambiguous_prefix() -> None:
    match = resolve("digitale", THEMES)
    assert match.name is None
    assert set(match.ambiguous) == {"Digitale Ethik", "Digitale Agenda"}
    assert match.closest == ()


def test_resolve_unknown_lists_closest() -> None:
    match = resolve("Mobiltät", THEMES)
    assert match.name is None
    assert match.ambiguous == ()
    assert match.closest[0] == "Mobilität"


def test_resolve_nothing_close() -> None:
    match = resolve("xyz", THEMES)
    assert (match.name, match.ambiguous, match.closest) == (None, (), ())


def test_resolve_empty_text() -> None:
    assert resolve("", THEMES).name is None
    assert resolve('""', THEMES).name is None


def test_exact_match_beats_prefix() -> None:
    names = ["Wasserstoff", "Wasser"]
    assert resolve("wasser", names).name == "Wasser"
    assert resolve_leading("wasser 3", names).name == "Wasser"


def test_resolve_leading_multi_word_longest_first() -> None:
    match = resolve_leading("digitale ethik 3 Notiz", ["Digitale Ethik", "Digitale Agenda"])
    assert (match.name, match.rest) == ("Digitale Ethik", "3 Notiz")
    match = resolve_leading("Digitale Ethik 3", ["Digitale", "Digitale Ethik"])
    assert (match.name, match.rest) == ("Digitale Ethik", "3")


def test_resolve_leading_quoted() -> None:
    for text in [
        '"Digitale Ethik" 3 Notiz',
        "„Digitale Ethik“ 3 Notiz",
        "“digitale ethik” 3 Notiz",
    ]:
        match = resolve_leading(text, THEMES)
        assert (match.name, match.rest) == ("Digitale Ethik", "3 Notiz"), text


def test_resolve_leading_quoted_prefix() -> None:
    match = resolve_leading("„mobil“ 15.04.2027", THEMES)
    assert (match.name, match.rest) == ("Mobilität", "15.04.2027")


def test_resolve_leading_prefix() -> None:
    match = resolve_leading("regen 3 erledigt", THEMES)
    assert (match.name, match.rest) == ("Regenwasserbewirtschaftung", "3 erledigt")


def test_resolve_leading_ambiguous() -> None:
    match = resolve_leading("digitale 3", THEMES)
    assert match.name is None
    assert set(match.ambiguous) == {"Digitale Ethik", "Digitale Agenda"}
    assert match.rest == "3"


def test_resolve_leading_unknown() -> None:
    match = resolve_leading("Mobiltät 3", THEMES)
    assert match.name is None
    assert "Mobilität" in match.closest


def test_split_quoted_and_unquote() -> None:
    assert split_quoted("„Digitale Ethik“ 3") == ("Digitale Ethik", "3")
    assert split_quoted("Digitale Ethik") is None
    assert split_quoted('"offen') is None
    assert unquote('"Digitale Ethik"') == "Digitale Ethik"
    assert unquote('"offen') == '"offen'
    assert unquote('"a" b') == '"a" b'


def test_clean_name_and_first_word() -> None:
    assert clean_name(" Digitale\x00 \u202eEthik\n ") == "Digitale Ethik"
    assert first_word("  neu Mobilität KW 15/2027") == ("neu", "Mobilität KW 15/2027")
    assert first_word("   ") == ("", "")


def test_closest_limit() -> None:
    names = ["Mobilität", "Mobilitat2", "Mobil", "Mobile Welt"]
    assert len(closest("Mobilitt", names, limit=2)) == 2


# --- properties -------------------------------------------------------------------------

WORD_LETTERS = "abcdefghijklmnopqrstuvwxyzäöüßABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ"
words = st.text(alphabet=WORD_LETTERS, min_size=1, max_size=12)
theme_names = st.lists(words, min_size=1, max_size=4).map(" ".join)
theme_lists = st.lists(theme_names, min_size=1, max_size=8, unique_by=fold)


@given(theme_lists, st.data())
def test_every_name_resolves_to_itself(names: list[str], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(names))
    assert resolve(name, names).name == name
    assert resolve(name.swapcase(), names).name == name
    assert resolve(f"„{name}“", names).name == name
    assert resolve(f'  "{name}" ', names).name == name


@given(theme_lists, st.data())
def test_a_unique_prefix_resolves(names: list[str], data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(names))
    size = data.draw(st.integers(1, len(name)))
    prefix = name[:size]
    # Only a prefix that no other name shares is unique.
    others = [n for n in names if n != name and fold(n).startswith(fold(prefix))]
    exact = [n for n in names if fold(n) == fold(prefix)]
    match = resolve(prefix, names)
    if exact:
        assert match.name == exact[0]
    elif not others:
        assert match.name == name
    else:
        assert match.name is None
        assert name in match.ambiguous


@given(theme_lists, st.data(), st.sampled_from(["3 Notiz", "3a", "15.04.2027", ""]))
def test_resolve_leading_splits_name_and_rest(
    names: list[str], data: st.DataObject, rest: str
) -> None:
    name = data.draw(st.sampled_from(names))
    match = resolve_leading(f"{name} {rest}", names)
    assert (match.name, match.rest) == (name, rest)
    quoted = resolve_leading(f"„{name}“ {rest}", names)
    assert (quoted.name, quoted.rest) == (name, rest)


@given(st.text(), st.lists(st.text(max_size=30), max_size=6))
def test_arbitrary_text_never_raises(text: str, names: list[str]) -> None:
    for match in (resolve(text, names), resolve_leading(text, names)):
        assert match.name is None or match.name in names
        assert set(match.ambiguous) <= set(names)
        assert set(match.closest) <= set(names)
    fold(text)
    clean_name(text)
    unquote(text)


@given(st.text())
def test_fold_ignores_case_and_surrounding_space(text: str) -> None:
    assert fold(f"  {text}\t") == fold(text)
    assert fold(text) == fold(text.casefold())
