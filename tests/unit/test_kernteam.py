"""Who `!zt kernteam` takes: Matrix user ids as typed or linked, pills; never a guess."""

from __future__ import annotations

import pytest

from bot.arguments import NotAUser, people_in


def people(text: str, mentions: tuple[str, ...]) -> list[str]:
    return list(people_in(text, mentions))


def test_ids_links_and_pills() -> None:
    assert people(
        "@anna:stadt.de, https://matrix.to/#/@ben:stadt.de @cem:[::1]:8448 @anna:stadt.de", ()
    ) == ["@anna:stadt.de", "@ben:stadt.de", "@cem:[::1]:8448"]
    # A pill puts the display name in the text and the id in m.mentions.
    assert people("Dora Beispiel", ("@dora:stadt.de",)) == ["@dora:stadt.de"]


@pytest.mark.parametrize("text", ["@anna", "anna:stadt.de", "@an na:stadt.de", "Anna"])
def test_anything_else_is_refused(text: str) -> None:
    with pytest.raises(NotAUser) as refused:
        people(text, ())
    assert refused.value.text == text.split()[0]


def test_a_malformed_id_is_refused_even_beside_a_pill() -> None:
    with pytest.raises(NotAUser):
        people("@anna", ("@dora:stadt.de",))
