"""The adapter's uploads: files and pictures that go out with an answer (encrypted in an
encrypted room), as m.file and m.image replies through the send queue."""

from __future__ import annotations

import asyncio
import io
import logging

from nio import (
    AsyncClient,
    UploadResponse,
)

from bot.matrix import events
from bot.matrix.send_queue import (
    Outgoing,
    Priority,
    SendQueue,
    txn_id_for,
)
from bot.rendering import Attachment

log = logging.getLogger(__name__)

# Uploads rate-limited (429) this often are given up (logged); the text answer stands.
UPLOAD_ATTEMPTS = 5


class Media:
    """Uploads and file replies (a part of MatrixAdapter)."""

    client: AsyncClient
    queue: SendQueue

    async def _send_file(self, room_id: str, reply_to: str, attachment: Attachment) -> None:
        """Upload a file and queue it as an m.file reply, or a picture as an m.image reply
        with its thumbnail (after the text answer, through the same queue)."""
        room = self.client.rooms.get(room_id)
        encrypted = room is not None and room.encrypted  # then the upload is encrypted too
        uploaded = await self._upload(
            attachment.data, attachment.mimetype, attachment.filename, encrypted
        )
        if uploaded is None:
            return
        uri, keys = uploaded
        if attachment.is_image:
            small = attachment.thumbnail
            thumbnail = None
            if small is not None:
                name = f"thumbnail-{attachment.filename}"
                thumbnail = await self._upload(small.data, small.mimetype, name, encrypted)
            content = events.image_reply(attachment, uri, reply_to, keys, thumbnail)
        else:
            content = events.file_reply(attachment, uri, reply_to, keys)
        self.queue.put(
            Outgoing(room_id, content, txn_id_for("file", reply_to), priority=Priority.answer)
        )

    async def _upload(
        self, data: bytes, mimetype: str, filename: str, encrypt: bool
    ) -> tuple[str, dict | None] | None:
        """(content uri, encryption keys or None) of an upload; a 429 is waited out as the
        send queue does; None (logged) when the homeserver refuses it."""
        for _ in range(UPLOAD_ATTEMPTS):
            response, keys = await self.client.upload(
                io.BytesIO(data),
                content_type=mimetype,
                filename=filename,
                encrypt=encrypt,
                filesize=len(data),
            )
            if isinstance(response, UploadResponse):
                return response.content_uri, (keys if encrypt and keys is not None else None)
            if getattr(response, "status_code", None) != "M_LIMIT_EXCEEDED":
                break
            await asyncio.sleep((getattr(response, "retry_after_ms", None) or 1000) / 1000)
        log.error("upload of %s failed: %s", filename, response)
        return None
