"""Each theme's template copy gets its SHA-256, so that a list of thousands of themes
reads each distinct copy once instead of ~5 KB per theme (issue 15).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("theme", sa.Column("process_digest", sa.String(length=64), nullable=True))
    op.create_index("ix_theme_process_digest", "theme", ["process_digest"])
    connection = op.get_bind()
    copies = connection.execute(sa.text("SELECT DISTINCT process_json FROM theme")).scalars()
    for text in list(copies):
        connection.execute(
            sa.text("UPDATE theme SET process_digest = :digest WHERE process_json = :text"),
            {"digest": hashlib.sha256(text.encode("utf-8")).hexdigest(), "text": text},
        )


def downgrade() -> None:
    op.drop_index("ix_theme_process_digest", table_name="theme")
    with op.batch_alter_table("theme") as batch:
        batch.drop_column("process_digest")
