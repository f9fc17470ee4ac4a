"""Rooms per theme, responsible people, council meetings, history.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("theme") as batch:
        batch.add_column(sa.Column("buergerdialog_room", sa.String(255), nullable=True))
        batch.add_column(sa.Column("z2_room", sa.String(255), nullable=True))
    op.create_table(
        "responsibility",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "step_id", sa.Integer(), sa.ForeignKey("step.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.UniqueConstraint("step_id", "user_id", name="uq_responsibility"),
    )
    op.create_table(
        "council_meeting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False, unique=True),
        sa.Column("added_by", sa.String(255), nullable=False),
    )
    op.create_table(
        "history",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "theme_id",
            sa.Integer(),
            sa.ForeignKey("theme.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("history")
    op.drop_table("council_meeting")
    op.drop_table("responsibility")
    with op.batch_alter_table("theme") as batch:
        batch.drop_column("z2_room")
        batch.drop_column("buergerdialog_room")
