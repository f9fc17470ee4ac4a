"""Every sentence is written once in meaning: where a template keeps a plain `text` block
and an `html` block, both carry the same words (and the same values), so a change to one
cannot leave the other behind. Checked on the template sources: the literal words and the
`{{ … }}` expressions of each block, HTML tags and entities aside, in order."""

from __future__ import annotations

import html
import re
from collections import Counter
from pathlib import Path

import pytest
from jinja2 import Environment, nodes

from bot.rendering import templates_dir

TEMPLATES = sorted(templates_dir().glob("*/*.j2"))
_TAG = re.compile(r"<[^>]*>")
_WORD = re.compile(r"\x00[^\x00]*\x00|\w+", re.UNICODE)
# Where the plain text spells out what the HTML makes a link (an address): no words.
ADDRESSES = frozenset({"room_link", "link"})


def _source(node: nodes.Node) -> str:
    """The block as text: literal parts as written, each `{{ … }}` as a marker."""
    found = []
    for child in node.iter_child_nodes():
        if isinstance(child, nodes.TemplateData):
            found.append(child.data)
        elif isinstance(child, nodes.Expr) and isinstance(node, nodes.Output):
            found.append(f"\x00{_expression(child)}\x00 {' '.join(_constants(child))}")
        else:
            found.append(_source(child))
    return " ".join(found)


def _formatted(expr: nodes.Node) -> nodes.Node:
    """What a filter formats (`e.name|pad(width)` is `e.name`: the width is layout)."""
    while isinstance(expr, nodes.Filter) and expr.node is not None:
        expr = expr.node
    return expr


def _expression(expr: nodes.Expr) -> str:
    """An output expression by the names it uses (filters only format)."""
    expr = _formatted(expr)
    every = [expr, *expr.find_all(nodes.Node)]  # find_all leaves out the node itself
    names = [n.name for n in every if isinstance(n, nodes.Name)]
    attributes = [n.attr for n in every if isinstance(n, nodes.Getattr)]
    if ADDRESSES & set(names + attributes) or names == ["loop"]:
        return ""  # an address spelled out, a list's numbering: the HTML has them as markup
    return ".".join(sorted(set(names + attributes)))


def _constants(expr: nodes.Expr) -> list[str]:
    """The words written inside an expression (`"Tag" if n == 1 else "Tage"`)."""
    expr = _formatted(expr)
    every = [expr, *expr.find_all(nodes.Const)]
    return [c.value for c in every if isinstance(c, nodes.Const) and isinstance(c.value, str)]


_HEADER = re.compile(r"<thead>.*?</thead>", re.S)
_MARKER = re.compile(r"\x00[^\x00]*\x00")


def _header_values(found: re.Match[str]) -> str:
    """A table header: its values count (the columns' names), its words do not."""
    return " ".join(_MARKER.findall(found.group()))


def words(text: str, *, markup: bool) -> list[str]:
    """The words and values of a block; in HTML, tags (and the values inside them, such as
    a link's address) are no words, nor a table's header row (the plain twin of a table
    names its columns in its lines)."""
    if markup:
        text = html.unescape(_TAG.sub(" ", _HEADER.sub(_header_values, text)))
    return [
        w if w.startswith("\x00") else w.casefold() for w in _WORD.findall(text) if w != "\x00\x00"
    ]


def blocks(path: Path) -> dict[str, list[str]]:
    tree = Environment().parse(path.read_text("utf-8"))
    return {
        block.name: words(_source(block), markup=block.name == "html")
        for block in tree.find_all(nodes.Block)
    }


def header_words(path: Path) -> set[str]:
    """The words of the HTML tables' header rows (the text may name them in its lines)."""
    tree = Environment().parse(path.read_text("utf-8"))
    found: set[str] = set()
    for block in tree.find_all(nodes.Block):
        if block.name == "html":
            for header in _HEADER.findall(_source(block)):
                plain = html.unescape(_TAG.sub(" ", _MARKER.sub(" ", header)))
                found |= set(words(plain, markup=False))
    return found


PAIRED = [path for path in TEMPLATES if {"text", "html"} <= set(blocks(path))]
# A table in HTML, one line per row in the text: the same words, in another order.
TABLES = frozenset({"status.j2", "annual_plan.j2", "evaluation_overview.j2"})


@pytest.mark.parametrize("path", PAIRED, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_the_text_and_the_html_block_say_the_same(path: Path) -> None:
    found = blocks(path)
    if path.name in TABLES:
        named = header_words(path)
        text = Counter(word for word in found["text"] if word not in named)
        assert Counter(word for word in found["html"] if word not in named) == text
    else:
        assert found["html"] == found["text"]


def test_a_word_or_a_value_in_one_block_only_is_found(tmp_path: Path) -> None:
    path = tmp_path / "example.j2"
    same = (
        "{% block text %}Heute fällig: {{ theme.name|kurz }} ({{ link }}){% endblock %}"
        '{% block html %}<b>Heute fällig</b>: <a href="{{ link }}">{{ theme.name }}</a>'
        "{% endblock %}"
    )
    path.write_text(same, "utf-8")
    found = blocks(path)
    assert found["text"] == found["html"]  # markup, a filter and an address aside
    for changed in (
        same.replace("</b>", " jetzt</b>"),
        same.replace("theme.name }}</a>", "x }}</a>"),
    ):
        path.write_text(changed, "utf-8")
        found = blocks(path)
        assert found["text"] != found["html"], changed
