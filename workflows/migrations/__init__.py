"""Alembic migrations of the memory, applied by workflows.migrate."""
