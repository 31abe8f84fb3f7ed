"""Steps and runs say whether their tokens (and cost) include an estimate: an attempt that broke off
mid-stream before its provider reported its usage is counted as characters / 4.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("steps", "runs"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("usage_estimated", sa.Boolean(), nullable=False, server_default=sa.false())
            )


def downgrade() -> None:
    for table in ("runs", "steps"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("usage_estimated")
