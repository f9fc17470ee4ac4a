"""Documents on steps (`!zt dokument`), milestones of the city's other strategies
(`!zt meilenstein`) and the follow-up of adopted improvement ideas (`kvp übernommen …
bis`, `kvp umgesetzt`), issue 21 points 3, 4 and 6. Only new tables and nullable
columns: stored themes and ideas stay as they are.

Revision ID: 0020
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_IDEA_COLUMNS = ("owner", "follow_up", "implemented_at", "implemented_by")


def upgrade() -> None:
    op.create_table(
        "step_document",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "theme_id",
            sa.Integer(),
            sa.ForeignKey("theme.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("step_key", sa.String(10), nullable=False),
        sa.Column("url", sa.String(1000), nullable=False),
        sa.Column("title", sa.String(200), nullable=True),
        sa.Column("added_by", sa.String(255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("theme_id", "step_key", "url", name="uq_step_document"),
    )
    op.create_index("ix_step_document_theme_id", "step_document", ["theme_id"])
    op.create_table(
        "strategy_milestone",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("name_key", sa.String(120), nullable=False, unique=True),
        sa.Column("first_day", sa.Date(), nullable=False),
        sa.Column("last_day", sa.Date(), nullable=False),
        sa.Column("written", sa.String(20), nullable=False),
        sa.Column("precision", sa.String(10), nullable=False),
        sa.Column("added_by", sa.String(255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_strategy_milestone_first_day", "strategy_milestone", ["first_day"])
    with op.batch_alter_table("idea") as batch:
        batch.add_column(sa.Column("owner", sa.String(255), nullable=True))
        batch.add_column(sa.Column("follow_up", sa.Date(), nullable=True))
        batch.add_column(sa.Column("implemented_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("implemented_by", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("idea") as batch:
        for column in reversed(_IDEA_COLUMNS):
            batch.drop_column(column)
    op.drop_index("ix_strategy_milestone_first_day", "strategy_milestone")
    op.drop_table("strategy_milestone")
    op.drop_index("ix_step_document_theme_id", "step_document")
    op.drop_table("step_document")
