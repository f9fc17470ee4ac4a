"""The Z2 participants a coordinator names (`!zt teilnehmende`), evaluations that ask
them without a Z2 room (`evaluation.room_id` may be empty), and the names people use for
steps 2 and 4 (`Z1`, `Z2`) in the process copies themes keep, where a step matches the
shipped process (Z1: the meeting with key "2" four weeks before Z2; Z2: the step with role
"z2"). A city's own steps keep their copies.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.process_copies import rewrite_process_copies

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def _shipped_alias(step: dict) -> str | None:
    if step.get("role") == "z2":
        return "Z2"
    if (step.get("key"), step.get("kind"), step.get("offset_weeks")) == ("2", "meeting", -4):
        return "Z1"
    return None


def with_aliases(process: dict) -> dict:
    """Z1 and Z2 as names of the shipped steps, where no step is called so already."""
    steps = process.get("steps", [])
    taken = {s.get("key", "").casefold() for s in steps}
    taken |= {a.casefold() for s in steps for a in s.get("aliases", [])}
    for step in steps:
        alias = _shipped_alias(step)
        if alias is not None and alias.casefold() not in taken and not step.get("aliases"):
            step["aliases"] = [alias]
            taken.add(alias.casefold())
    return process


def without_aliases(process: dict) -> dict:
    for step in process.get("steps", []):
        step.pop("aliases", None)
    return process


def upgrade() -> None:
    op.create_table(
        "theme_participant",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "theme_id",
            sa.Integer(),
            sa.ForeignKey("theme.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("user_id", sa.String(255), nullable=False),
        sa.UniqueConstraint("theme_id", "user_id", name="uq_theme_participant"),
    )
    with op.batch_alter_table("evaluation") as batch:
        batch.alter_column("room_id", existing_type=sa.String(255), nullable=True)
    rewrite_process_copies(with_aliases, digest=True)


def downgrade() -> None:
    rewrite_process_copies(without_aliases, digest=True)
    op.execute("UPDATE evaluation SET room_id = '' WHERE room_id IS NULL")
    with op.batch_alter_table("evaluation") as batch:
        batch.alter_column("room_id", existing_type=sa.String(255), nullable=False)
    op.drop_table("theme_participant")
