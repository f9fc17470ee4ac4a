"""rendering: events stay under the Matrix size limit; echoed text is cut short."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from markupsafe import escape

from bot.rendering import (
    ECHO_LIMIT,
    MAX_CONTENT_BYTES,
    Message,
    Renderer,
    content_size,
    fit_to_limit,
    shorten,
)

CUT = "(gekürzt)"


def test_the_cut_is_said_in_the_bots_language() -> None:
    assert Renderer("de")._cut == CUT
    assert Renderer("en")._cut == "(shortened)"


def test_small_message_is_unchanged() -> None:
    message = Message("Hallo", "<b>Hallo</b>", ("@anna:example.org",))
    assert fit_to_limit(message, CUT) is message


def test_huge_body_of_angle_brackets_is_cut_and_escaped() -> None:
    body = "<" * 200_000
    message = Message(body, str(escape(body)), ("@anna:example.org",))
    fitted = fit_to_limit(message, CUT)
    assert content_size(fitted) <= MAX_CONTENT_BYTES
    assert fitted.body.startswith("<<<")
    assert fitted.body.endswith("(gekürzt)")
    # No raw "<" of the user text reaches formatted_body; only the line break tag.
    assert "<" not in fitted.html.replace("<br>", "")
    assert fitted.html.startswith("&lt;&lt;")
    assert fitted.mentions == ("@anna:example.org",)


def test_huge_html_alone_is_cut() -> None:
    message = Message("kurz", "<p>" + "x" * 100_000 + "</p>")
    fitted = fit_to_limit(message, CUT)
    assert content_size(fitted) <= MAX_CONTENT_BYTES


def test_multibyte_text_is_measured_in_bytes() -> None:
    body = "ü" * 40_000  # 80,000 bytes in UTF-8
    fitted = fit_to_limit(Message(body, body), CUT)
    assert content_size(fitted) <= MAX_CONTENT_BYTES


@given(st.text(max_size=3000), st.text(max_size=3000), st.integers(200, 20_000))
def test_fit_to_limit_property(body: str, html: str, limit: int) -> None:
    message = Message(body, html)
    fitted = fit_to_limit(message, CUT, limit)
    assert content_size(fitted) <= limit
    if content_size(message) <= limit:
        assert fitted == message
    else:
        assert "<" not in fitted.html.replace("<br>", "")


def test_shorten_cuts_to_the_limit() -> None:
    assert shorten("x" * 200) == "x" * (ECHO_LIMIT - 1) + "…"
    assert len(shorten("x" * 200)) == ECHO_LIMIT
    assert shorten("kurz") == "kurz"
    assert shorten("abcdef", 4) == "abc…"
    assert shorten(12345) == "12345"


def test_shorten_strips_control_characters_and_squeezes_space() -> None:
    assert shorten("a\x00b\x07c\x1b[31m d\n\n\te\u202e\u200b") == "abc[31m d e"


@given(st.text(), st.integers(1, 200))
def test_shorten_property(text: str, limit: int) -> None:
    value = shorten(text, limit)
    assert len(value) <= limit
    assert all(ch.isprintable() for ch in value)
    assert value == value.strip()
