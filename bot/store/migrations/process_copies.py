"""For migrations that change the process copies themes keep (`theme.process_json`)."""

from __future__ import annotations

import json
from collections.abc import Callable

import sqlalchemy as sa
from alembic import op


def rewrite_process_copies(change: Callable[[dict], dict]) -> None:
    """Apply `change` to every theme's copy of its process; rows it leaves alone stay as
    they are, byte for byte."""
    connection = op.get_bind()
    rows = connection.execute(sa.text("SELECT id, process_json FROM theme")).fetchall()
    for theme_id, text in rows:
        changed = json.dumps(change(json.loads(text)), ensure_ascii=False)
        if changed != text:
            connection.execute(
                sa.text("UPDATE theme SET process_json = :json WHERE id = :id"),
                {"json": changed, "id": theme_id},
            )
