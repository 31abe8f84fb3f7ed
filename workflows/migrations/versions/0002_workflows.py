"""Workflows, their uses, and full-text search over workflows.

SQLite: an FTS5 index kept in step with the table by triggers. PostgreSQL: a generated tsvector
column with a GIN index.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

SQLITE_SEARCH = [
    (
        "CREATE VIRTUAL TABLE workflows_fts USING fts5(name, description, intent_template, site, "
        "content='workflows', content_rowid='id', tokenize='porter unicode61')"
    ),
    (
        "CREATE TRIGGER workflows_fts_insert AFTER INSERT ON workflows BEGIN "
        "INSERT INTO workflows_fts(rowid, name, description, intent_template, site) "
        "VALUES (new.id, new.name, new.description, new.intent_template, new.site); END"
    ),
    (
        "CREATE TRIGGER workflows_fts_delete AFTER DELETE ON workflows BEGIN "
        "INSERT INTO workflows_fts(workflows_fts, rowid, name, description, intent_template, site) "
        "VALUES ('delete', old.id, old.name, old.description, old.intent_template, old.site); END"
    ),
    (
        "CREATE TRIGGER workflows_fts_update AFTER UPDATE OF name, description, intent_template, site ON "
        "workflows BEGIN INSERT INTO workflows_fts(workflows_fts, rowid, name, description, intent_template, "
        "site) VALUES ('delete', old.id, old.name, old.description, old.intent_template, old.site); INSERT "
        "INTO workflows_fts(rowid, name, description, intent_template, site) VALUES (new.id, new.name, "
        "new.description, new.intent_template, new.site); END"
    ),
]
POSTGRES_SEARCH = [
    (
        "ALTER TABLE workflows ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english', replace(name, '_', ' ')), 'A') || "
        "setweight(to_tsvector('english', intent_template), 'A') || "
        "setweight(to_tsvector('english', description), 'B') || "
        "setweight(to_tsvector('simple', site), 'C')) STORED"
    ),
    "CREATE INDEX ix_workflows_search_vector ON workflows USING GIN (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(), nullable=False),
        sa.Column("kind", sa.String(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("intent_template", sa.Text(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("operations", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(), nullable=False),
        sa.Column("writes", sa.Boolean(), nullable=False),
        sa.Column("source_runs", sa.JSON(), nullable=False),
        sa.Column("source_arguments", sa.JSON(), nullable=False),
        sa.Column("expected_answer", sa.Text()),
        sa.Column("verification", sa.String()),
        sa.Column("verification_note", sa.Text()),
        sa.Column("success_count", sa.Integer(), nullable=False),
        sa.Column("failure_count", sa.Integer(), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("verified_at", sa.DateTime()),
        sa.UniqueConstraint("name", "version", name="uq_workflows_name_version"),
    )
    op.create_index("ix_workflows_name", "workflows", ["name"])
    op.create_index("ix_workflows_site", "workflows", ["site"])
    op.create_index("ix_workflows_status", "workflows", ["status"])
    op.create_index("ix_workflows_fingerprint", "workflows", ["fingerprint"])
    op.create_table(
        "workflow_uses",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("workflow_id", sa.Integer(), sa.ForeignKey("workflows.id"), nullable=False),
        sa.Column("run_id", sa.String(), sa.ForeignKey("runs.id")),
        sa.Column("step_index", sa.Integer()),
        sa.Column("via", sa.String(), nullable=False),
        sa.Column("arguments", sa.JSON(), nullable=False),
        sa.Column("outcome", sa.String(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime()),
    )
    op.create_index("ix_workflow_uses_workflow_id", "workflow_uses", ["workflow_id"])
    op.create_index("ix_workflow_uses_run_id", "workflow_uses", ["run_id"])
    dialect = op.get_bind().dialect.name
    for statement in (
        SQLITE_SEARCH if dialect == "sqlite" else POSTGRES_SEARCH if dialect == "postgresql" else []
    ):
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE workflows_fts")
    op.drop_table("workflow_uses")
    op.drop_table("workflows")
