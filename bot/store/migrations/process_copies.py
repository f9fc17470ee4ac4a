"""For migrations that change the process copies themes keep (`theme.process_json`)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op


def rewrite_process_copies(change: Callable[[dict], dict], *, digest: bool = False) -> None:
    """Apply `change` to every theme's copy of its process; rows it leaves alone stay as
    they are, byte for byte. `digest`: the schema has `theme.process_digest` (0017 on),
    which must name the changed copy."""
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, process_json FROM theme")).fetchall()
    for theme_id, text in rows:
        before = json.loads(text)
        after = change(json.loads(text))
        if after == before:
            continue
        changed = json.dumps(after, ensure_ascii=False)
        values = {"json": changed, "id": theme_id}
        statement = "UPDATE theme SET process_json = :json"
        if digest:
            statement += ", process_digest = :digest"
            values["digest"] = hashlib.sha256(changed.encode("utf-8")).hexdigest()
        connection.execute(sa.text(statement + " WHERE id = :id"), values)
