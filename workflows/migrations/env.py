"""Alembic environment for the hybrid memory. It runs only programmatically (see workflows.migrate),
on the connection `migrate()` hands over, so no alembic.ini or database URL is needed here."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
