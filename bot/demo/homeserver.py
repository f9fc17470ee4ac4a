"""A throwaway Synapse on loopback, for the demo, the integration tests and the benchmark.

Needs the `demo` or `test` extra (matrix-synapse). Users are registered through the
shared-secret admin API, as a homeserver admin would do it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SERVER_NAME = "localhost"
_RAISED = {"per_second": 10000, "burst_count": 10000}
RAISED_RATE_LIMITS = {
    "rc_message": _RAISED,
    "rc_registration": _RAISED,
    "rc_joins": {"local": _RAISED, "remote": _RAISED},
    "rc_joins_per_room": _RAISED,
    "rc_invites": {"per_room": _RAISED, "per_user": _RAISED, "per_issuer": _RAISED},
    "rc_room_creation": _RAISED,
    "rc_login": {"address": _RAISED, "account": _RAISED, "failed_attempts": _RAISED},
}
_LOG_CONFIG = """version: 1
formatters:
  plain: {format: '%(asctime)s %(levelname)s %(name)s %(message)s'}
handlers:
  file: {class: logging.FileHandler, formatter: plain, filename: LOGFILE}
root: {level: WARNING, handlers: [file]}
disable_existing_loggers: false
"""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class Account:
    user_id: str
    password: str
    access_token: str
    device_id: str


@dataclass
class LocalSynapse:
    directory: Path
    port: int
    shared_secret: str
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.directory / "homeserver.yaml"

    def start(self, timeout: float = 90.0) -> None:
        log = (self.directory / "synapse.out").open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "synapse.app.homeserver",
                "--config-path",
                str(self.config_path),
            ],
            cwd=self.directory,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stop() leaves nothing behind
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"synapse exited; see {self.directory / 'synapse.out'}")
            if self.healthy():
                return
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"synapse did not answer /health within {timeout:.0f}s")

    def healthy(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/health", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def _admin(self, path: str, body: dict | None = None, token: str | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.url}{path}", data=data)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def register(self, username: str, password: str, *, admin: bool = False) -> Account:
        """Register through the shared-secret admin API (no interactive auth)."""
        nonce = self._admin("/_synapse/admin/v1/register")["nonce"]
        mac = hmac.new(self.shared_secret.encode(), digestmod=hashlib.sha1)
        role = b"admin" if admin else b"notadmin"
        mac.update(b"\x00".join([nonce.encode(), username.encode(), password.encode(), role]))
        answer = self._admin(
            "/_synapse/admin/v1/register",
            {
                "nonce": nonce,
                "username": username,
                "password": password,
                "admin": admin,
                "mac": mac.hexdigest(),
            },
        )
        return Account(answer["user_id"], password, answer["access_token"], answer["device_id"])


def create_synapse(
    directory: Path,
    *,
    raised_rate_limits: bool = True,
    default_room_version: str | None = None,
    rate_limits: Mapping[str, object] | None = None,
) -> LocalSynapse:
    """Generate a Synapse config in `directory` (SQLite, loopback, a free port). Rooms get
    Synapse's own default room version unless `default_room_version` names another.

    With `raised_rate_limits=False` every limit is Synapse's default (rc_message 0.2/s,
    burst 10; rc_room_creation 0.016/s, burst 10; rc_joins_per_room 1/s, burst 10; …), as a
    city's homeserver has them; `rate_limits` then sets single ones, e.g.
    `{"rc_joins_per_room": {"per_second": 0.1, "burst_count": 10}}`."""
    import yaml  # comes with matrix-synapse

    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "homeserver.yaml"
    subprocess.run(
        [
            sys.executable, "-m", "synapse.app.homeserver",
            "--server-name", SERVER_NAME,
            "--config-path", str(config_path),
            "--data-directory", str(directory),
            "--generate-config", "--report-stats=no",
        ],
        check=True, cwd=directory, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    config = yaml.safe_load(config_path.read_text())
    port = free_port()
    log_config = directory / "log.yaml"
    log_config.write_text(_LOG_CONFIG.replace("LOGFILE", str(directory / "homeserver.log")))
    config.update(
        listeners=[
            {
                "port": port,
                "bind_addresses": ["127.0.0.1"],
                "type": "http",
                "tls": False,
                "x_forwarded": False,
                "resources": [{"names": ["client"], "compress": False}],
            }
        ],
        log_config=str(log_config),
        suppress_key_server_warning=True,
        trusted_key_servers=[],
        bcrypt_rounds=4,
        presence={"enabled": False},
        enable_registration=False,
        url_preview_enabled=False,
    )
    if raised_rate_limits:
        config.update(RAISED_RATE_LIMITS)
    config.update(rate_limits or {})
    if default_room_version is not None:
        config["default_room_version"] = default_room_version
    config_path.write_text(yaml.safe_dump(config))
    return LocalSynapse(directory, port, config["registration_shared_secret"])
