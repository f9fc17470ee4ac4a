"""The council's own data: meetings from the council information system (OParl), how the
reads went, and each theme's Beschlussvorlage; the role "draft_resolution" in stored
template copies.

Themes keep a copy of the process they were created with. Copies of the shipped process
get the new role where it fits: the deadline step with key "5" is the Beschlussvorlage
(its status line links to the council's paper). A city's own process without that key
keeps its copy unchanged (its process file names the role itself).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.process_copies import rewrite_process_copies

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

ROLE = "draft_resolution"


def with_role(process: dict) -> dict:
    steps = process.get("steps", [])
    if any(step.get("role") == ROLE for step in steps):
        return process
    for step in steps:
        if step.get("key") == "5" and step.get("kind") == "deadline" and not step.get("role"):
            step["role"] = ROLE
            break
    return process


def without_role(process: dict) -> dict:
    for step in process.get("steps", []):
        if step.get("role") == ROLE:
            step.pop("role")
    return process


def upgrade() -> None:
    op.create_table(
        "oparl_meeting",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("key", sa.String(1000), nullable=False, unique=True),
        sa.Column("name", sa.String(500), nullable=True),
        sa.Column("start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
    )
    op.create_table(
        "council_sync",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("source", sa.String(2000), nullable=False),
        sa.Column("body", sa.String(500), nullable=True),
        sa.Column("organization", sa.String(500), nullable=True),
        sa.Column("last_success", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failing_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failure", sa.String(1000), nullable=True),
    )
    op.create_table(
        "theme_paper",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "theme_id",
            sa.Integer(),
            sa.ForeignKey("theme.id", ondelete="CASCADE"),
            nullable=False,
            unique=True,
        ),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("link", sa.String(1000), nullable=True),
        sa.Column("consultations", sa.Text(), nullable=False),
        sa.Column("decided", sa.Boolean(), nullable=False),
        sa.Column("result", sa.String(500), nullable=True),
        sa.Column("result_day", sa.Date(), nullable=True),
        sa.Column("pending_day", sa.Date(), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("applied", sa.Boolean(), nullable=False),
        sa.Column("linked_by", sa.String(255), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
    )
    rewrite_process_copies(with_role)


def downgrade() -> None:
    rewrite_process_copies(without_role)
    op.drop_table("theme_paper")
    op.drop_table("council_sync")
    op.drop_table("oparl_meeting")
