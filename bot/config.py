"""The bot's configuration: one TOML file, validated, with secrets optionally from the env.

A wrong key is named in the error (`bot.timezone: ...`), unknown keys are refused so that
a typo is found at `zt-bot check`, not weeks later when a reminder does not go out.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from bot.domain.evaluation import INTERNAL_KIND
from bot.domain.matrix_ids import USER_ID, parse_room_ref
from bot.domain.questionnaire import INTERNAL, Questionnaire, load_questionnaire
from bot.domain.reminder_policy import ReminderSettings
from bot.domain.sentences import CodedError, Sentences

ENV_PASSWORD = "ZT_MATRIX_PASSWORD"
ENV_ACCESS_TOKEN = "ZT_MATRIX_ACCESS_TOKEN"

_DURATION = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _refusal(code: str, /, **values: Any) -> PydanticCustomError:
    """A value refused by a validator: `code` is its case in the `refusal` macro of
    templates/<lang>/_config.j2, `values` fill it (ConfigError.text says it)."""
    return PydanticCustomError(code, code, values)


def refusal_text(error: PydanticCustomError, words: Sentences) -> str:
    """The words of one refused value, without the key (e.g. a command-line duration)."""
    return words.sentence("config", "refusal", code=error.type, v=error.context or {}).body


def parse_duration(value: object) -> timedelta:
    """`90s`, `10m`, `2h`, `7d` or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    match = _DURATION.match(str(value))
    if match is None:
        raise _refusal("duration")
    return timedelta(**{_UNITS[match[2]]: int(match[1])})


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
UserId = Annotated[str, Field(pattern=USER_ID, max_length=255)]


def room_reference(value: object) -> object:
    """A room id (any room version), an alias, or a matrix.to link to either, as the id or
    alias it names; aliases are resolved when the bot starts."""
    if not isinstance(value, str):
        return value  # refused below as "not a string"
    ref = parse_room_ref(value)
    if ref is None:
        raise _refusal("room_reference", value=repr(value))
    return ref.value


RoomReference = Annotated[str, BeforeValidator(room_reference)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MatrixConfig(_Section):
    homeserver: str = Field(pattern=r"^https?://")
    user_id: UserId
    password: SecretStr | None = None
    access_token: SecretStr | None = None
    # Fixed so that the E2EE keys in store_path stay valid across restarts.
    device_id: str = Field(default="ZUKUNFTSTISCHE", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    store_path: Path = Path("store")
    # Trust policy in encrypted rooms: true sends to every device of the members, verified
    # or not (Element's default); false refuses to send where an unverified device would
    # receive the message (logged), until its devices are verified.
    trust_unverified_devices: bool = True

    @property
    def server_name(self) -> str:
        return self.user_id.split(":", 1)[1]


class DatabaseConfig(_Section):
    # Empty: a SQLite file in the data directory.
    url: str = ""
    # PostgreSQL only: connections the bot keeps open (pool_size) and may open on top under
    # load (max_overflow); one more, outside the pool, holds the lease.
    pool_size: int = Field(default=5, ge=1, le=100)
    max_overflow: int = Field(default=10, ge=0, le=100)


class BotConfig(_Section):
    prefix: str = Field(default="!zt", min_length=1, max_length=16, pattern=r"^\S+$")
    language: Literal["de", "en"] = "de"
    timezone: str = "Europe/Berlin"
    coordinators: tuple[UserId, ...] = ()
    data_dir: Path = Path("data")
    max_command_age: Duration = timedelta(minutes=10)
    allowed_servers: tuple[str, ...] = ()
    allowed_users: tuple[UserId, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as err:
            raise _refusal("unknown_zone", value=repr(value)) from err
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class RoomsConfig(_Section):
    # A room id or an alias (`#koordination:example.org`, resolved at start).
    koordination: RoomReference | None = None
    buergerdialog: RoomReference | None = None

    def named(self) -> list[tuple[str, str]]:
        """(config key, room id or alias) of every room that is set."""
        rooms = (("koordination", self.koordination), ("buergerdialog", self.buergerdialog))
        return [(f"rooms.{key}", room) for key, room in rooms if room]


class RemindersConfig(_Section):
    send_time: time = time(9, 0)
    # Advance notices, in calendar days before a step's date.
    lead_days: tuple[int, ...] = Field(default=(7,), max_length=5)
    # Overdue reminders every so many working days, at most overdue_max times; then the
    # coordination room is told instead.
    overdue_every_days: int = Field(default=3, ge=1, le=30)
    overdue_max: int = Field(default=3, ge=0, le=10)
    # The weekly overview to the coordination room: weekday 0 = Monday.
    digest: bool = True
    digest_weekday: int = Field(default=0, ge=0, le=4)
    # Reminders to the citizen dialogue room when digital participation opens and closes.
    participation: bool = True
    # "digest": where a theme has a team room, the coordination room hears the steps the
    # Fachbereich leads with it in the weekly digest, not as a copy of each reminder;
    # "all": a copy of each as well.
    coordination: Literal["digest", "all"] = "digest"
    # How often the engine looks for due work besides its exact wake-ups (seconds).
    tick_seconds: int = Field(default=300, ge=5, le=3600)

    @property
    def coordination_copies(self) -> bool:
        return self.coordination == "all"

    def policy(self) -> ReminderSettings:
        """The reminder policy's settings (domain.reminder_policy)."""
        return ReminderSettings(
            lead_days=self.lead_days,
            overdue_every_days=self.overdue_every_days,
            overdue_max=self.overdue_max,
            send_time=self.send_time,
            digest_weekday=self.digest_weekday,
            digest=self.digest,
            participation=self.participation,
        )

    @field_validator("lead_days")
    @classmethod
    def _positive(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if any(days < 1 or days > 60 for days in value):
            raise _refusal("lead_days")
        return value

    @field_validator("send_time", mode="before")
    @classmethod
    def _clock_time(cls, value: object) -> object:
        if isinstance(value, str) and not re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
            raise _refusal("clock_time")
        return value


class ProcessConfig(_Section):
    # Empty: the process shipped with the bot (bot/defaults/process.toml).
    file: Path | None = None


class EvaluationConfig(_Section):
    # "anonym": every participant is asked in a direct chat and the database keeps only
    # counts after the close; "raum": native polls in the theme's Z2 room (everyone sees
    # who voted, as with any Matrix poll).
    mode: Literal["anonym", "raum"] = "anonym"
    # Start the evaluation by itself on the working day after Z2, at send_time.
    auto_start: bool = True
    # Days until the polls close by themselves.
    open_days: int = Field(default=7, ge=1, le=60)
    # Results are shown only with at least this many answers (never a single person's).
    min_answers: int = Field(default=3, ge=2, le=100)
    # Empty: the shipped questionnaire (bot/defaults/questionnaire.toml).
    questionnaire: Path | None = None
    # The internal process evaluation (`!zt umfrage <Thema> intern`: department, Kernteam,
    # Koordination); empty: bot/defaults/questionnaire_intern.toml.
    internal_questionnaire: Path | None = None
    # People never asked (other bots, service accounts); the bot itself is never asked.
    ignore_users: tuple[UserId, ...] = ()

    def questionnaire_for(self, kind: str) -> Questionnaire:
        """The questionnaire an evaluation of `kind` asks (the city's file or the shipped one)."""
        if kind == INTERNAL_KIND:
            return load_questionnaire(self.internal_questionnaire, default=INTERNAL)
        return load_questionnaire(self.questionnaire)


class PrivacyConfig(_Section):
    # History entries and raw notes older than this many days are pruned at start.
    # Empty (the default): keep them.
    retention_days: int | None = Field(default=None, ge=1)


class CouncilConfig(_Section):
    # Known council meetings; `!zt ratssitzung <Datum>` adds more in chat.
    meetings: tuple[date, ...] = ()
    # The council information system's OParl entry point (its System object), read at
    # start and then daily; empty: council meetings only by hand.
    oparl: str | None = Field(default=None, pattern=r"^https?://\S+$", max_length=1000)
    # Which body (id or name; default: the only one) and which organization (id or name;
    # default: the body's organization with classification "Parlament").
    body: str | None = Field(default=None, min_length=1, max_length=300)
    organization: str | None = Field(default=None, min_length=1, max_length=300)
    # Who is asking, in the User-Agent of every OParl request (a URL or a mail address);
    # default: the bot's Matrix id.
    contact: str | None = Field(default=None, min_length=3, max_length=200, pattern=r"^[^\s()]+$")

    @model_validator(mode="after")
    def _needs_oparl(self) -> CouncilConfig:
        for key in ("body", "organization", "contact"):
            if getattr(self, key) is not None and self.oparl is None:
                raise _refusal("needs_oparl", key=key)
        return self


_LISTEN = re.compile(r"^(?:(?P<host>[A-Za-z0-9.-]+|\[[0-9A-Fa-f:]+\]):)?(?P<port>\d{1,5})$")


class _Listening(_Section):
    """A section with an HTTP listen address (`127.0.0.1:8080`, or a bare port: loopback)."""

    # Off unless set. Loopback by default: put the city's reverse proxy (HTTPS) in front
    # rather than opening the port to the network.
    listen: str | None = None

    @field_validator("listen")
    @classmethod
    def _host_and_port(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = _LISTEN.match(value.strip())
        if found is None or not 0 <= int(found["port"]) < 65536:  # 0: any free port
            raise _refusal("listen")
        return value.strip()

    @property
    def enabled(self) -> bool:
        return self.listen is not None

    @property
    def host(self) -> str:
        assert self.listen is not None
        found = _LISTEN.match(self.listen)
        assert found is not None
        return (found["host"] or "127.0.0.1").strip("[]")

    @property
    def port(self) -> int:
        assert self.listen is not None
        found = _LISTEN.match(self.listen)
        assert found is not None
        return int(found["port"])


class WebConfig(_Listening):
    """The bot's HTTP side for people: the calendar feeds."""

    # The address people reach it under, through the proxy; URLs in chat start with it.
    # Empty: http://<listen> (only useful on the same machine).
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    # The public page for citizens (issue 24: `/`, `/thema/<slug>`, `/kalender.ics`,
    # `/themen.json`): off unless turned on; it shows only themes made public in chat.
    public: bool = False
    # Requests per client address and minute to the public page; more get 429. Behind
    # the city's proxy every request comes from the proxy, unless `trusted_proxies`
    # names it: then the client is the last address of X-Forwarded-For.
    public_rate: int = Field(default=120, ge=1, le=100_000)
    trusted_proxies: tuple[str, ...] = ()

    def base_url(self) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"

    def feed_url(self, token: str) -> str:
        """The subscription URL of a calendar feed (what `!zt kalender … abo` answers)."""
        return f"{self.base_url()}{FEED_PATH}/{token}.ics"


class HealthConfig(_Listening):
    # `/healthz` and `/metrics` for monitoring (off unless `listen` is set; the same
    # address as [web] listen serves both from one server).
    # `zt-bot health` and /healthz fail when the bot has not synced for this long …
    sync_stale_after: Duration = timedelta(minutes=5)
    # … or when a message has waited this long in the send queue without any progress.
    queue_stuck_after: Duration = timedelta(minutes=10)


# Calendar feeds are served under this path (bot.web.feeds).
FEED_PATH = "/kalender"


class Config(_Section):
    matrix: MatrixConfig
    database: DatabaseConfig = DatabaseConfig()
    bot: BotConfig = BotConfig()
    rooms: RoomsConfig = RoomsConfig()
    reminders: RemindersConfig = RemindersConfig()
    process: ProcessConfig = ProcessConfig()
    council: CouncilConfig = CouncilConfig()
    evaluation: EvaluationConfig = EvaluationConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    web: WebConfig = WebConfig()
    health: HealthConfig = HealthConfig()

    @model_validator(mode="after")
    def _credentials(self) -> Config:
        if self.matrix.password is None and self.matrix.access_token is None:
            raise _refusal("credentials", password=ENV_PASSWORD, token=ENV_ACCESS_TOKEN)
        return self

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.bot.data_dir / 'zukunftstische.sqlite3'}"


class ConfigError(CodedError, ValueError):
    """The configuration cannot be used; the words (a block of templates/<lang>/config.j2,
    `text(renderer)`) name the bad key."""

    template = "config"


@dataclass(frozen=True)
class Problem:
    """One key that does not validate: where (`bot.timezone`, "" for the whole file), the
    code (pydantic's error type, or a `_refusal` of ours) and its values (`msg`: pydantic's
    own words, said where the template has none)."""

    where: str
    code: str
    values: dict[str, Any]


_SECTIONS = (
    "matrix",
    "database",
    "bot",
    "rooms",
    "reminders",
    "process",
    "council",
    "evaluation",
    "privacy",
    "web",
    "health",
)


def _check_tables(data: dict) -> None:
    for section in _SECTIONS:
        if section in data and not isinstance(data[section], dict):
            raise ConfigError("not_a_table", section=section)


def _resolve_paths(data: dict, base: Path) -> None:
    """Relative paths in the file are relative to the file, not to the working directory."""
    paths = (
        ("matrix", "store_path"),
        ("bot", "data_dir"),
        ("process", "file"),
        ("evaluation", "questionnaire"),
        ("evaluation", "internal_questionnaire"),
    )
    for section, key in paths:
        value = data.get(section, {}).get(key)
        if isinstance(value, str) and value and not Path(value).is_absolute():
            data[section][key] = str(base / value)


def _secrets_from_env(data: dict, environ: os._Environ[str] | dict[str, str]) -> None:
    matrix = data.setdefault("matrix", {})
    if environ.get(ENV_PASSWORD):
        matrix["password"] = environ[ENV_PASSWORD]
    if environ.get(ENV_ACCESS_TOKEN):
        matrix["access_token"] = environ[ENV_ACCESS_TOKEN]


def validation_problems(err: ValidationError) -> list[Problem]:
    return [
        Problem(
            ".".join(str(part) for part in problem["loc"]),
            problem["type"],
            {"msg": problem["msg"].removeprefix("Value error, "), **(problem.get("ctx") or {})},
        )
        for problem in err.errors(include_url=False)
    ]


def parse_config(
    text: str, base: Path, environ: os._Environ[str] | dict[str, str] | None = None
) -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("not_toml", error=str(err)) from err
    _check_tables(data)
    data.setdefault("bot", {}).setdefault("data_dir", "data")
    _resolve_paths(data, base)
    data_dir = data["bot"]["data_dir"]
    if isinstance(data_dir, str):  # anything else is refused by validation below
        data.setdefault("matrix", {}).setdefault("store_path", str(Path(data_dir) / "store"))
    _secrets_from_env(data, os.environ if environ is None else environ)
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError("invalid", problems=validation_problems(err)) from err


def load_config(path: Path, environ: os._Environ[str] | dict[str, str] | None = None) -> Config:
    try:
        text = path.read_text("utf-8")
    except OSError as err:
        raise ConfigError("unreadable", path=path, reason=err.strerror) from err
    return parse_config(text, path.resolve().parent, environ)
