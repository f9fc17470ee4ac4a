"""config: one TOML file, validated; a wrong key is named in the error."""

from __future__ import annotations

from datetime import time, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, parse_config, parse_duration, refusal_text
from bot.rendering import Renderer

GERMAN = Renderer("de")

BASE = Path("/srv/zukunftstische")
PASSWORD = "geheim-Passwort-42"
MINIMAL = f"""
[matrix]
homeserver = "https://matrix.example.org"
user_id = "@zt-bot:example.org"
password = "{PASSWORD}"
"""
NO_SECRET = """
[matrix]
homeserver = "https://matrix.example.org"
user_id = "@zt-bot:example.org"
"""


def _error(text: str, environ: dict[str, str] | None = None) -> str:
    """The operator's German words for a refused configuration."""
    with pytest.raises(ConfigError) as info:
        parse_config(text, BASE, environ={} if environ is None else environ)
    return info.value.text(GERMAN)


def test_minimal_config_and_defaults() -> None:
    config = parse_config(MINIMAL, BASE, environ={})
    assert config.matrix.server_name == "example.org"
    assert config.matrix.password.get_secret_value() == PASSWORD
    assert config.bot.prefix == "!zt"
    assert config.bot.language == "de"
    assert config.bot.timezone == "Europe/Berlin"
    assert config.bot.zone.key == "Europe/Berlin"
    assert config.bot.max_command_age == timedelta(minutes=10)
    assert config.reminders.send_time == time(9, 0)
    assert config.process.file is None


def test_relative_paths_are_relative_to_the_file() -> None:
    config = parse_config(MINIMAL, BASE, environ={})
    assert config.bot.data_dir == BASE / "data"
    assert config.matrix.store_path == BASE / "data" / "store"
    assert config.database_url == f"sqlite:///{BASE / 'data' / 'zukunftstische.sqlite3'}"

    text = MINIMAL + '[bot]\ndata_dir = "var/zt"\n[process]\nfile = "stadt/prozess.toml"\n'
    config = parse_config(text, BASE, environ={})
    assert config.bot.data_dir == BASE / "var" / "zt"
    assert config.matrix.store_path == BASE / "var" / "zt" / "store"
    assert config.process.file == BASE / "stadt" / "prozess.toml"


def test_absolute_paths_are_kept() -> None:
    text = MINIMAL.replace("[matrix]", '[matrix]\nstore_path = "/var/lib/zt/store"')
    text += '[bot]\ndata_dir = "/var/lib/zt"\n'
    config = parse_config(text, BASE, environ={})
    assert config.bot.data_dir == Path("/var/lib/zt")
    assert config.matrix.store_path == Path("/var/lib/zt/store")


def test_bot_section_values() -> None:
    text = MINIMAL + (
        '[bot]\nprefix = "!zk"\nlanguage = "en"\ntimezone = "America/New_York"\n'
        'coordinators = ["@anna:example.org"]\nmax_command_age = "2h"\n'
        '[reminders]\nsend_time = "08:30"\n[rooms]\nkoordination = "!abc:example.org"\n'
    )
    config = parse_config(text, BASE, environ={})
    assert config.bot.prefix == "!zk"
    assert config.bot.language == "en"
    assert config.bot.zone.key == "America/New_York"
    assert config.bot.coordinators == ("@anna:example.org",)
    assert config.bot.max_command_age == timedelta(hours=2)
    assert config.reminders.send_time == time(8, 30)
    assert config.rooms.koordination == "!abc:example.org"


@pytest.mark.parametrize(
    ("extra", "path"),
    [
        ('[bot]\ntimezone = "Mars/Olympus"\n', "bot.timezone"),
        ('[bot]\ntimezone = "../../etc/passwd"\n', "bot.timezone"),
        ('[bot]\nprefixx = "!zt"\n', "bot.prefixx"),
        ('[bot]\ncoordinators = ["nope"]\n', "bot.coordinators.0"),
        ('[bot]\nlanguage = "fr"\n', "bot.language"),
        ('[bot]\nmax_command_age = "zehn Minuten"\n', "bot.max_command_age"),
        ('[rooms]\nkoordination = "zt:example.org"\n', "rooms.koordination"),
        ('[rooms]\nkoordination = "!abc def"\n', "rooms.koordination"),
        (
            '[rooms]\nbuergerdialog = "https://matrix.to/#/@anna:example.org"\n',
            "rooms.buergerdialog",
        ),
        ('[reminders]\nsend_time = "9 Uhr"\n', "reminders.send_time"),
        ('[council]\noparl = "ris.stadt.example/oparl"\n', "council.oparl"),
        ('[council]\noparl = "file:///etc/passwd"\n', "council.oparl"),
        ('[council]\nbody = "Stadt Musterstadt"\n', "council"),
        ('[council]\norganisation = "Rat"\n', "council.organisation"),
        ('[datenbank]\nurl = ""\n', "datenbank"),
    ],
)
def test_bad_key_is_named(extra: str, path: str) -> None:
    message = _error(MINIMAL + extra)
    assert message.startswith(f"{path}:")
    assert PASSWORD not in message


def test_bad_matrix_values_are_named() -> None:
    message = _error(MINIMAL.replace("https://", "ftp://").replace("@zt-bot", "zt-bot"))
    assert "matrix.homeserver" in message
    assert "matrix.user_id" in message


def test_bad_toml() -> None:
    assert "TOML" in _error("[matrix\n")


def test_missing_password_and_token() -> None:
    message = _error(NO_SECRET)
    assert "ZT_MATRIX_PASSWORD" in message
    assert "matrix.password" in message


def test_password_from_the_environment() -> None:
    config = parse_config(NO_SECRET, BASE, environ={"ZT_MATRIX_PASSWORD": "aus-der-umgebung"})
    assert config.matrix.password.get_secret_value() == "aus-der-umgebung"
    assert config.matrix.access_token is None


def test_environment_beats_the_file() -> None:
    config = parse_config(MINIMAL, BASE, environ={"ZT_MATRIX_PASSWORD": "neu"})
    assert config.matrix.password.get_secret_value() == "neu"


def test_access_token_from_the_environment() -> None:
    config = parse_config(NO_SECRET, BASE, environ={"ZT_MATRIX_ACCESS_TOKEN": "syt_token"})
    assert config.matrix.access_token.get_secret_value() == "syt_token"
    assert config.matrix.password is None


def test_empty_environment_variable_does_not_count() -> None:
    assert "ZT_MATRIX_PASSWORD" in _error(NO_SECRET, {"ZT_MATRIX_PASSWORD": ""})


def test_password_never_in_repr_or_str() -> None:
    config = parse_config(MINIMAL, BASE, environ={})
    for text in (repr(config), str(config), repr(config.matrix), str(config.matrix)):
        assert PASSWORD not in text
    token = parse_config(NO_SECRET, BASE, environ={"ZT_MATRIX_ACCESS_TOKEN": "syt_secret"})
    assert "syt_secret" not in repr(token)


@pytest.mark.parametrize(
    "extra",
    [
        # A plausible typo: the file path written at the top level instead of in [process].
        'process = "stadt/prozess.toml"\n',
        'bot = "!zt"\n',
    ],
)
def test_a_key_that_should_be_a_table_is_a_config_error(extra: str) -> None:
    with pytest.raises(ConfigError):
        parse_config(extra + MINIMAL, BASE, environ={})


def test_a_non_string_data_dir_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"bot\.data_dir"):
        parse_config(MINIMAL + "[bot]\ndata_dir = 5\n", BASE, environ={})


# --- parse_duration ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("10m", timedelta(minutes=10)),
        ("90s", timedelta(seconds=90)),
        ("2h", timedelta(hours=2)),
        ("7d", timedelta(days=7)),
        (" 15 m ", timedelta(minutes=15)),
        (30, timedelta(seconds=30)),
        (1.5, timedelta(seconds=1.5)),
        (timedelta(hours=1), timedelta(hours=1)),
    ],
)
def test_parse_duration(value: object, expected: timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize("value", ["", "10", "10 Minuten", "-5m", "1w", "m10", True, None])
def test_parse_duration_rejects(value: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(value)


@given(st.integers(0, 10**6), st.sampled_from(["s", "m", "h", "d"]))
def test_parse_duration_units(amount: int, unit: str) -> None:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert parse_duration(f"{amount}{unit}") == timedelta(seconds=amount * seconds)


V12_ROOM = "!-SiEAHmYreA2x61hKP8x9HorLidGjQHYx45APP1lLY0"


@pytest.mark.parametrize(
    ("written", "kept"),
    [
        (V12_ROOM, V12_ROOM),  # room version 12: no server part
        ("!abc:example.org", "!abc:example.org"),
        ("#koordination:example.org", "#koordination:example.org"),
        (f"https://matrix.to/#/{V12_ROOM}?via=example.org", V12_ROOM),
        ("https://matrix.to/#/%23koordination%3Aexample.org", "#koordination:example.org"),
        ("https://matrix.to/#/!abc:example.org/$event?via=example.org", "!abc:example.org"),
    ],
)
def test_rooms_of_every_room_version_and_aliases(written: str, kept: str) -> None:
    text = MINIMAL + f'[rooms]\nkoordination = "{written}"\nbuergerdialog = "{written}"\n'
    config = parse_config(text, BASE, environ={})
    assert config.rooms.koordination == kept
    assert config.rooms.named() == [("rooms.koordination", kept), ("rooms.buergerdialog", kept)]


def test_a_wrong_room_says_what_a_room_looks_like() -> None:
    message = _error(MINIMAL + '[rooms]\nkoordination = "Koordinationsraum"\n')
    assert message.startswith("rooms.koordination:")
    assert "#koordination:example.org" in message
    assert "Interne Raum-ID" in message


def test_council_information_system() -> None:
    config = parse_config(
        MINIMAL + '[council]\noparl = "https://ris.stadt.example/oparl/v1/system"\n'
        'organization = "Rat der Stadt"\nmeetings = [2027-05-20]\n',
        BASE,
        environ={},
    )
    council = config.council
    assert council.oparl == "https://ris.stadt.example/oparl/v1/system"
    assert (council.body, council.organization) == (None, "Rat der Stadt")
    assert len(council.meetings) == 1
    assert parse_config(MINIMAL, BASE, environ={}).council.oparl is None
    message = _error(MINIMAL + '[council]\nbody = "Stadt"\n')
    assert "body gilt nur zusammen mit oparl" in message


def test_a_refused_value_is_said_in_the_bots_language() -> None:
    with pytest.raises(ValueError) as info:
        parse_duration("bald")
    assert refusal_text(info.value, GERMAN) == "Dauer wie '10m', '2h' oder '7d' erwartet"
    english = refusal_text(info.value, Renderer("en"))
    assert english == "expected a duration like '10m', '2h' or '7d'"
    with pytest.raises(ConfigError) as error:
        parse_config(MINIMAL + '[bot]\ntimezone = "Mars/Olympus"\n', BASE, environ={})
    assert error.value.text(Renderer("en")) == "bot.timezone: unknown time zone 'Mars/Olympus'"
