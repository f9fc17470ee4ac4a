"""The adapter's login: the bot's device, its keys checked with the homeserver at every
start (a lost key store makes it a new device, the old one removed), cross-signing."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

from nio import (
    AsyncClient,
    AsyncClientConfig,
    DeleteDevicesAuthResponse,
    DeleteDevicesResponse,
    LoginResponse,
    WhoamiResponse,
)

from bot.config import Config
from bot.matrix.cross_signing import (
    HomeserverError,
    ensure_cross_signing,
    query_own_keys,
)
from bot.store.cross_signing_keys import CrossSigningKeys

log = logging.getLogger(__name__)


class LoginFailed(RuntimeError):
    """The homeserver refused the bot's credentials (the reason, never the secret)."""


@dataclass(frozen=True)
class DeviceRecord:
    """Which device the bot is, kept in the data directory: after its key store was lost
    the bot becomes a new device, and must stay that one on the next start."""

    path: Path

    def _read(self) -> dict:
        try:
            return json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}

    def current(self, configured: str) -> str:
        return self._read().get("device_id") or configured

    def used_before(self, device_id: str) -> bool:
        return self._read().get("device_id") == device_id

    def remember(self, device_id: str) -> None:
        if self._read().get("device_id") != device_id:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            self.path.write_text(json.dumps({"device_id": device_id}), "utf-8")
            self.path.chmod(0o600)


class DeviceLogin:
    """Logging in as the bot's device (a part of MatrixAdapter)."""

    config: Config
    client: AsyncClient
    devices: DeviceRecord
    cross_signing: CrossSigningKeys | None

    def _new_client(self, device_id: str | None) -> AsyncClient:
        matrix = self.config.matrix
        return AsyncClient(
            matrix.homeserver,
            matrix.user_id,
            device_id=device_id,
            store_path=str(matrix.store_path),
            config=AsyncClientConfig(
                max_limit_exceeded=0,  # the send queue honours 429 itself
                max_timeouts=None,
                store_sync_tokens=self.sync_state is None,
                encryption_enabled=True,
            ),
        )

    def _key_store_exists(self, device_id: str) -> bool:
        """matrix-nio keeps a device's encryption keys in <user>_<device>.db."""
        name = f"{self.config.matrix.user_id}_{device_id}.db"
        return (Path(self.config.matrix.store_path) / name).exists()

    async def login(self) -> None:
        matrix = self.config.matrix
        if matrix.access_token is not None:
            await self._token_login(matrix.access_token.get_secret_value())
        else:
            assert matrix.password is not None
            await self._password_login(matrix.password.get_secret_value())
        self.devices.remember(self.client.device_id)
        log.info("logged in as %s (device %s)", self.client.user_id, self.client.device_id)

    async def _ensure_cross_signing(self) -> None:
        """Cross-sign this device, so Element users' clients talk to it (MSC4153). Never
        stops the bot: without it unencrypted rooms and other clients still work."""
        if self.cross_signing is None:
            return
        password = self.config.matrix.password
        try:
            outcome = await ensure_cross_signing(
                self.client,
                self.cross_signing,
                password=password.get_secret_value() if password is not None else None,
                now=self.clock.wall(),
            )
        except Exception as err:  # network, odd answers, database: log, and carry on
            log.error(
                "cross-signing not checked (%s: %s): Element users may not see the bot's "
                "messages in encrypted rooms; it is tried again at the next start",
                type(err).__name__,
                err,
            )
            return
        if not outcome.ok:
            log.error("%s", outcome.message)

    async def _token_login(self, token: str) -> None:
        self.client.access_token = token
        who = await self.client.whoami()
        if not isinstance(who, WhoamiResponse):
            raise LoginFailed(getattr(who, "message", "") or str(who))
        device_id = who.device_id or self.config.matrix.device_id
        self.client.restore_login(self.config.matrix.user_id, device_id, token)
        # A lost key store shows here too: matrix-nio made a new account, whose keys the
        # homeserver does not have for this device.
        stale = await self._device_keys_elsewhere()
        if stale is not None:
            log.error(
                "the homeserver holds other encryption keys for device %s than the key store "
                "in %s: encrypted rooms stay unreadable; with a token the bot cannot become a "
                "new device (log in with a password instead, or restore the store)",
                stale,
                self.config.matrix.store_path,
            )

    async def _password_login(self, password: str) -> None:
        device_id = self.devices.current(self.config.matrix.device_id)
        if not self._key_store_exists(device_id) and self.devices.used_before(device_id):
            # Its keys cannot be rebuilt: the homeserver rejects new one-time keys for the
            # old device and other clients distrust a known device whose keys changed.
            log.warning(
                "encryption keys of device %s are missing from %s: logging in as a new device",
                device_id,
                self.config.matrix.store_path,
            )
            await self._log_in_as("", password)
            await self._remove_device(device_id, password)
            return
        await self._log_in_as(device_id, password)
        stale = await self._device_keys_elsewhere()
        if stale is None:
            return
        # The data directory was lost or moved without its key store: the homeserver keeps
        # the old keys of this device id and refuses ours, for good (and matrix-nio would
        # try again on every sync). A new device starts clean; the old one is removed.
        log.warning(
            "the homeserver holds other encryption keys for device %s than the key store in "
            "%s (data directory lost or moved?): logging in as a new device",
            stale,
            self.config.matrix.store_path,
        )
        await self.client.close()
        self.client = self._new_client(None)
        await self._log_in_as("", password)
        await self._remove_device(stale, password)

    async def _log_in_as(self, device_id: str, password: str) -> None:
        self.client.device_id = device_id or None  # None: the homeserver picks a new one
        response = await self.client.login(password, device_name="Zukunftstische-Bot")
        if not isinstance(response, LoginResponse):
            raise LoginFailed(getattr(response, "message", "") or type(response).__name__)

    async def _device_keys_elsewhere(self) -> str | None:
        """This device's id if the homeserver has keys for it that are not this key
        store's; None if they match or none are there. (mautrix's bridges ask the
        homeserver for their device's keys at start, too.)"""
        olm = self.client.olm
        device_id = self.client.device_id
        if olm is None or device_id is None:
            return None
        try:
            own = await query_own_keys(self.client)
        except (HomeserverError, OSError, TimeoutError) as err:
            log.warning("keys of device %s not checked (%s)", device_id, err)
            return None
        ours = olm.account.identity_keys["ed25519"]
        return device_id if own.device_key_differs(device_id, ours) else None

    async def _remove_device(self, device_id: str, password: str) -> None:
        """Remove the device whose keys were lost, so that no client keeps encrypting for
        it (the password answers the homeserver's user-interactive auth)."""
        response = await self.client.delete_devices([device_id])
        if isinstance(response, DeleteDevicesAuthResponse):
            auth = {
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": self.client.user_id},
                "password": password,
                "session": response.session,
            }
            response = await self.client.delete_devices([device_id], auth)
        if isinstance(response, DeleteDevicesResponse):
            log.info("old device %s removed", device_id)
        else:
            log.warning(
                "old device %s not removed (%s): remove it in a client's session list",
                device_id,
                getattr(response, "message", response),
            )
