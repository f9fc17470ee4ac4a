"""The participation window as a movable part of step 2, and step 7 as the concept says
(issue 12).

- `theme.participation_start` / `theme.participation_end`: the window of the digital
  participation when it was moved by hand (`!zt termin <Thema> beteiligung …`); NULL
  means "as the process says, from Z2" (it then follows a moved Z2).
- Stored copies of the shipped process: the evaluation step (role "evaluation", anchored
  one week after the council decision step) becomes "five weeks after Z2, never before a
  week after the council decision" (`after_step`), and its reminders go to the
  Fachbereich too. A city's own process that anchors step 7 differently keeps its copy.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from bot.store.migrations.process_copies import rewrite_process_copies

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def _council_key(process: dict) -> str | None:
    found = [s for s in process.get("steps", []) if s.get("role") == "council_decision"]
    return found[0].get("key") if found else None


def step_7_after_council(process: dict) -> dict:
    council = _council_key(process)
    for step in process.get("steps", []):
        if (
            step.get("role") == "evaluation"
            and council is not None
            and step.get("anchor") == council
            and step.get("offset_weeks") == 1
            and not step.get("after_step")
        ):
            step["anchor"] = "z2"
            step["offset_weeks"] = 5
            step["after_step"] = council
            step["after_weeks"] = 1
            leads = list(step.get("leads", []))
            if "fachbereich" not in leads:
                step["leads"] = [*leads, "fachbereich"]
    return process


def step_7_anchored_again(process: dict) -> dict:
    for step in process.get("steps", []):
        after = step.pop("after_step", None)
        weeks = step.pop("after_weeks", None)
        if step.get("role") == "evaluation" and after is not None:
            step["anchor"] = after
            step["offset_weeks"] = weeks if weeks is not None else 1
            step["leads"] = [lead for lead in step.get("leads", []) if lead != "fachbereich"] or [
                "koordination"
            ]
    return process


def upgrade() -> None:
    with op.batch_alter_table("theme") as batch:
        batch.add_column(sa.Column("participation_start", sa.Date(), nullable=True))
        batch.add_column(sa.Column("participation_end", sa.Date(), nullable=True))
    rewrite_process_copies(step_7_after_council)


def downgrade() -> None:
    rewrite_process_copies(step_7_anchored_again)
    with op.batch_alter_table("theme") as batch:
        batch.drop_column("participation_end")
        batch.drop_column("participation_start")
