"""Setting the bot up as an operator does (the README's setup walk), on the homeserver's
own defaults: a person creates the coordination room in a client, the operator copies the
id (or an alias) the server gave it into the config, checks with `zt-bot check --online`
and starts `zt-bot run`."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
from nio.api import Api

from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import ScriptedUser
from bot.domain.matrix_ids import room_server
from tests.integration.conftest import (
    PASSWORD,
    ROOM_VERSION,
    Accounts,
    Databases,
    unique,
    write_plain_config,
)

pytestmark = pytest.mark.integration

ZT_BOT = Path(sys.executable).with_name("zt-bot")  # the console script `pip install` made


def operator_config(
    directory: Path, synapse: LocalSynapse, bot_user: str, room: str, databases: Databases
) -> Path:
    """The config of the README's setup walk: no coordinators listed (the room's creator is
    one by power), the password in the environment."""
    rest = f'[rooms]\nkoordination = "{room}"'
    return write_plain_config(directory, synapse, bot_user, databases, matrix="", rest=rest)


def zt_bot(
    *args: str, password: str = PASSWORD, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {**os.environ, "ZT_MATRIX_PASSWORD": password, **(env or {})}
    return subprocess.run(
        [str(ZT_BOT), *args], env=environment, capture_output=True, text=True, timeout=120
    )


def lift_rate_limit(synapse: LocalSynapse, admin_token: str, user_id: str) -> None:
    """The admin call the README and the check name."""
    request = urllib.request.Request(
        f"{synapse.url}/_synapse/admin/v1/users/{quote(user_id)}/override_ratelimit",
        data=json.dumps({"messages_per_second": 0, "burst_count": 0}).encode(),
        headers={"Authorization": f"Bearer {admin_token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        assert response.status == 200


def start_bot_process(config: Path, log: Path) -> subprocess.Popen:
    with log.open("wb") as out:
        return subprocess.Popen(
            [str(ZT_BOT), "run", "--config", str(config)],
            env={**os.environ, "ZT_MATRIX_PASSWORD": PASSWORD},
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def room_version(user: ScriptedUser, room_id: str) -> str:
    method, path = Api.room_get_state_event(user.client.access_token, room_id, "m.room.create")
    response = await user.client.send(method, path)
    return (await response.json())["room_version"]


async def test_the_suite_runs_on_the_room_version_under_test(coordinator: ScriptedUser) -> None:
    room_id = await coordinator.create_room(name="Raumversion")
    version = await room_version(coordinator, room_id)
    assert version == (ROOM_VERSION or "12")
    # Room version 12 ids are hashes without a server part; older ones carry it.
    assert (room_server(room_id) is None) == (int(version) >= 12)


@pytest.mark.parametrize("named_by", ["id", "alias"])
async def test_setup_walk_as_the_readme_describes(
    named_by: str,
    synapse: LocalSynapse,
    coordinator: ScriptedUser,
    member: ScriptedUser,
    accounts: Accounts,
    databases: Databases,
    tmp_path: Path,
) -> None:
    # 1. The bot's account (a homeserver admin registers it).
    bot = synapse.register(unique("zt-setup").replace(" ", "-").lower(), PASSWORD)
    # 2. Someone creates the coordination room in their client and invites the bot.
    alias_name = unique("koordination").replace(" ", "-").lower()
    room_id = await coordinator.create_room(
        [bot.user_id, member.user_id], name="Koordination", alias=alias_name
    )
    await member.client.join(room_id)
    # 3. The operator copies the id the server made (or the alias) into the config.
    room = room_id if named_by == "id" else f"#{alias_name}:localhost"
    config = operator_config(tmp_path, synapse, bot.user_id, room, databases)
    # 4. The check talks to the homeserver: invited, not yet joined, is enough to start.
    check = await asyncio.to_thread(zt_bot, "check", "--online", "--config", str(config))
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"✓ rooms.koordination: {room_id}: eingeladen" in check.stdout
    assert "✓ Anmeldung" in check.stdout and "Der Bot kann so arbeiten." in check.stdout
    assert "! Ratenbegrenzung: nicht prüfbar ohne Server-Admin-Zugang" in check.stdout
    assert "override_ratelimit" in check.stdout  # the call that lifts it
    assert "! Cross-Signing: Gerät ZUKUNFTSTISCHE ist nicht vom Konto signiert" in check.stdout
    # 5. The bot runs as a process.
    log = tmp_path / "bot.log"
    process = start_bot_process(config, log)
    try:
        await coordinator.wait_for_member(room_id, bot.user_id, timeout=60)
        # Whoever created the room is a coordinator (room version 12: by being its creator;
        # before: by the power level 100 the server gave them).
        name = unique("Einrichtung")
        created = await coordinator.ask(room_id, f"!zt neu {name} 15.04.2027", timeout=60)
        assert f"Thema „{name}“ angelegt" in created.body
        refused = await member.ask(room_id, f"!zt neu {unique('Nicht erlaubt')} 15.04.2027")
        assert "Das dürfen nur Koordinator*innen" in refused.body
        # Now joined: the check sees the bot's power and who coordinates by power.
        again = await asyncio.to_thread(zt_bot, "check", "--online", "--config", str(config))
        assert again.returncode == 0, again.stdout + again.stderr
        assert f"✓ rooms.koordination: {room_id}: der Bot ist Mitglied" in again.stdout
        assert "darf Nachrichten und Umfragen senden" in again.stdout
        assert f"durch Stufe ≥ 50: {coordinator.user_id}" in again.stdout
        assert "Macht des Bots: Stufe 0: darf Nachrichten und Umfragen senden" in again.stdout
        # `zt-bot run` cross-signed its device (what Element needs, MSC4153).
        assert "✓ Cross-Signing: Gerät ZUKUNFTSTISCHE ist vom Konto signiert" in again.stdout
        # With a homeserver admin's token the check tells whether the limit is lifted.
        admin = synapse.register(unique("admin").replace(" ", "-").lower(), PASSWORD, admin=True)
        with_admin = {"ZT_ADMIN_TOKEN": admin.access_token}
        limited = await asyncio.to_thread(
            zt_bot, "check", "--online", "--config", str(config), env=with_admin
        )
        assert "! Ratenbegrenzung: aktiv" in limited.stdout
        lift_rate_limit(synapse, admin.access_token, bot.user_id)
        lifted = await asyncio.to_thread(
            zt_bot, "check", "--online", "--config", str(config), env=with_admin
        )
        assert "✓ Ratenbegrenzung: für den Bot aufgehoben" in lifted.stdout
    finally:
        process.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(process.wait, 30)
    assert code == 0, log.read_text("utf-8", errors="replace")[-3000:]
    assert "Traceback" not in log.read_text("utf-8", errors="replace")


async def test_check_online_says_what_is_wrong(
    synapse: LocalSynapse, coordinator: ScriptedUser, databases: Databases, tmp_path: Path
) -> None:
    bot = synapse.register(unique("zt-kaputt").replace(" ", "-").lower(), PASSWORD)
    not_invited = await coordinator.create_room(name="Ohne Bot")
    cases = {
        "nicht eingeladen": (not_invited, PASSWORD, "der Bot ist nicht im Raum"),
        "falsches Passwort": (not_invited, "Falsch-123", "✗ Anmeldung"),
        "falsche Adresse": ("#gibt-es-nicht:localhost", PASSWORD, "gibt es nicht"),
        "falscher Raum": ("!NichtDa:localhost", PASSWORD, "der Bot ist nicht im Raum"),
    }
    for case, (room, password, expected) in cases.items():
        config = operator_config(tmp_path / case, synapse, bot.user_id, room, databases)
        result = await asyncio.to_thread(
            zt_bot, "check", "--online", "--config", str(config), password=password
        )
        assert result.returncode == 1, (case, result.stdout)
        assert expected in result.stdout, (case, result.stdout)
        assert "bitte die Punkte mit ✗ beheben" in result.stderr
        assert "Traceback" not in result.stderr
        if case == "nicht eingeladen":
            assert "einladen" in result.stdout  # and says what to do
        assert password not in result.stdout + result.stderr


def test_run_refuses_an_alias_that_does_not_exist(
    synapse: LocalSynapse, databases: Databases, tmp_path: Path
) -> None:
    bot = synapse.register(unique("zt-alias").replace(" ", "-").lower(), PASSWORD)
    config = operator_config(tmp_path, synapse, bot.user_id, "#fehlt:localhost", databases)
    result = zt_bot("run", "--config", str(config))
    assert result.returncode == 2
    assert "rooms.koordination: die Raumadresse #fehlt:localhost gibt es" in result.stderr
    assert "Traceback" not in result.stderr


async def test_import_resolves_aliases_and_takes_links_of_every_room_version(
    synapse: LocalSynapse, coordinator: ScriptedUser, databases: Databases, tmp_path: Path
) -> None:
    bot = synapse.register(unique("zt-import").replace(" ", "-").lower(), PASSWORD)
    alias_name = unique("team-klima").replace(" ", "-").lower()
    by_alias = await coordinator.create_room(name="Klima", alias=alias_name)
    by_link = await coordinator.create_room(name="Wasser")
    plan = tmp_path / "plan.csv"
    plan.write_text(
        "Thema;Z2;Teamraum\n"
        f"Klima;15.06.2027;#{alias_name}:localhost\n"
        f"Wasser;KW 30/2027;https://matrix.to/#/{by_link}?via=localhost\n"
        "Boden;KW 31/2027;#gibt-es-nicht:localhost\n",
        "utf-8",
    )
    config = operator_config(tmp_path, synapse, bot.user_id, by_link, databases)
    refused = await asyncio.to_thread(zt_bot, "import", "--config", str(config), str(plan))
    assert refused.returncode == 1
    assert "Zeile 4: Raumadresse „#gibt-es-nicht:localhost“ gibt es nicht" in refused.stderr
    plan.write_text("\n".join(plan.read_text("utf-8").splitlines()[:3]) + "\n", "utf-8")
    imported = await asyncio.to_thread(zt_bot, "import", "--config", str(config), str(plan))
    assert imported.returncode == 0, imported.stderr
    exported = await asyncio.to_thread(zt_bot, "export", "--config", str(config))
    assert f"Klima;15.06.2027;Q2/2027;{by_alias};;;;;aktiv" in exported.stdout
    assert f"Wasser;26.07.2027;Q3/2027;{by_link};;;;;aktiv" in exported.stdout


async def test_a_configured_room_the_bot_cannot_use_gets_one_clear_line(
    bot_factory, coordinator: ScriptedUser, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outside = await coordinator.create_room(name="Ohne Bot")
    bot = await bot_factory(f'[rooms]\nkoordination = "{outside}"')
    assert f"rooms.koordination: the bot is neither in room {outside} nor invited" in caplog.text
    await bot.stop()

    # A room where only moderators may write: the bot is in it, but may not send there.
    directory = tmp_path / "stumm"
    first = await bot_factory(directory=directory)
    muted = await coordinator.create_room([first.user_id], name="Nur Moderation")
    await coordinator.wait_for_member(muted, first.user_id)
    levels = await coordinator.client.room_get_state_event(muted, "m.room.power_levels")
    await coordinator.client.room_put_state(
        muted, "m.room.power_levels", {**levels.content, "events_default": 50}
    )
    await first.stop()
    caplog.clear()
    await bot_factory(f'[rooms]\nkoordination = "{muted}"', directory=directory)
    assert f"rooms.koordination: the bot may not send messages in {muted}" in caplog.text
    assert "needs power level 50, has 0" in caplog.text
