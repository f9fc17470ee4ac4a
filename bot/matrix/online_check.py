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
from dataclasses import dataclass
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
from bot.rights import COORDINATOR_POWER_LEVEL

ENV_ADMIN_TOKEN = "ZT_ADMIN_TOKEN"
ADMIN_RATELIMIT = "/_synapse/admin/v1/users/{user}/override_ratelimit"


class Status(StrEnum):
    ok = "ok"
    warning = "warning"  # the bot works, but something should be done
    failed = "failed"  # the bot cannot work like this


@dataclass(frozen=True)
class Finding:
    label: str
    status: Status
    text: str
    fix: str = ""

    def line(self) -> str:
        mark = {Status.ok: "✓", Status.warning: "!", Status.failed: "✗"}[self.status]
        fix = f" → {self.fix}" if self.fix else ""
        return f"{mark} {self.label}: {self.text}{fix}"


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
        return Finding(
            "Homeserver",
            Status.failed,
            f"{url} antwortet nicht ({type(err).__name__})",
            "Adresse in [matrix] homeserver prüfen (https://…, ohne /_matrix)",
        )
    if status != 200 or not isinstance(versions, Mapping):
        return Finding(
            "Homeserver",
            Status.failed,
            f"{url} ist kein Matrix-Homeserver (HTTP {status} auf /_matrix/client/versions)",
            "Adresse in [matrix] homeserver prüfen",
        )
    spec = versions.get("versions") or []
    _, server = await session.get("/_synapse/admin/v1/server_version")
    software = (
        f"Synapse {server['server_version']}"
        if isinstance(server, Mapping) and "server_version" in server
        else "Software unbekannt"
    )
    newest = spec[-1] if spec else "?"
    return Finding("Homeserver", Status.ok, f"{url}, {software}, Matrix bis {newest}")


async def _login(session: _Session) -> Finding:
    matrix = session.config.matrix
    client = session.client
    if matrix.access_token is not None:
        client.access_token = matrix.access_token.get_secret_value()
        who = await client.whoami()
        if not isinstance(who, WhoamiResponse):
            return Finding(
                "Anmeldung",
                Status.failed,
                f"Zugangstoken abgelehnt ({getattr(who, 'message', who)})",
                "neues Token für das Bot-Konto erzeugen oder matrix.password setzen",
            )
        if who.user_id != matrix.user_id:
            return Finding(
                "Anmeldung",
                Status.failed,
                f"das Token gehört {who.user_id}, nicht {matrix.user_id}",
                "matrix.user_id oder das Token korrigieren",
            )
        client.restore_login(who.user_id, who.device_id or matrix.device_id, client.access_token)
        return Finding("Anmeldung", Status.ok, f"{who.user_id}, Gerät {client.device_id} (Token)")
    assert matrix.password is not None
    # The device the bot is (after a lost key store it may be a newer one than configured).
    device = DeviceRecord(Path(session.config.bot.data_dir) / "device.json")
    client.device_id = device.current(matrix.device_id)
    response = await client.login(matrix.password.get_secret_value(), "Zukunftstische-Bot")
    if not isinstance(response, LoginResponse):
        return Finding(
            "Anmeldung",
            Status.failed,
            f"{matrix.user_id}: {getattr(response, 'message', response)}",
            "Benutzer-ID und Passwort prüfen (ZT_MATRIX_PASSWORD oder matrix.password)",
        )
    return Finding("Anmeldung", Status.ok, f"{response.user_id}, Gerät {response.device_id}")


async def _room(session: _Session, key: str, room: str) -> list[Finding]:
    """The room resolves, the bot is in it (or invited), and may send there."""
    room_id = room
    if is_room_alias(room):
        try:
            found = await resolve_aliases(session.config.matrix.homeserver, [room])
        except HomeserverUnreachable as err:
            return [Finding(key, Status.failed, f"{room} nicht auflösbar ({err})")]
        if found.get(room) is None:
            return [
                Finding(
                    key,
                    Status.failed,
                    f"die Raumadresse {room} gibt es nicht",
                    "Adresse prüfen (Element: Raumeinstellungen → Allgemein → "
                    "Veröffentlichte Adressen) oder die interne Raum-ID eintragen",
                )
            ]
        room_id = found[room] or room
    membership = await _membership(session, room_id)
    invite = (
        f"den Bot ({session.user_id}) in den Raum einladen "
        "(Element: Raum-Info → Personen → Einladen)"
    )
    if membership == "invite":
        return [Finding(key, Status.ok, f"{room_id}: eingeladen, der Bot tritt beim Start bei")]
    if membership != "join":
        return [Finding(key, Status.failed, f"{room_id}: der Bot ist nicht im Raum", invite)]
    power = await _room_power(session, room_id)
    findings = [Finding(key, Status.ok, f"{room_id}: der Bot ist Mitglied")]
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
    shown = "Raumersteller*in (über allen Stufen)" if level == math.inf else f"Stufe {level}"
    missing = [
        kind
        for kind, event_type in (("Nachrichten", "m.room.message"), ("Umfragen", POLL_START))
        if not power.may_send(bot, event_type)
    ]
    if missing:
        need = max(power.required("m.room.message"), power.required(POLL_START))
        return Finding(
            f"{key} Macht des Bots",
            Status.failed,
            f"{shown}: darf keine {' und '.join(missing)} senden",
            f"dem Bot dort mindestens Stufe {need} geben",
        )
    return Finding(
        f"{key} Macht des Bots", Status.ok, f"{shown}: darf Nachrichten und Umfragen senden"
    )


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
    text = f"durch Stufe ≥ {COORDINATOR_POWER_LEVEL}: {', '.join(by_power) or 'niemand'}"
    if absent:
        return Finding(
            "Koordinator*innen",
            Status.warning,
            f"nicht im Koordinationsraum: {', '.join(absent)}; {text}",
            "einladen, falls sie dort mitlesen sollen (Rechte haben sie durch [bot] coordinators)",
        )
    listed = f"eingetragen und Mitglied: {', '.join(configured)}; " if configured else ""
    return Finding("Koordinator*innen", Status.ok, listed + text)


def _no_coordination_room(config: Config) -> Finding:
    coordinators = ", ".join(config.bot.coordinators) or "niemand"
    return Finding(
        "rooms.koordination",
        Status.warning,
        f"nicht gesetzt: Koordinator*innen nur aus [bot] coordinators ({coordinators}), "
        "Erinnerungen an die Koordination gehen in die Teamräume",
        "Koordinationsraum anlegen, den Bot einladen, ID oder Adresse eintragen",
    )


async def _media(session: _Session) -> Finding:
    response, _ = await session.client.upload(
        io.BytesIO(b"zt-bot check"), content_type="text/plain", filename="zt-check.txt",
        filesize=12,
    )  # fmt: skip
    if isinstance(response, UploadResponse):
        return Finding("Medien-Upload", Status.ok, "funktioniert (Kalenderdateien, Bilder)")
    return Finding(
        "Medien-Upload",
        Status.warning,
        f"abgelehnt ({getattr(response, 'message', response)})",
        "Upload für das Bot-Konto erlauben (Synapse: enable_media_repo, max_upload_size)",
    )


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
    if status == 200 and isinstance(body, Mapping):
        if body.get("messages_per_second") == 0 and body.get("burst_count") == 0:
            return Finding("Ratenbegrenzung", Status.ok, "für den Bot aufgehoben")
        if body:
            return Finding("Ratenbegrenzung", Status.warning, f"eigene Grenzen: {body}", command)
        return Finding(
            "Ratenbegrenzung",
            Status.warning,
            "aktiv (Synapse-Standard: 0,2 Nachrichten/s, 10 am Stück); viele Erinnerungen "
            "auf einmal gehen dann langsam hinaus",
            command,
        )
    return Finding(
        "Ratenbegrenzung",
        Status.warning,
        f"nicht prüfbar ohne Server-Admin-Zugang (mit {ENV_ADMIN_TOKEN} prüfbar); falls aktiv",
        command,
    )


async def _cross_signing(session: _Session) -> Finding:
    """Whether the bot's device is signed by its account's self-signing key (what Element
    needs to show its messages in encrypted rooms, MSC4153)."""
    user, device = session.user_id, session.client.device_id
    status, keys = await session.post("/_matrix/client/v3/keys/query", {"device_keys": {user: []}})
    if status != 200 or not isinstance(keys, Mapping):
        return Finding("Cross-Signing", Status.warning, f"nicht abfragbar (HTTP {status})")
    if device_is_cross_signed(keys, user, device):
        return Finding("Cross-Signing", Status.ok, f"Gerät {device} ist vom Konto signiert")
    return Finding(
        "Cross-Signing",
        Status.warning,
        f"Gerät {device} ist nicht vom Konto signiert: Element-Nutzer*innen sehen seine "
        "Nachrichten in verschlüsselten Räumen nicht",
        "`zt-bot run` richtet es beim Start ein (mit Passwort; siehe Log)",
    )


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
