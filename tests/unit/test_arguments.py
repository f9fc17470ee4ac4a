"""Declared command arguments: the router reads them, refuses a call that misses one with
the usage line built from the same declaration, and `hilfe`/`help` shows that line in the
bot's language (argument labels from templates/<lang>/arguments.j2)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.arguments import Kind
from bot.command import Command, Placement
from bot.domain.theme_names import fold
from bot.rendering import Renderer
from bot.router import Router
from commands import COMMANDS
from commands.termin import WINDOW_FORM
from tests.conftest import COORDINATOR

ROOM = "!team:stadt.example"


def every_form() -> Iterator[Command]:
    def walk(form: Command) -> Iterator[Command]:
        yield form
        for other in (*form.subcommands, *form.tails, *((form.bare,) if form.bare else ())):
            yield from walk(other)

    for command in (*COMMANDS, WINDOW_FORM):
        yield from walk(command)


FORMS = list(every_form())
LABELS = {language: Renderer(language).argument_labels for language in ("de", "en")}


def ask(router: Router, text: str, now, result: str = "ok") -> str:
    outcome = router.handle(text, sender=COORDINATOR, room_id=ROOM, now=now)
    assert outcome is not None
    assert outcome.result == result, outcome.reply.body
    return outcome.reply.body


@pytest.mark.parametrize("language", ["de", "en"])
def test_every_label_and_form_is_named_in_both_languages(language: str) -> None:
    labels = LABELS[language]
    for form in FORMS:
        assert form.label in labels, form.name
        for argument in form.arguments:
            assert argument.label in labels, (form.name, argument.label)


@pytest.mark.parametrize("language", ["de", "en"])
def test_a_usage_line_can_be_typed_as_shown(language: str) -> None:
    """The verbs and the words a usage line shows are words the router takes."""
    labels = LABELS[language]
    for form in FORMS:
        shown = labels[form.label]
        # A bare form is its parent's words alone.
        words = (
            form.parent.words if form.parent and form.placement is Placement.bare else form.words
        )
        assert fold(shown) in {fold(word) for word in words}, (form.name, shown)
        for argument in form.arguments:
            if argument.kind is Kind.word:
                for option in labels[argument.label].split("|"):
                    assert fold(option) in argument.choices, (form.name, option)


def test_usage_lines_in_german_and_english() -> None:
    erledigt = next(c for c in COMMANDS if c.name == "erledigt")
    assert erledigt.usage(LABELS["de"]) == (
        "erledigt <Thema> <Schritt> [<Schritt> …] [Notiz] [trotzdem]"
    )
    assert erledigt.usage(LABELS["en"]) == "done <theme> <step> [<step> …] [note] [anyway]"
    kalender = next(c for c in COMMANDS if c.name == "kalender")
    renew = next(t for t in kalender.tails if t.name == "abo neu")
    assert renew.usage(LABELS["de"]) == "kalender <Thema> abo neu"
    assert renew.usage(LABELS["en"]) == "calendar <theme> subscribe new"
    kvp = next(c for c in COMMANDS if c.name == "kvp")
    adopted = next(s for s in kvp.subcommands if s.name == "übernommen")
    assert adopted.usage(LABELS["en"]) == "idea adopted <no.> [@person, by date]"
    assert WINDOW_FORM.usage(LABELS["de"]) == "termin <Thema> beteiligung <Start> [Ende]"


def test_english_help_is_english_throughout(make_bot, now) -> None:
    router = make_bot(bot='language = "en"').router
    overview = ask(router, "!zt help", now)
    assert "!zt done <theme> <step> [<step> …] [note] [anyway]" in overview
    assert "!zt poll <theme> [internal] [anonymous|room] [anyway]" in overview
    for german in ("<Thema>", "<Schritt>", "[Notiz]", "trotzdem", "<Datum>"):
        assert german not in overview, german
    one = ask(router, "!zt help kvp", now)
    assert (
        "!zt idea adopted <no.> [@person, by date]" in one
        and "!zt idea rejected <no.> [reason]" in one
    )


def test_a_missing_argument_is_refused_with_the_declared_usage(make_bot, now) -> None:
    router = make_bot().router
    ask(router, "!zt neu Mobilität 15.04.2027", now)
    refused = ask(router, "!zt erledigt Mobilität", now, "refused")
    assert "!zt erledigt <Thema> <Schritt> [<Schritt> …] [Notiz] [trotzdem]" in refused
    english = make_bot(bot='language = "en"').router
    ask(english, "!zt new Mobility 15.04.2027", now)
    refused = ask(english, "!zt done Mobility", now, "refused")
    assert "!zt done <theme> <step> [<step> …] [note] [anyway]" in refused
    refused = ask(english, "!zt move", now, "refused")
    assert "!zt move <theme> <Z2>" in refused


def test_the_router_reads_steps_note_and_confirmation(make_bot, now) -> None:
    router = make_bot().router
    ask(router, "!zt neu Mobilität 15.04.2027", now)
    # Steps by key, then the note; the confirming word at the end is not part of the note.
    done = ask(router, "!zt erledigt Mobilität 1 2 Einladung verschickt trotzdem", now)
    assert "Schritt 1" in done and "Schritt 2" in done
    history = ask(router, "!zt verlauf Mobilität", now)
    assert "Einladung verschickt" in history and "trotzdem" not in history


def test_words_after_the_theme_in_any_order(make_bot, now) -> None:
    router = make_bot().router
    # Both words read (raum, intern) in either order; neither is taken for the theme.
    for name, words in (("Mobilität", "raum intern"), ("Radverkehr", "intern raum")):
        ask(router, f"!zt neu {name} 15.04.2027", now)
        started = ask(router, f"!zt umfrage {name} {words}", now)
        assert f"Die interne Evaluation von „{name}“" in started
        assert "alle sehen, wer abgestimmt hat" in started


def test_a_word_that_is_no_user_id_is_refused(make_bot, now) -> None:
    router = make_bot().router
    ask(router, "!zt neu Mobilität 15.04.2027", now)
    refused = ask(router, "!zt kernteam Mobilität anna", now, "refused")
    assert "anna" in refused
    removed = ask(router, "!zt kernteam Mobilität entfernen @anna:stadt.example", now)
    assert removed.startswith("Niemand davon war im Kernteam von „Mobilität“")


def test_nothing_is_dropped_where_nothing_more_is_taken(make_bot, now) -> None:
    router = make_bot().router
    refused = ask(router, "!zt themen irgendwas", now, "refused")
    assert "irgendwas" in refused and "!zt themen [alle]" in refused
