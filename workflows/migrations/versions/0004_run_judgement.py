"""Runs: the judge's verdict on a finished run (success or failure) and its reason.

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
    # A database made before migrations existed is adopted with its tables as the models made them, which
    # may already have these columns.
    present = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("runs")}
    with op.batch_alter_table("runs") as batch:
        if "judgement" not in present:
            batch.add_column(sa.Column("judgement", sa.String(), nullable=True))
        if "judgement_reason" not in present:
            batch.add_column(sa.Column("judgement_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("judgement_reason")
        batch.drop_column("judgement")
