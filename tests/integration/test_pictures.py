"""Pictures arrive as Matrix expects images: `m.image` in reply to the command, with
`info` (w, h, mimetype, size), a thumbnail, an alt text as `body`; in an encrypted room
encrypted (`file` with key, iv and hashes, no plain `url`). Downloaded and decoded."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from bot.demo.homeserver import LocalSynapse
from bot.demo.scripted_user import Received, ScriptedUser
from tests.integration.conftest import PASSWORD, Accounts, unique
from tests.integration.test_encryption import event_type

pytestmark = pytest.mark.integration


async def picture_for(user: ScriptedUser, room: str, command: str, bot: str) -> Received:
    """Send `command`, wait for the bot's text answer and then for its m.image reply."""
    answer = await user.ask(room, command, timeout=60)
    command_id = answer.content["content"]["m.relates_to"]["m.in_reply_to"]["event_id"]

    def image() -> Received | None:
        for received in user.messages_in(room, bot):
            content = received.content["content"]
            replied = content.get("m.relates_to", {}).get("m.in_reply_to", {}).get("event_id")
            if content.get("msgtype") == "m.image" and replied == command_id:
                return received
        return None

    await user.wait_until(lambda: image() is not None, timeout=60)
    found = image()
    assert found is not None
    return found


def decoded(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


async def test_zeitplan_arrives_as_an_image_with_info_thumbnail_and_alt_text(
    room: str, coordinator: ScriptedUser, accounts: Accounts
) -> None:
    theme = unique("Bildthema")
    assert "angelegt" in (await coordinator.ask(room, f"!zt neu {theme} 12.04.2027")).body
    bot = accounts.bot.user_id
    event = await picture_for(coordinator, room, f"!zt zeitplan {theme}", bot)
    content = event.content["content"]
    assert content["body"].startswith(f"Zeitplan „{theme}“ als Bild: 8 Schritte")
    assert content["filename"].endswith(".png") and content["filename"] != content["body"]
    info = content["info"]
    assert info["mimetype"] == "image/png"
    assert "file" not in content
    data = await coordinator.download(content["url"])
    assert len(data) == info["size"] <= 300 * 1024
    image = decoded(data)
    assert image.format == "PNG" and image.size == (info["w"], info["h"])
    small = info["thumbnail_info"]
    thumbnail = decoded(await coordinator.download(info["thumbnail_url"]))
    assert thumbnail.size == (small["w"], small["h"])
    assert small["w"] <= 800 and small["h"] <= 600 and small["mimetype"] == "image/png"

    plan = await picture_for(coordinator, room, "!zt jahresplan 2027", bot)
    assert plan.content["content"]["body"].startswith("Jahresplan 2027 als Bild")


async def test_in_an_encrypted_room_the_picture_is_uploaded_encrypted(
    bot_factory, synapse: LocalSynapse, tmp_path
) -> None:
    account = synapse.register("bildverschluesselt", PASSWORD)
    user = ScriptedUser(synapse.url, account, store_path=tmp_path / "user-store")
    await user.start()
    try:
        bot = await bot_factory(extra=f'[bot]\ncoordinators = ["{account.user_id}"]')
        room = await user.create_room([bot.user_id], name="Geheimer Plan", encrypted=True)
        await user.wait_for_member(room, bot.user_id)
        created = await user.ask(room, "!zt neu Verschlüsselt 12.04.2027", timeout=60)
        assert "angelegt" in created.body
        event = await picture_for(user, room, "!zt zeitplan Verschlüsselt", bot.user_id)
        assert await event_type(user, room, event.event_id) == "m.room.encrypted"
        content = event.content["content"]
        assert content["msgtype"] == "m.image"
        assert content["body"].startswith("Zeitplan „Verschlüsselt“ als Bild")
        assert "url" not in content
        file = content["file"]
        assert {"url", "key", "iv", "hashes", "v"} <= set(file)
        assert file["key"]["alg"] == "A256CTR" and "sha256" in file["hashes"]
        info = content["info"]
        assert "thumbnail_url" not in info and "thumbnail_file" in info
        image = decoded(await user.download_file(file))
        assert image.size == (info["w"], info["h"])
        thumbnail = decoded(await user.download_file(info["thumbnail_file"]))
        assert thumbnail.size == (info["thumbnail_info"]["w"], info["thumbnail_info"]["h"])
        # Without the key the upload is not a picture.
        with pytest.raises(Exception):  # noqa: B017 - PIL raises UnidentifiedImageError
            decoded(await user.download(file["url"]))
    finally:
        await user.close()
