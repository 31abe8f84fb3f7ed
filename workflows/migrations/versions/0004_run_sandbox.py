"""Runs record how their code actions were isolated ("bubblewrap", or "none" when the user opted out).

Runs recorded before isolation existed ran unisolated, so they read "none".

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.add_column(sa.Column("sandbox", sa.String(), nullable=False, server_default="none"))


def downgrade() -> None:
    with op.batch_alter_table("runs") as runs:
        runs.drop_column("sandbox")
