"""A new process template never changes a running theme; `zt-bot check` names bad keys."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.charts import Charts
from bot.cli import main
from bot.command import Services
from bot.config import parse_config
from bot.domain.annual_plan import SchoolHolidays
from bot.domain.process import default_template_text, parse_template
from bot.domain.working_days import WorkingCalendar
from bot.rendering import Renderer
from bot.router import Router
from bot.store.evaluations import EvaluationStore
from bot.store.feeds import FeedTokens
from bot.store.themes import Store
from commands import COMMANDS, PLAIN

NOW = datetime(2027, 1, 11, 10, 0, tzinfo=ZoneInfo("Europe/Berlin"))
COORDINATOR = "@k:localhost"


class Everyone:
    def is_coordinator(self, user_id: str) -> bool:
        return user_id == COORDINATOR

    def is_member(self, room_id: str, user_id: str) -> bool:
        return False


def router(tmp_path: Path, template_text: str) -> Router:
    config = parse_config(
        '[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@bot:localhost"\n'
        'password = "x"\n[bot]\ndata_dir = "data"\n',
        tmp_path,
        environ={},
    )
    store = Store(config.database_url)
    store.upgrade()
    services = Services(
        config=config,
        store=store,
        template=parse_template(template_text),
        renderer=Renderer(),
        rights=Everyone(),
        calendar=WorkingCalendar(),
        school_holidays=SchoolHolidays(),
        evaluations=EvaluationStore(store),
        feeds=FeedTokens(store),
        charts=Charts(),
    )
    return Router(services, COMMANDS, PLAIN)


def ask(router: Router, text: str) -> str:
    outcome = router.handle(text, sender=COORDINATOR, room_id="!r:localhost", now=NOW)
    assert outcome is not None
    return outcome.reply.body


def test_a_new_template_applies_to_new_themes_only(tmp_path: Path) -> None:
    old = router(tmp_path, default_template_text())
    assert "angelegt" in ask(old, "!zt neu Mobilität KW 15/2027")
    # The city shortens preparation to 8 weeks and renames step 1.
    changed = default_template_text().replace("offset_weeks = -10", "offset_weeks = -8")
    changed = changed.replace('short = "Vorbereitung"', 'short = "Kick-off"')
    new = router(tmp_path, changed)
    assert "angelegt" in ask(new, "!zt neu Klima KW 15/2027")
    mobility = ask(new, "!zt status Mobilität")
    climate = ask(new, "!zt status Klima")
    assert "Vorbereitung" in mobility and "KW 5   01.02.2027" in mobility
    assert "Kick-off" in climate and "KW 7   15.02.2027" in climate


def write(path: Path, text: str) -> Path:
    path.write_text(text, "utf-8")
    return path


BASE = '[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@bot:localhost"\npassword = "x"\n'


def test_check_prints_what_it_found(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = write(tmp_path / "config.toml", BASE)
    assert main(["check", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "in Ordnung" in out and "Passwort (gesetzt, wird nicht angezeigt)" in out
    assert '"x"' not in out and "password" not in out.lower()
    assert "3a   -2 W zu Z2" in out


def test_check_names_the_bad_key(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    config = write(tmp_path / "config.toml", BASE + '[bot]\ntimezone = "Mars/Olympus"\n')
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--config", str(config)])
    assert exit_info.value.code == 2
    assert "bot.timezone: unbekannte Zeitzone 'Mars/Olympus'" in capsys.readouterr().err


def test_check_names_the_line_of_a_bad_step(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    process = write(
        tmp_path / "process.toml",
        default_template_text().replace('kind = "deadline"', 'kind = "frist"', 1),
    )
    config = write(tmp_path / "config.toml", BASE + f'[process]\nfile = "{process.name}"\n')
    with pytest.raises(SystemExit) as exit_info:
        main(["check", "--config", str(config)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    headers = [n for n, t in enumerate(default_template_text().splitlines(), 1) if t == "[[steps]]"]
    line = headers[2]  # the third step (key 3) is the first deadline
    assert f"(Zeile {line})" in err and "steps.2.kind" in err
