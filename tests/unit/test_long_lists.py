"""Lists with many themes (issue 15): the answer shows the first ones and counts the
rest, the whole list comes as a CSV file on request, and the file reads back."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.app import Bot
from bot.domain.plan_file import read_plan
from bot.domain.process import load_template
from bot.domain.timeline import plan
from bot.rendering import MAX_CONTENT_BYTES, content_size
from bot.router import Outcome, Router
from bot.store.theme_records import NewTheme
from commands import jahresplan, status, themen
from tests.conftest import COORDINATOR

NOW = datetime(2027, 3, 18, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
ROOM = "!koordination:stadt.example"
THEMES = 130  # more than every list shows
IDEAS = 70


@pytest.fixture
def router(bot: Bot) -> Router:
    template = load_template()
    creates = []
    for n in range(THEMES):  # every other day of 2028
        z2 = date(2028, 1, 3) + timedelta(days=2 * n)
        creates.append(NewTheme(f"Thema {n:03d}", z2, None, None, template, plan(template, z2)))
    creates += [NewTheme(f"Idee {n:03d}", None, "Q3/2028", None, template) for n in range(IDEAS)]
    bot.store.apply_plan(creates, [], actor=COORDINATOR, now=NOW)
    return bot.router


def say(router: Router, text: str) -> Outcome:
    outcome = router.handle(f"!zt {text}", sender=COORDINATOR, room_id=ROOM, now=NOW)
    assert outcome is not None
    return outcome


def test_themen_shows_the_first_and_counts_the_rest(router: Router) -> None:
    reply = say(router, "themen").reply
    total = THEMES + IDEAS
    assert f"Themen ({total}):" in reply.body
    assert reply.body.count("\n• ") == themen.SHOWN
    assert f"… und {total - themen.SHOWN} weitere; alle als Datei: !zt themen alle" in reply.body
    assert reply.attachment is None


def test_themen_alle_sends_every_theme_as_a_file_that_reads_back(router: Router) -> None:
    reply = say(router, "themen alle").reply
    assert reply.attachment is not None
    assert reply.attachment.filename == "zukunftstische-themen.csv"
    assert f"Alle {THEMES + IDEAS} Themen als Datei" in reply.body
    parsed = read_plan(reply.attachment.data)
    assert parsed.ok
    assert len(parsed.rows) == THEMES + IDEAS
    assert say(router, "themen 2027").result == "refused"


def test_the_overview_shows_a_page_of_themes_and_ideas(router: Router) -> None:
    reply = say(router, "status").reply
    assert reply.body.count("\n• ") == status.OVERVIEW_LIMIT
    assert f"… und {THEMES - status.OVERVIEW_LIMIT} weitere Themen" in reply.body
    assert f"… und {IDEAS - status.OVERVIEW_LIMIT} weitere" in reply.body
    assert "Thema 000" in reply.body and "Thema 129" not in reply.body


def test_a_full_year_is_shortened_without_a_picture_and_comes_whole_as_a_file(
    router: Router,
) -> None:
    reply = say(router, "jahresplan 2028").reply
    assert f"Jahresplan 2028: {THEMES + IDEAS} Themen, davon {IDEAS} Ideen" in reply.body
    assert reply.attachment is None  # more rows than a picture can show
    assert f"ein Bild zeichne ich bis {jahresplan.PICTURE_ROWS} Themen" in reply.body
    assert "Gekürzt: alle Themen des Jahres als Datei mit !zt jahresplan 2028 alle" in reply.body
    shown = [line for line in reply.body.splitlines() if line.startswith("  Thema ")]
    ideas_shown = [line for line in reply.body.splitlines() if line.startswith("  Idee ")]
    counted = [int(n) for n in re.findall(r"^  … und (\d+) weitere$", reply.body, re.M)]
    assert len(shown) + len(ideas_shown) + sum(counted) == THEMES + IDEAS
    assert counted and len(ideas_shown) <= jahresplan.ENTRIES_SHOWN
    whole = say(router, "jahresplan 2028 alle").reply
    assert whole.attachment is not None
    assert whole.attachment.filename == "jahresplan-2028.csv"
    parsed = read_plan(whole.attachment.data)
    assert parsed.ok and len(parsed.rows) == THEMES + IDEAS
    assert say(router, "jahresplan alle").reply.attachment is not None  # this year's


def test_a_small_year_keeps_its_picture_and_is_not_shortened(router: Router) -> None:
    assert say(router, "neu Digitale Ethik KW 15/2027").result == "ok"
    reply = say(router, "jahresplan 2027").reply
    assert reply.attachment is not None and reply.attachment.is_image
    assert "Gekürzt" not in reply.body


def test_a_year_of_a_thousand_themes_fits_one_message_with_its_hint_to_the_file(
    bot: Bot,
) -> None:
    """1,250 themes in one year, twenty-four in every week: the answer counts what it does
    not show and is not cut to the event limit, so its last lines (the file) are there."""
    template = load_template()
    creates = []
    for n in range(1250):
        z2 = date(2029, 1, 8) + timedelta(days=n * 357 // 1250)
        creates.append(NewTheme(f"Thema {n:04d} Stadtentwicklung", z2, None, None, template,
                                plan(template, z2)))  # fmt: skip
    bot.store.apply_plan(creates, [], actor=COORDINATOR, now=NOW)
    reply = say(bot.router, "jahresplan 2029").reply
    assert content_size(reply) <= MAX_CONTENT_BYTES
    assert "(gekürzt)" not in reply.body
    assert "Gekürzt: alle Themen des Jahres als Datei mit !zt jahresplan 2029 alle" in reply.body
    assert re.search(r"und \d+ weiteren Themen in derselben Woche", reply.body)
    assert re.search(r"^… und \d+ weitere Wochen mit zwei oder mehr Z2\.$", reply.body, re.M)
