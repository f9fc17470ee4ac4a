"""Documents on steps (issue 21 point 3): which links are kept (pure), and `!zt dokument`
and `erledigt` with a link over the router, on a real store."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from bot.domain.documents import (
    DocumentError,
    StepDocument,
    check_link,
    check_title,
    documents_before,
    links_in,
)
from bot.domain.ics import CalendarLabels
from bot.rendering import Renderer
from bot.router import Router

LABELS = CalendarLabels.from_words(Renderer().words("calendar_words"))

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
COORDINATOR = "@koordination:stadt.example"
TEAM_ROOM = "!team:stadt.example"


@pytest.mark.parametrize(
    "link",
    [
        "https://cloud.stadt.de/s/thesen",
        "http://intranet.stadt.local/protokoll.pdf",
        "HTTPS://cloud.stadt.de/s/x?y=1#z",
        "matrix:r/zukunftstische:stadt.de",
        "mxc://stadt.de/AbCdEf123",
    ],
)
def test_web_and_matrix_links_are_kept(link: str) -> None:
    kept = check_link(link)
    assert kept.lower() == link.lower()
    assert kept.split(":")[0] == kept.split(":")[0].lower()


@pytest.mark.parametrize(
    ("link", "code"),
    [
        ("javascript:alert(1)", "link_scheme"),
        ("file:///etc/passwd", "link_scheme"),
        ("data:text/html,<b>x</b>", "link_scheme"),
        ("ftp://server/x", "link_scheme"),
        ("https://", "link_invalid"),
        ('https://x.de/"onmouseover="alert(1)', "link_invalid"),
        ("https://x.de/<script>", "link_invalid"),
        ("mxc://stadt.de/", "link_invalid"),
        ("matrix:", "link_invalid"),
        ("Thesenpapier", "link_invalid"),
        ("https://x.de/" + "a" * 1000, "link_too_long"),
    ],
)
def test_other_links_are_refused_with_a_reason(link: str, code: str) -> None:
    with pytest.raises(DocumentError) as raised:
        check_link(link)
    assert raised.value.code == code


def test_titles_are_plain_text_and_limited() -> None:
    assert check_title("  Foto   protokoll ") == "Foto protokoll"
    assert check_title("") is None
    with pytest.raises(DocumentError):
        check_title("x" * 201)


def test_a_note_keeps_its_allowed_links_without_the_sentence_around_them() -> None:
    note = (
        "Fotoprotokoll: https://cloud.stadt.de/s/foto, Entwurf (https://x.de/e.pdf). "
        "javascript:alert(1) und nochmal https://cloud.stadt.de/s/foto"
    )
    assert links_in(note) == ["https://cloud.stadt.de/s/foto", "https://x.de/e.pdf"]
    assert links_in(None) == []
    assert links_in("nur Text") == []


def _doc(key: str, url: str) -> StepDocument:
    return StepDocument(1, key, url, None, "@a:b", NOW)


def test_a_step_links_the_documents_of_the_nearest_step_before_it_that_has_any() -> None:
    keys = ["1", "2", "3", "3a", "4", "5", "6", "7"]
    foto, draft, thesen = _doc("4", "https://f"), _doc("5", "https://d"), _doc("3", "https://t")
    documents = {"3": (thesen,), "4": (foto,), "5": (draft,)}
    assert documents_before(keys, documents, "5") == ("4", (foto,))
    assert documents_before(keys, documents, "6") == ("5", (draft,))
    # 3a (optional, no documents) is passed over: Z2 links the Thesenpapier.
    assert documents_before(keys, documents, "4") == ("3", (thesen,))
    assert documents_before(keys, documents, "1") == (None, ())
    assert documents_before(keys, documents, "x") == (None, ())


class _Coordinators:
    def is_coordinator(self, user_id: str) -> bool:
        return user_id == COORDINATOR

    def is_member(self, room_id: str, user_id: str) -> bool:
        return room_id == TEAM_ROOM


@pytest.fixture
def router(make_bot) -> Router:
    bot = make_bot()
    router = bot.router.with_services(
        dataclasses.replace(bot.router.services, rights=_Coordinators())
    )
    say(router, "!zt neu Mobilität 15.04.2027")
    return router


def say(router: Router, text: str, *, ok: bool = True) -> str:
    outcome = router.handle(text, sender=COORDINATOR, room_id=TEAM_ROOM, now=NOW)
    assert outcome is not None
    assert (outcome.result == "ok") == ok, outcome
    return outcome.reply.body


def test_a_document_goes_on_a_step_and_status_lists_it(router: Router) -> None:
    answer = say(router, "!zt dokument Mobilität Z2 https://cloud.stadt.de/s/foto Fotoprotokoll")
    assert "Fotoprotokoll – https://cloud.stadt.de/s/foto" in answer
    assert "Die Erinnerungen an Schritt 5" in answer
    status = say(router, "!zt status Mobilität")
    assert "Fotoprotokoll" in status and "https://cloud.stadt.de/s/foto" in status
    listed = say(router, "!zt dokument Mobilität")
    assert "1. Fotoprotokoll – https://cloud.stadt.de/s/foto" in listed
    removed = say(router, "!zt dokument Mobilität 4 entfernen 1")
    assert "keine Dokumente mehr" in removed
    assert "Fotoprotokoll" not in say(router, "!zt status Mobilität")


def test_html_in_a_title_is_escaped_and_bad_links_are_refused(router: Router) -> None:
    outcome = router.handle(
        "!zt dokument Mobilität 3 https://x.de/t <img src=x onerror=alert(1)>",
        sender=COORDINATOR,
        room_id=TEAM_ROOM,
        now=NOW,
    )
    assert outcome is not None and outcome.result == "ok"
    assert "<img" not in outcome.reply.html and "&lt;img" in outcome.reply.html
    refused = say(router, "!zt dokument Mobilität 3 javascript:alert(1)", ok=False)
    assert "nur Links mit https://" in refused
    assert "Welcher Link?" in say(router, "!zt dokument Mobilität 3", ok=False)
    assert "kein Dokument" in say(router, "!zt dokument Mobilität 3 entfernen 7", ok=False)


def test_a_link_in_an_erledigt_note_is_kept_as_the_steps_document(router: Router) -> None:
    say(router, "!zt erledigt Mobilität 3 Thesenpapier verschickt: https://x.de/thesen.pdf.")
    listed = say(router, "!zt dokument Mobilität")
    assert "Schritt 3" in listed and "https://x.de/thesen.pdf" in listed


def test_the_year_report_and_the_calendar_list_a_steps_documents(router: Router) -> None:
    from icalendar import Calendar

    from bot.domain.ics import theme_calendar
    from bot.store.reports import load_year_report

    say(router, "!zt dokument Mobilität Z2 https://cloud.stadt.de/s/foto Foto<b>protokoll</b>")
    services = router.services
    report = load_year_report(services.store, services.config, 2027, NOW.date())
    html = services.renderer.document("year_report", "document", html=True, report=report)
    assert '<a href="https://cloud.stadt.de/s/foto">https://cloud.stadt.de/s/foto</a>' in html
    assert "Foto&lt;b&gt;protokoll&lt;/b&gt;" in html and "Foto<b>" not in html
    markdown = services.renderer.document("year_report", "markdown", html=False, report=report)
    assert "<https://cloud.stadt.de/s/foto>" in markdown
    view = services.store.theme("Mobilität")
    assert view is not None
    calendar = Calendar.from_ical(theme_calendar(view, lead_names={}, labels=LABELS, now=NOW))
    [z2] = [e for e in calendar.walk("VEVENT") if str(e["uid"]).endswith("-4@zukunftstische")]
    assert "Dokumente:\n- Foto<b>protokoll</b>: https://cloud.stadt.de/s/foto" in str(
        z2["description"]
    )
