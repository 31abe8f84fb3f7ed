"""Steps keep every field of a step record (used_browser, dropped_blocks, no_code, cached_tokens); calls
keep when they started.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("steps") as batch:
        batch.add_column(sa.Column("used_browser", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("dropped_blocks", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("no_code", sa.String(), nullable=True))
        batch.add_column(sa.Column("cached_tokens", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("calls") as batch:
        batch.add_column(sa.Column("started_at", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("calls") as batch:
        batch.drop_column("started_at")
    with op.batch_alter_table("steps") as batch:
        batch.drop_column("cached_tokens")
        batch.drop_column("no_code")
        batch.drop_column("dropped_blocks")
        batch.drop_column("used_browser")
