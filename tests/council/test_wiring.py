"""`zt-bot check --online`: one line on the council information system, from a real read."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from bot.cli import _council_finding
from bot.config import Config, parse_config
from bot.council.wiring import probe
from tests.conftest import config_text
from tests.council.conftest import FAST, OParlTestServer, Reply

SNAPSHOT_DAY = date(2027, 6, 15)


def config(tmp_path: Path, entry: str, extra: str = "") -> Config:
    text = config_text(tmp_path, f'[council]\noparl = "{entry}"\n{extra}')
    return parse_config(text, tmp_path, environ={})


async def test_body_council_and_meetings_of_the_coming_year(
    tmp_path: Path, oparl_server: OParlTestServer
) -> None:
    found = await probe(config(tmp_path, oparl_server.entry), today=SNAPSHOT_DAY, limits=FAST)
    # 8 Jul, 14 Oct, 25 Nov 2027 (2 Sep is cancelled).
    assert found.ok and found.text == (
        "Stadt Musterstadt, Rat der Stadt Musterstadt: 3 Sitzungen in den nächsten 12 Monaten, "
        "die nächste am 08.07.2027"
    )
    # The User-Agent names the bot and, without [council] contact, its Matrix id.
    assert oparl_server.seen[0].headers["User-Agent"].endswith("(+@zt-bot:stadt.example)")


async def test_what_is_wrong(
    tmp_path: Path, oparl_server: OParlTestServer, closed_port_url
) -> None:
    unreachable = await probe(config(tmp_path, closed_port_url), today=SNAPSHOT_DAY, limits=FAST)
    assert not unreachable.ok and "nicht erreichbar" in unreachable.text
    committee = config(tmp_path, oparl_server.entry, 'organization = "Finanzausschuss"\n')
    wrong = await probe(committee, today=SNAPSHOT_DAY, limits=FAST)
    assert not wrong.ok
    assert wrong.text.startswith("OParl: Gremium „Finanzausschuss“ in „Stadt Musterstadt“ nicht")


async def test_the_check_line(
    tmp_path: Path, oparl_server: OParlTestServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    days = (datetime(2027, 6, 15, 12, tzinfo=UTC) - datetime.now(UTC)).days
    monkeypatch.setenv("ZT_CLOCK_OFFSET", f"+{days}d")  # the check runs on the bot's clock
    line = (await _council_finding(config(tmp_path, oparl_server.entry))).line()
    assert line == (
        "✓ Ratsinformationssystem (OParl): Stadt Musterstadt, Rat der Stadt Musterstadt: "
        "3 Sitzungen in den nächsten 12 Monaten, die nächste am 08.07.2027"
    )
    oparl_server.override("/oparl/v1/system", Reply(404))
    line = (await _council_finding(config(tmp_path, oparl_server.entry))).line()
    assert line.startswith("! Ratsinformationssystem (OParl): OParl-Server antwortet mit HTTP 404")
    assert line.endswith("bis dahin gelten nur Ratssitzungen von Hand")
