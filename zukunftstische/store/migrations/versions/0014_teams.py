"""Real teams: a theme's leading department and contact, its Kernteam, and further team
rooms besides the first (`theme.team_room`).

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("theme") as batch:
        batch.add_column(sa.Column("department", sa.String(200), nullable=True))
        batch.add_column(sa.Column("contact", sa.String(500), nullable=True))
    op.create_table(
        "team_room",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "theme_id", sa.Integer(), sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.UniqueConstraint("theme_id", "room_id", name="uq_team_room"),
    )
    op.create_table(
        "core_team_member",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "theme_id", sa.Integer(), sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.UniqueConstraint("theme_id", "user_id", name="uq_core_team_member"),
    )


def downgrade() -> None:
    op.drop_table("core_team_member")
    op.drop_table("team_room")
    with op.batch_alter_table("theme") as batch:
        batch.drop_column("contact")
        batch.drop_column("department")
