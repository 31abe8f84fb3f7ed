"""The operations each successful run called on each site, with its task's words: search ranks them first
for a later task worded alike (`WorkflowStore.learned_operations`, `apis.search(..., learned=...)`).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "learned_operations",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("task", sa.Text(), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=False),
        sa.Column("run_id", sa.String(), sa.ForeignKey("runs.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("run_id", "site", name="uq_learned_operations_run_site"),
    )
    op.create_index("ix_learned_operations_site", "learned_operations", ["site"])


def downgrade() -> None:
    op.drop_index("ix_learned_operations_site", "learned_operations")
    op.drop_table("learned_operations")
