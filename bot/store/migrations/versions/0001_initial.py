"""Themes and their steps.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "theme",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(120), nullable=False, unique=True),
        sa.Column("z2", sa.Date(), nullable=True),
        sa.Column("planned_quarter", sa.String(10), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("team_room", sa.String(255), nullable=True),
        sa.Column("process_json", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "step",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "theme_id", sa.Integer(), sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("key", sa.String(10), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("pinned", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("done_by", sa.String(255), nullable=True),
        sa.Column("note", sa.String(500), nullable=True),
        sa.UniqueConstraint("theme_id", "key", name="uq_step_theme_key"),
    )


def downgrade() -> None:
    op.drop_table("step")
    op.drop_table("theme")
