"""`[bot] language = "en"`: every German template has an English twin, and the bot speaks English.

The renderer falls back to German per template file, and renders a block by its name: a
block missing in an English file would crash that message, a missing file would quietly
answer in German. So the English set must mirror the German one block for block, and
`_words.j2` macro for macro (`w` is loaded from the first `_words.j2` found).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from jinja2 import Environment, nodes

from bot.charts import Charts
from bot.command import Services
from bot.config import parse_config
from bot.domain.annual_plan import SchoolHolidays
from bot.domain.process import default_template_text, parse_template
from bot.domain.working_days import WorkingCalendar
from bot.rendering import Renderer, templates_dir
from bot.router import Outcome, Router
from bot.store.evaluations import EvaluationStore
from bot.store.feeds import FeedTokens
from bot.store.themes import Store
from commands import COMMANDS, PLAIN

GERMAN = templates_dir() / "de"
ENGLISH = templates_dir() / "en"
NAMES = sorted(path.name for path in GERMAN.glob("*.j2"))

NOW = datetime(2027, 1, 11, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
COORDINATOR = "@k:localhost"

# Words of the German templates that must not leak into an English answer.
GERMAN_WORDS = (
    "Befehle",
    "Thema",
    "gibt es nicht",
    "kenne ich nicht",
    "angelegt",
    "Schritt",
    "Tagen",
    "Federführung",
    "Erinnerung",
    "Hinweis",
    "Uhr",
)


def _parts(path: Path) -> tuple[set[str], dict[str, tuple[tuple[str, ...], int]]]:
    """Block names, and top-level macros with their parameters (names, number of defaults)."""
    tree = Environment().parse(path.read_text("utf-8"))
    blocks = {block.name for block in tree.find_all(nodes.Block)}
    macros = {
        node.name: (tuple(arg.name for arg in node.args), len(node.defaults))
        for node in tree.body
        if isinstance(node, nodes.Macro)
    }
    return blocks, macros


def test_the_same_template_files_exist_in_both_languages() -> None:
    assert NAMES, "no German templates found"
    assert sorted(path.name for path in ENGLISH.glob("*.j2")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_english_template_has_the_same_blocks_and_macros(name: str) -> None:
    assert (ENGLISH / name).is_file(), f"templates/en/{name} is missing"
    german_blocks, german_macros = _parts(GERMAN / name)
    english_blocks, english_macros = _parts(ENGLISH / name)
    assert english_blocks == german_blocks
    assert set(english_macros) == set(german_macros)
    assert english_macros == german_macros  # same parameters too


def test_leads_have_english_names() -> None:
    assert Renderer("en").lead_names() == {
        "fachbereich": "Department",
        "koordination": "Coordination",
        "buergerdialog": "Citizen dialogue",
    }


class Everyone:
    def is_coordinator(self, user_id: str) -> bool:
        return user_id == COORDINATOR

    def is_member(self, room_id: str, user_id: str) -> bool:
        return False


@pytest.fixture
def router(tmp_path: Path) -> Router:
    config = parse_config(
        '[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@bot:localhost"\n'
        'password = "x"\n[bot]\ndata_dir = "data"\nlanguage = "en"\n',
        tmp_path,
        environ={},
    )
    assert config.bot.language == "en"
    store = Store(config.database_url)
    store.upgrade()
    services = Services(
        config=config,
        store=store,
        template=parse_template(default_template_text()),
        renderer=Renderer(config.bot.language),
        rights=Everyone(),
        calendar=WorkingCalendar(),
        school_holidays=SchoolHolidays(),
        evaluations=EvaluationStore(store),
        feeds=FeedTokens(store),
        charts=Charts(),
    )
    return Router(services, COMMANDS, PLAIN)


def ask(router: Router, text: str, result: str = "ok") -> Outcome:
    outcome = router.handle(text, sender=COORDINATOR, room_id="!r:localhost", now=NOW)
    assert outcome is not None
    assert outcome.result == result, outcome.reply.body
    return outcome


def assert_english(text: str) -> None:
    leaked = [word for word in GERMAN_WORDS if word in text]
    assert not leaked, f"German in the English answer: {leaked}\n{text}"


def test_help_is_english(router: Router) -> None:
    reply = ask(router, "!zt help").reply
    assert "Commands (they all start with !zt)" in reply.body
    assert "Examples: !zt status Mobility · !zt new Digital ethics KW 15/2027" in reply.body
    assert "!zt help <command>" in reply.body
    assert "[Coordination]" in reply.body
    assert "<b>Zukunftstische-Bot</b>" in reply.html and "Commands" in reply.html
    # The usage lines ("• !zt neu <Thema> <Z2> (new)") come from the command modules.
    assert_english("\n".join(line for line in reply.body.splitlines() if not line.startswith("•")))


def test_new_and_status_are_english(router: Router) -> None:
    created = ask(router, "!zt new Mobility KW 15/2027").reply.body
    assert "Theme “Mobility” created: Z2 KW 15/2027 (12.04.2027)." in created
    assert "8 steps from KW 5/2027 to KW 20/2027" in created
    assert_english(created)

    status = ask(router, "!zt status mobility").reply
    assert "Future table “Mobility”: Z2 KW 15/2027 (12.04.2027)" in status.body
    assert "open (in 21 days)" in status.body
    assert "Department, Coordination" in status.body
    assert "public holiday (Ostermontag)" in status.body
    assert "<th>Step</th><th>Lead</th>" in status.html
    assert_english(status.body)
    assert_english(status.html)


def test_an_impossible_date_is_refused_in_english(router: Router) -> None:
    body = ask(router, "!zt new X 31.02.2027", "refused").reply.body
    assert body == "The date 31.02.2027 does not exist. Please give a real date, e.g. 15.04.2027."
    assert_english(body)


def test_an_unknown_verb_is_refused_in_english(router: Router) -> None:
    body = ask(router, "!zt frobnicate", "refused").reply.body
    assert body == "I don't know the command “frobnicate”. “!zt help” shows all commands."
    assert_english(body)


def test_annual_plan_is_english(router: Router) -> None:
    empty = ask(router, "!zt plan 2027").reply.body
    assert "Annual plan 2027: no theme is planned for 2027 yet." in empty
    assert "!zt new <theme> <Z2>" in empty
    assert_english(empty)

    ask(router, "!zt new Mobility KW 15/2027")
    ask(router, "!zt new Rainwater Q4/2027")
    plan = ask(router, "!zt plan 2027").reply
    assert "Annual plan 2027: 2 themes, of which 1 is an idea" in plan.body
    assert "Q1 · January to March" in plan.body and "– nothing planned yet" in plan.body
    assert "no Z2 date yet" in plan.body and "💡 Idea" in plan.body
    assert "on Mon 29.03.2027 (KW 13): public holiday (Ostermontag)" in plan.body
    assert "another year: !zt plan 2028" in plan.body
    assert_english(plan.body)
    assert_english(plan.html)


def test_reminders_are_english(router: Router) -> None:
    none = ask(router, "!zt reminders").reply.body
    assert none == "No reminder is planned for the next 4 weeks."
    ask(router, "!zt new Mobility KW 15/2027")
    body = ask(router, "!zt reminders").reply.body
    assert "Next reminders (each at 09:00, only if the step is still open by then):" in body
    assert "• 01.02.2027: start, Mobility step 1 →" in body
    assert_english(body)


def test_changes_and_refusals_along_the_way_are_english(router: Router) -> None:
    ask(router, "!zt new Mobility KW 15/2027")
    done = ask(router, "!zt done Mobility 1 kick-off held").reply.body
    assert "✅ Step 1 “Vorbereitung” of Mobility is done. Note: kick-off held" in done
    again = ask(router, "!zt done Mobility 1", "refused").reply.body
    assert again == (
        "Step 1 of “Mobility” is already done. “!zt reopen Mobility 1” opens it again."
    )
    unknown = ask(router, "!zt status Climate", "refused").reply.body
    assert unknown.startswith("I don't know the theme “Climate”.")
    history = ask(router, "!zt history mobility").reply.body
    assert "History of “Mobility” (newest first):" in history
    assert "step 1 done: kick-off held" in history and "created with Z2 on 12.04.2027" in history
    for text in (done, again, unknown, history):
        assert_english(text)


def test_issue_12_answers_are_english(router: Router) -> None:
    # Created on 11.01.2027 with Z2 on 03.02.2027: steps 1 and 2 lie in the past.
    created = ask(router, "!zt new Water 03.02.2027").reply.body
    assert "2 steps lie in the past already" in created
    assert "!zt done Water 1 2" in created
    done = ask(router, "!zt done Water 1 2").reply.body
    assert "✅ Done in Water: step 1 “Vorbereitung”, step 2 “Z1 Expertisen-Tisch”." in done
    early = ask(router, "!zt done Water 7", "refused").reply.body
    assert "it can be done only once step 6 “Ratsentscheidung” is done" in early
    moved = ask(router, "!zt due Water participation 04.01.2027 18.01.2027").reply.body
    assert "Digital participation for Water is now fixed: 04.01.2027 to 18.01.2027" in moved
    backwards = ask(router, "!zt due Water participation 18.01.2027 04.01.2027", "refused")
    assert "The participation must end after it starts" in backwards.reply.body
    status = ask(router, "!zt status water").reply
    assert "04.01.2027–18.01.2027  running · fixed (stays when Z2 moves)" in status.body
    # The usage line it quotes is English too (labels from templates/en/arguments.j2).
    assert "!zt due <theme> participation <start> [end]" in backwards.reply.body
    assert_english(backwards.reply.body)
    for text in (created, done, early, moved, status.body, status.html):
        assert_english(text)
