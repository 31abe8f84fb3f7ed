"""Runs: the judge's verdict on a finished run (success or failure) and its reason.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("judgement", sa.String(), nullable=True))
        batch.add_column(sa.Column("judgement_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("judgement_reason")
        batch.drop_column("judgement")
