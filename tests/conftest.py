"""What the suites share: Hypothesis's profiles, a fixed `now`, the bot's config as the tests
write it, a bot and its router built from it, the databases of both backends and a store
on each.

Hypothesis runs a small profile by default, so that `pytest` stays quick while one works;
`make test` (and with it CI) selects the big one with `ZT_HYPOTHESIS_PROFILE=ci`. Neither
has a deadline: a busy machine is slow, and the tests assert behaviour, not speed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings

from bot.app import Bot, build_bot
from bot.clock import Clock
from bot.config import Config, parse_config
from bot.router import Router
from bot.store.themes import Store
from tests.databases import create_postgres_database, drop_postgres_database, postgres_unavailable

ENV_HYPOTHESIS_PROFILE = "ZT_HYPOTHESIS_PROFILE"
HYPOTHESIS_PROFILE = os.environ.get(ENV_HYPOTHESIS_PROFILE) or "dev"
settings.register_profile("ci", deadline=None, max_examples=100)
settings.register_profile("dev", deadline=None, max_examples=25)
settings.load_profile(HYPOTHESIS_PROFILE)


def examples(ci: int) -> int:
    """How many examples a big property test (the router fuzz) runs: `ci` in the CI profile,
    a twentieth of it (at least 25) by default."""
    return ci if HYPOTHESIS_PROFILE == "ci" else max(ci // 20, 25)


BERLIN = ZoneInfo("Europe/Berlin")
COORDINATOR = "@koordination:stadt.example"


@pytest.fixture
def now() -> datetime:
    """A fixed moment for tests that take time as a parameter: Wednesday 17 March 2027,
    10:00 in Berlin (a working day, after the reminders' send time)."""
    return datetime(2027, 3, 17, 10, 0, tzinfo=BERLIN)


def config_text(
    data_dir: Path | str, rest: str = "", *, bot: str = "", database_url: str | None = None
) -> str:
    """The bot's config as the tests write it: a homeserver it never reaches, one
    coordinator, its data in `data_dir`; `bot` adds lines to `[bot]`, `rest` sections."""
    database = f'[database]\nurl = "{database_url}"\n' if database_url else ""
    return (
        '[matrix]\nhomeserver = "https://matrix.stadt.example"\n'
        'user_id = "@zt-bot:stadt.example"\npassword = "not-used"\n'
        f"{database}"
        f'[bot]\ncoordinators = ["{COORDINATOR}"]\ndata_dir = "{data_dir}"\n{bot}\n'
        f"{rest}\n"
    )


@pytest.fixture
def make_config(tmp_path: Path) -> Callable[..., Config]:
    """`make_config(rest, bot=…, database_url=…)`: a config of `config_text` in tmp_path."""

    def make(rest: str = "", *, bot: str = "", database_url: str | None = None) -> Config:
        text = config_text(tmp_path, rest, bot=bot, database_url=database_url)
        return parse_config(text, tmp_path, environ={})

    return make


@pytest.fixture
def config(make_config: Callable[..., Config]) -> Config:
    return make_config()


@pytest.fixture
def make_bot(make_config: Callable[..., Config]) -> Iterator[Callable[..., Bot]]:
    """`make_bot(rest, bot=…)`: a bot assembled as `zt-bot run` assembles it (nothing
    started), on its own SQLite file in tmp_path; its store is closed afterwards."""
    built: list[Bot] = []

    def make(rest: str = "", *, bot: str = "", database_url: str | None = None) -> Bot:
        config = make_config(rest, bot=bot, database_url=database_url)
        built.append(build_bot(config, Clock(config.bot.zone)))
        return built[-1]

    yield make
    for bot in built:
        bot.store.close()


@pytest.fixture
def bot(make_bot: Callable[..., Bot]) -> Bot:
    return make_bot()


@pytest.fixture
def router(bot: Bot) -> Router:
    return bot.router


# Both database backends: SQLite in a temp dir, and the PostgreSQL server of this machine
# (127.0.0.1:5432, user postgres, trust auth; `ZT_TEST_POSTGRES_URL` names another), each
# test in a fresh database; where no server answers those tests are skipped, saying so.


@pytest.fixture(scope="session")
def postgres_reason() -> str | None:
    return postgres_unavailable()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_reason) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'zt.sqlite3'}"
        return
    if postgres_reason:
        pytest.skip(postgres_reason)
    url = create_postgres_database()
    yield url
    drop_postgres_database(url)


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """A migrated, empty store on each backend."""
    store = Store(database_url)
    store.upgrade()
    yield store
    store.close()
