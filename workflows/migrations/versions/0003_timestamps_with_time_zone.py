"""PostgreSQL: times as `timestamp with time zone`, as the models declare them (aware UTC datetimes).

0001 and 0002 made them `timestamp` without a zone, so PostgreSQL converted each aware value to the
server's time zone and dropped the zone: on a server not set to UTC the stored times were shifted. The
values already stored are taken as UTC. SQLite stores times as text; nothing changes there.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TIME_COLUMNS = {
    "runs": ("started_at", "ended_at"),
    "steps": ("created_at",),
    "workflows": ("created_at", "updated_at", "verified_at"),
    "workflow_uses": ("started_at", "ended_at"),
}


def upgrade() -> None:
    _retype(sa.DateTime(timezone=True), "AT TIME ZONE 'UTC'")


def downgrade() -> None:
    _retype(sa.DateTime(), "AT TIME ZONE 'UTC'")


def _retype(new_type: sa.DateTime, conversion: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in TIME_COLUMNS.items():
        for column in columns:
            op.alter_column(table, column, type_=new_type, postgresql_using=f"{column} {conversion}")
