"""Indexes for thousands of themes: themes by Z2, steps by date, and on PostgreSQL the
folded name for prefix lookups under any collation (issue 15).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_theme_z2_name", "theme", ["z2", "name"])
    op.create_index("ix_step_due", "step", ["due"])
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            "ix_theme_name_key_pattern",
            "theme",
            ["name_key"],
            postgresql_ops={"name_key": "text_pattern_ops"},
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index("ix_theme_name_key_pattern", table_name="theme")
    op.drop_index("ix_step_due", table_name="step")
    op.drop_index("ix_theme_z2_name", table_name="theme")
