"""The public page for citizens (issue 24): a theme's `public` flag (`!zt öffentlich`)
and the link to its digital participation (`!zt beteiligung … link`). A column with a
default and a nullable one: stored themes stay as they are, none of them public.

Revision ID: 0022
Revises: 0020
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite's batch mode would copy the table, and the copy's drop
    # would cascade to the steps.
    op.add_column(
        "theme", sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column("theme", sa.Column("participation_link", sa.String(1000), nullable=True))


def downgrade() -> None:
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+) for the same reason: no copy of the table.
    op.drop_column("theme", "participation_link")
    op.drop_column("theme", "public")
