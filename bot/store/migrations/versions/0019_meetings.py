"""A meeting's time and place (`!zt termin … 14:00–16:00`, `!zt ort`: `step.starts_at`,
`step.ends_at`, `step.place`), and the steps' own advance notices (`lead_days`) in the
process copies themes keep, where a step matches the shipped process: Z1 and Z2 four
weeks ("Einladung verschicken") and one week ahead, step 3 the material to the
participants two weeks before Z2 (issue 21). A city's own steps keep their copies.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.process_copies import rewrite_process_copies

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# The shipped process's notices as of this revision (written out: the shipped file may
# change later, this migration must not).
_INVITATION = [
    {"days": 28, "text": "Einladung verschicken", "before": None},
    {"days": 7, "text": "", "before": None},
]
_MATERIAL = [
    {
        "days": 14,
        "text": "Unterlagen an die Teilnehmenden von Z2 verschicken (2 Wochen vor der Sitzung)",
        "before": "z2",
    }
]


def _shipped_notices(step: dict) -> list[dict] | None:
    shape = (step.get("key"), step.get("kind"), step.get("offset_weeks"))
    if step.get("role") == "z2" or shape == ("2", "meeting", -4):
        return _INVITATION
    if shape == ("3", "deadline", -3):
        return _MATERIAL
    return None


def with_notices(process: dict) -> dict:
    """The shipped lead times on the shipped steps that have none of their own."""
    for step in process.get("steps", []):
        notices = _shipped_notices(step)
        if notices is not None and step.get("lead_days") is None:
            step["lead_days"] = [dict(notice) for notice in notices]
    return process


def without_notices(process: dict) -> dict:
    for step in process.get("steps", []):
        step.pop("lead_days", None)
    return process


def upgrade() -> None:
    with op.batch_alter_table("step") as batch:
        batch.add_column(sa.Column("starts_at", sa.Time(), nullable=True))
        batch.add_column(sa.Column("ends_at", sa.Time(), nullable=True))
        batch.add_column(sa.Column("place", sa.String(length=200), nullable=True))
    rewrite_process_copies(with_notices, digest=True)


def downgrade() -> None:
    rewrite_process_copies(without_notices, digest=True)
    with op.batch_alter_table("step") as batch:
        batch.drop_column("place")
        batch.drop_column("ends_at")
        batch.drop_column("starts_at")
