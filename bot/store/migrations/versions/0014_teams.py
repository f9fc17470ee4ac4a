"""Real teams: a theme's leading department and contact, its Kernteam, and further team
rooms besides the first (`theme.team_room`). And the concept's minimum distances
("Zeitabstände (min.)") in the process copies themes keep, where a step matches the
shipped process (same key, kind and offset); a city's own steps keep their copies.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.process_copies import rewrite_process_copies

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

GAP_FIELDS = ("min_weeks_before", "min_weeks_after", "gap_to")
# key: (kind, offset_weeks) of the shipped step, and its minimum distance.
SHIPPED_GAPS = {
    "1": (("phase", -10), {"min_weeks_before": 6, "gap_to": "2"}),
    "2": (("meeting", -4), {"min_weeks_before": 4}),
    "3": (("deadline", -3), {"min_weeks_before": 1}),
    "3a": (("meeting", -2), {"min_weeks_before": 1}),
    "5": (("deadline", 2), {"min_weeks_after": 2}),
    "6": (("meeting", 4), {"min_weeks_after": 4}),
}


def with_gaps(process: dict) -> dict:
    """The copy with the shipped process's minimum distances on the steps that match it."""
    keys = {step.get("key") for step in process.get("steps", [])}
    for step in process.get("steps", []):
        shipped = SHIPPED_GAPS.get(step.get("key", ""))
        if shipped is None or any(step.get(field) is not None for field in GAP_FIELDS[:2]):
            continue
        (kind, offset), gaps = shipped
        if (step.get("kind"), step.get("offset_weeks")) != (kind, offset):
            continue
        if gaps.get("gap_to", "z2") != "z2" and gaps["gap_to"] not in keys:
            continue
        step.update({"min_weeks_before": None, "min_weeks_after": None, "gap_to": "z2"} | gaps)
    return process


def without_gaps(process: dict) -> dict:
    for step in process.get("steps", []):
        for field in GAP_FIELDS:
            step.pop(field, None)
    return process


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
    rewrite_process_copies(with_gaps)


def downgrade() -> None:
    rewrite_process_copies(without_gaps)
    op.drop_table("core_team_member")
    op.drop_table("team_room")
    with op.batch_alter_table("theme") as batch:
        batch.drop_column("contact")
        batch.drop_column("department")
