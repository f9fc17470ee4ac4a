"""The process evaluation: which questionnaire an evaluation asks (participants or the
internal one), whether the bot started it by itself, open answers kept without their
author, the open questions still awaiting a plain reply in a direct chat, and the notices
that offered an evaluation (sent once).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def _evaluation_fk() -> sa.Column:
    return sa.Column(
        "evaluation_id",
        sa.Integer(),
        sa.ForeignKey("evaluation.id", ondelete="CASCADE"),
        nullable=False,
    )


def upgrade() -> None:
    # Plain ADD COLUMN, no batch copy: on SQLite a batch copy drops and recreates the
    # table, and the drop would cascade to the stored counts.
    op.add_column(
        "evaluation",
        sa.Column("kind", sa.String(16), nullable=False, server_default="teilnehmende"),
    )
    op.add_column(
        "evaluation",
        sa.Column("auto_started", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "evaluation_open_prompt",
        sa.Column("id", sa.Integer(), primary_key=True),
        _evaluation_fk(),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("question_key", sa.String(32), nullable=False),
        sa.UniqueConstraint("evaluation_id", "room_id", name="uq_open_prompt_room"),
    )
    op.create_table(
        "evaluation_open_answer",
        sa.Column("id", sa.Integer(), primary_key=True),
        _evaluation_fk(),
        sa.Column("question_key", sa.String(32), nullable=False),
        sa.Column("text", sa.String(1000), nullable=False),
    )
    op.create_table(
        "evaluation_offer",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "theme_id", sa.Integer(), sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("theme_id", "kind", name="uq_evaluation_offer"),
    )


def downgrade() -> None:
    op.drop_table("evaluation_offer")
    op.drop_table("evaluation_open_answer")
    op.drop_table("evaluation_open_prompt")
    op.drop_column("evaluation", "auto_started")
    op.drop_column("evaluation", "kind")
