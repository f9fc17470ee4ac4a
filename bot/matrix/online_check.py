"""`zt-bot check --online`: talk to the homeserver as the bot will, and say what is wrong.

One line per finding, each problem with what to do about it. Read-only towards rooms: it
logs in as the bot's own device (a password login with the same device id adds an access
token, it does not make a new device), joins nothing and sends no message; it uploads one
tiny file to see that media upload works.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any
from urllib.parse import quote

from nio import (
    AsyncClient,
    AsyncClientConfig,
    JoinedMembersResponse,
    LoginResponse,
    UploadResponse,
    WhoamiResponse,
)

from bot.config import Config
from bot.domain.matrix_ids import is_room_alias
from bot.domain.polls import POLL_START
from bot.matrix.adapter import HomeserverUnreachable, resolve_aliases
from bot.matrix.cross_signing import has_valid_signature, public_key_of
from bot.matrix.login import DeviceRecord
from bot.matrix.power import RoomPower, creation_from_event, power_from_content
from bot.rendering import Renderer
from bot.rights import COORDINATOR_POWER_LEVEL

ENV_ADMIN_TOKEN = "ZT_ADMIN_TOKEN"
ADMIN_RATELIMIT = "/_synapse/admin/v1/users/{user}/override_ratelimit"


class Status(StrEnum):
    ok = "ok"
    warning = "warning"  # the bot works, but something should be done
    failed = "failed"  # the bot cannot work like this


@dataclass(frozen=True)
class Finding:
    """What one check found, in codes: its words are in `templates/<lang>/online_check.j2`
    (`label_<check>`, the block `<code>`, and for a problem `fix_<fix>`)."""

    check: str
    status: Status
    code: str
    values: dict[str, object] = field(default_factory=dict)
    fix: str = ""

    def line(self, language: str = "de") -> str:
        context = {**self.values, "check": self.check, "code": self.code, "fix": self.fix}
        return (
            Renderer(language).sentence("online_check", "line", status=self.status, **context).body
        )


def can_work(findings: list[Finding]) -> bool:
    return all(finding.status != Status.failed for finding in findings)


@dataclass
class _Session:
    """The logged-in client and what the findings need of it."""

    client: AsyncClient
    config: Config

    @property
    def user_id(self) -> str:
        return self.client.user_id

    def _headers(self, token: str | None = None) -> dict[str, str]:
        token = token or self.client.access_token
        return {"Authorization": f"Bearer {token}"} if token else {}

    async def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        response = await self.client.send("GET", path, headers=self._headers(token))
        try:
            body = await response.json(content_type=None)
        except ValueError:
            body = None
        return response.status, body

    async def post(self, path: str, data: dict) -> tuple[int, Any]:
        response = await self.client.send("POST", path, json.dumps(data), headers=self._headers())
        return response.status, await response.json(content_type=None)


async def check_online(config: Config, *, admin_token: str | None = None) -> list[Finding]:
    """Every finding, in the order an operator sets the bot up."""
    client = AsyncClient(
        config.matrix.homeserver,
        config.matrix.user_id,
        config=AsyncClientConfig(max_timeouts=2, request_timeout=20, max_limit_exceeded=0),
    )
    session = _Session(client, config)
    try:
        findings = [await _homeserver(session)]
        if findings[0].status == Status.failed:
            return findings
        login = await _login(session)
        findings.append(login)
        if login.status == Status.failed:
            return findings
        for key, room in config.rooms.named():
            findings += await _room(session, key, room)
        if not config.rooms.koordination:
            findings.append(_no_coordination_room(config))
        findings.append(await _media(session))
        findings.append(await _rate_limit(session, admin_token))
        findings.append(await _cross_signing(session))
        return findings
    finally:
        await client.close()


async def _homeserver(session: _Session) -> Finding:
    url = session.config.matrix.homeserver
    try:
        status, versions = await session.get("/_matrix/client/versions")
    except Exception as err:  # refused, timed out, TLS: the homeserver cannot be reached
        found = {"url": url, "error_type": type(err).__name__}
        return Finding("homeserver", Status.failed, "homeserver_unreachable", found,
                       fix="homeserver_address")  # fmt: skip
    if status != 200 or not isinstance(versions, Mapping):
        found = {"url": url, "http": status}
        return Finding("homeserver", Status.failed, "homeserver_not_matrix", found,
                       fix="homeserver")  # fmt: skip
    spec = versions.get("versions") or []
    _, server = await session.get("/_synapse/admin/v1/server_version")
    synapse = server.get("server_version", "") if isinstance(server, Mapping) else ""
    found = {"url": url, "synapse": synapse, "newest": spec[-1] if spec else "?"}
    return Finding("homeserver", Status.ok, "homeserver_ok", found)


async def _login(session: _Session) -> Finding:
    matrix = session.config.matrix
    client = session.client
    if matrix.access_token is not None:
        client.access_token = matrix.access_token.get_secret_value()
        who = await client.whoami()
        if not isinstance(who, WhoamiResponse):
            reason = {"reason": getattr(who, "message", who)}
            return Finding("login", Status.failed, "token_refused", reason, fix="new_token")
        if who.user_id != matrix.user_id:
            found = {"owner": who.user_id, "user_id": matrix.user_id}
            return Finding("login", Status.failed, "token_of_another", found, fix="token_user")
        client.restore_login(who.user_id, who.device_id or matrix.device_id, client.access_token)
        found = {"user_id": who.user_id, "device": client.device_id}
        return Finding("login", Status.ok, "token_ok", found)
    assert matrix.password is not None
    # The device the bot is (after a lost key store it may be a newer one than configured).
    device = DeviceRecord(Path(session.config.bot.data_dir) / "device.json")
    client.device_id = device.current(matrix.device_id)
    response = await client.login(matrix.password.get_secret_value(), "Zukunftstische-Bot")
    if not isinstance(response, LoginResponse):
        found = {"user_id": matrix.user_id, "reason": getattr(response, "message", response)}
        return Finding("login", Status.failed, "password_refused", found, fix="password")
    found = {"user_id": response.user_id, "device": response.device_id}
    return Finding("login", Status.ok, "password_ok", found)


async def _room(session: _Session, key: str, room: str) -> list[Finding]:
    """The room resolves, the bot is in it (or invited), and may send there."""
    room_id = room
    if is_room_alias(room):
        try:
            found = await resolve_aliases(session.config.matrix.homeserver, [room])
        except HomeserverUnreachable as err:
            values = {"key": key, "room": room, "error": err}
            return [Finding("room", Status.failed, "alias_unresolvable", values)]
        if found.get(room) is None:
            values = {"key": key, "room": room}
            return [Finding("room", Status.failed, "alias_unknown", values, fix="alias")]
        room_id = found[room] or room
    membership = await _membership(session, room_id)
    values = {"key": key, "room_id": room_id, "bot": session.user_id}
    if membership == "invite":
        return [Finding("room", Status.ok, "room_invited", values)]
    if membership != "join":
        return [Finding("room", Status.failed, "room_not_member", values, fix="invite")]
    power = await _room_power(session, room_id)
    findings = [Finding("room", Status.ok, "room_member", values)]
    findings.append(_bot_power(session, key, power))
    if key == "rooms.koordination":
        findings.append(await _coordinators(session, room_id, power))
    return findings


async def _membership(session: _Session, room_id: str) -> str | None:
    """The bot's membership ("join", "invite", …), from the rooms it is in and its invites."""
    status, joined = await session.get("/_matrix/client/v3/joined_rooms")
    if status == 200 and room_id in (joined or {}).get("joined_rooms", []):
        return "join"
    # Invites show in a sync; a filter keeps it to the rooms' membership events.
    sync_filter = json.dumps({"room": {"timeline": {"limit": 0}}, "presence": {"types": []}})
    status, sync = await session.get(
        f"/_matrix/client/v3/sync?timeout=0&filter={quote(sync_filter)}"
    )
    invited = ((sync or {}).get("rooms") or {}).get("invite") or {}
    return "invite" if status == 200 and room_id in invited else None


async def _room_power(session: _Session, room_id: str) -> RoomPower:
    _, state = await session.get(f"/_matrix/client/v3/rooms/{quote(room_id)}/state")
    events = state if isinstance(state, list) else []
    creation = next((c for e in events if (c := creation_from_event(e)) is not None), None)
    levels = next(
        (e.get("content") for e in events if e.get("type") == "m.room.power_levels"), None
    )
    return power_from_content(levels, creation)


def _bot_power(session: _Session, key: str, power: RoomPower) -> Finding:
    bot = session.user_id
    level = power.level(bot)
    missing = [
        kind
        for kind, event_type in (("messages", "m.room.message"), ("polls", POLL_START))
        if not power.may_send(bot, event_type)
    ]
    # A room's creator stands above every level (None: said in words).
    values: dict[str, object] = {"key": key, "level": None if level == math.inf else level}
    if missing:
        need = max(power.required("m.room.message"), power.required(POLL_START))
        values |= {"missing": missing, "need": need}
        return Finding("power", Status.failed, "power_missing", values, fix="power")
    return Finding("power", Status.ok, "power_ok", values)


async def _coordinators(session: _Session, room_id: str, power: RoomPower) -> Finding:
    """The configured coordinators who are (not) members; who else counts by power."""
    response = await session.client.joined_members(room_id)
    members = (
        {m.user_id for m in response.members}
        if isinstance(response, JoinedMembersResponse)
        else set()
    )
    configured = session.config.bot.coordinators
    absent = [user for user in configured if user not in members]
    by_power = sorted(
        user
        for user in members
        if user != session.user_id and power.level(user) >= COORDINATOR_POWER_LEVEL
    )
    values = {"threshold": COORDINATOR_POWER_LEVEL, "by_power": by_power, "absent": absent,
              "configured": configured}  # fmt: skip
    if absent:
        return Finding("coordinators", Status.warning, "coordinators_absent", values,
                       fix="coordinators")  # fmt: skip
    return Finding("coordinators", Status.ok, "coordinators_ok", values)


def _no_coordination_room(config: Config) -> Finding:
    values = {"key": "rooms.koordination", "coordinators": config.bot.coordinators}
    return Finding("room", Status.warning, "coordination_room_unset", values,
                   fix="coordination_room")  # fmt: skip


async def _media(session: _Session) -> Finding:
    response, _ = await session.client.upload(
        io.BytesIO(b"zt-bot check"), content_type="text/plain", filename="zt-check.txt",
        filesize=12,
    )  # fmt: skip
    if isinstance(response, UploadResponse):
        return Finding("media", Status.ok, "media_ok")
    reason = {"reason": getattr(response, "message", response)}
    return Finding("media", Status.warning, "media_refused", reason, fix="media")


def ratelimit_command(homeserver: str, user_id: str) -> str:
    path = ADMIN_RATELIMIT.format(user=quote(user_id))
    return (
        f'curl -X POST -H "Authorization: Bearer <Admin-Token>" {homeserver}{path} '
        """-d '{"messages_per_second": 0, "burst_count": 0}'"""
    )


async def _rate_limit(session: _Session, admin_token: str | None) -> Finding:
    command = ratelimit_command(session.config.matrix.homeserver, session.user_id)
    path = ADMIN_RATELIMIT.format(user=quote(session.user_id))
    status, body = await session.get(path, token=admin_token)
    values = {"command": command, "env": ENV_ADMIN_TOKEN, "limits": body}
    if status == 200 and isinstance(body, Mapping):
        if body.get("messages_per_second") == 0 and body.get("burst_count") == 0:
            return Finding("rate_limit", Status.ok, "rate_lifted", values)
        code = "rate_own" if body else "rate_active"
        return Finding("rate_limit", Status.warning, code, values, fix="rate_limit")
    return Finding("rate_limit", Status.warning, "rate_unknown", values, fix="rate_limit")


async def _cross_signing(session: _Session) -> Finding:
    """Whether the bot's device is signed by its account's self-signing key (what Element
    needs to show its messages in encrypted rooms, MSC4153)."""
    user, device = session.user_id, session.client.device_id
    status, keys = await session.post("/_matrix/client/v3/keys/query", {"device_keys": {user: []}})
    if status != 200 or not isinstance(keys, Mapping):
        return Finding("cross_signing", Status.warning, "cross_signing_unknown", {"http": status})
    if device_is_cross_signed(keys, user, device):
        return Finding("cross_signing", Status.ok, "cross_signed", {"device": device})
    return Finding("cross_signing", Status.warning, "not_cross_signed", {"device": device},
                   fix="cross_signing")  # fmt: skip


def device_is_cross_signed(keys: Mapping[str, Any], user_id: str, device_id: str) -> bool:
    """The chain Element checks: master key → self-signing key → this device (Ed25519 over
    canonical JSON), from a /keys/query answer."""
    master = (keys.get("master_keys") or {}).get(user_id)
    self_signing = (keys.get("self_signing_keys") or {}).get(user_id)
    device = ((keys.get("device_keys") or {}).get(user_id) or {}).get(device_id)
    master_key, self_signing_key = public_key_of(master), public_key_of(self_signing)
    if not (master_key and self_signing_key and isinstance(device, Mapping)):
        return False
    return has_valid_signature(self_signing, user_id, master_key) and has_valid_signature(
        device, user_id, self_signing_key
    )
