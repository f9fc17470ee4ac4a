"""Step roles in the template copies themes keep: the code asks for a role (Z2, the
council's decision, the evaluation, the participation window), not for a step key.

Themes keep a copy of the process they were created with. Copies made before roles
existed get them where they match the shipped process: the step with key "4" is Z2, the
step that snaps to the council is the decision, the continuous step "7" is the
evaluation, and the milestones "beteiligung-start"/"-ende" bound the participation
window. A city's own process without these keys keeps its copies unchanged (its process
file names the roles itself).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from bot.store.migrations.process_copies import rewrite_process_copies

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _step_role(step: dict) -> str | None:
    if step.get("key") == "4" and step.get("kind") == "meeting" and step.get("offset_weeks") == 0:
        return "z2"
    if step.get("snap") == "council":
        return "council_decision"
    if step.get("key") == "7" and step.get("kind") == "continuous":
        return "evaluation"
    return None


MILESTONE_ROLES = {
    "beteiligung-start": "participation_start",
    "beteiligung-ende": "participation_end",
}


def with_roles(process: dict) -> dict:
    """The copy with the roles the shipped process gives, each role at most once."""
    taken = {s.get("role") for s in process.get("steps", [])} - {None}
    for step in process.get("steps", []):
        role = _step_role(step)
        if step.get("role") is None and role is not None and role not in taken:
            step["role"] = role
            taken.add(role)
        for milestone in step.get("milestones", []):
            role = MILESTONE_ROLES.get(milestone.get("key", ""))
            if milestone.get("role") is None and role is not None and role not in taken:
                milestone["role"] = role
                taken.add(role)
    return process


def without_roles(process: dict) -> dict:
    for step in process.get("steps", []):
        step.pop("role", None)
        for milestone in step.get("milestones", []):
            milestone.pop("role", None)
    return process


def upgrade() -> None:
    rewrite_process_copies(with_roles)


def downgrade() -> None:
    rewrite_process_copies(without_roles)
