"""A closed participants' evaluation a coordinator publishes on the public page
(issue 24 point 3, `!zt öffentlich <Thema> auswertung an`): its aggregated counts only,
under the evaluation's own threshold. A column with a default: stored evaluations stay
internal.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN: SQLite's batch mode would copy the table, and the copy's drop
    # would cascade to the results.
    op.add_column(
        "evaluation",
        sa.Column("public", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    op.drop_column("evaluation", "public")
