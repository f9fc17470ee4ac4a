"""Evaluation polls, their counts, and improvement ideas (KVP).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
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
    op.create_table(
        "evaluation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "theme_id", sa.Integer(), sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("questionnaire_json", sa.Text(), nullable=False),
        sa.Column("min_answers", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closes_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reminded", sa.Boolean(), nullable=False),
        sa.Column("participants", sa.Integer(), nullable=False),
    )
    op.create_table(
        "evaluation_poll",
        sa.Column("id", sa.Integer(), primary_key=True),
        _evaluation_fk(),
        sa.Column("question_key", sa.String(32), nullable=False),
        sa.Column("room_id", sa.String(255), nullable=False),
        sa.Column("start_event_id", sa.String(255), nullable=False),
    )
    op.create_table(
        "evaluation_result",
        sa.Column("id", sa.Integer(), primary_key=True),
        _evaluation_fk(),
        sa.Column("question_key", sa.String(32), nullable=False),
        sa.Column("answer_id", sa.String(32), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("spoiled", sa.Integer(), nullable=False),
    )
    op.create_table(
        "idea",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "theme_id", sa.Integer(), sa.ForeignKey("theme.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("text", sa.String(1000), nullable=False),
        sa.Column("author", sa.String(255), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("idea")
    op.drop_table("evaluation_result")
    op.drop_table("evaluation_poll")
    op.drop_table("evaluation")
