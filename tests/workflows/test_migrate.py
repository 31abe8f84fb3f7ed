"""Migrations, on SQLite and PostgreSQL: the models and the migrated schema agree; opening a migrated
database again changes nothing; older databases are adopted; several processes creating and writing the
same database at once lose nothing."""

from __future__ import annotations

import multiprocessing
import re
from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, inspect
from sqlmodel import SQLModel

from workflows.memory import Workflow, WorkflowStore
from workflows.migrate import HEAD_REVISION, alembic_config, current_revision, migrate
from workflows.retrieval import retrieve
from workflows.store import RunStore, StepRecord, make_engine

WRITERS = 4
ROWS_EACH = 25
# Full-text search structures the migrations add beside the models: FTS5 tables, a tsvector column.
SEARCH_NAMES = ("workflows_fts", "search_vector", "ix_workflows_search_vector")
WRITE_STATEMENT = re.compile(r"\s*(CREATE|ALTER|DROP|INSERT|UPDATE|DELETE)\b", re.IGNORECASE)

pytestmark = pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


def test_migrated_schema_matches_the_models(database_url: str) -> None:
    store = WorkflowStore(database_url)
    with store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": lambda name, kind, parent: not (name or "").startswith(SEARCH_NAMES),
            },
        )
        assert compare_metadata(context, SQLModel.metadata) == []
        assert current_revision(connection) == HEAD_REVISION
    # migrate() recognises an up-to-date database by HEAD_REVISION, without loading Alembic's scripts.
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == HEAD_REVISION


def test_opening_a_migrated_database_again_neither_writes_nor_locks(database_url: str) -> None:
    WorkflowStore(database_url).start_run("kept", sites=[], model="m", policy="allow")
    engine = make_engine(database_url)
    statements: list[str] = []
    event.listen(
        engine, "before_cursor_execute", lambda _c, _cursor, statement, *_: statements.append(statement)
    )
    migrate(engine)
    writes_or_locks = [s for s in statements if WRITE_STATEMENT.match(s) or "advisory_lock" in s]
    assert statements and not writes_or_locks, statements
    assert [run.task for run in RunStore(database_url).list_runs()] == ["kept"]


def test_a_database_made_before_migrations_is_adopted_and_upgraded(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:  # the tables as the first release made them, with no migration record
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.exec_driver_sql("DROP TABLE alembic_version")
        connection.exec_driver_sql(
            "INSERT INTO runs (id, task, sites, model, policy, status, steps, prompt_tokens, "
            "completion_tokens, started_at) VALUES ('r1', 'old task', '[]', 'm', 'allow', "
            "'finished', 0, 0, 0, '2026-01-01 00:00:00')"
        )
    store = WorkflowStore(database_url)
    assert (store.get_run("r1").task, store.get_run("r1").sandbox) == ("old task", "none")
    assert {"workflows", "workflow_uses"} <= set(inspect(store.engine).get_table_names())
    added = store.add_workflow(
        Workflow(
            name="close_issue",
            site="demo",
            intent_template="Close issue #{{number}}.",
            body="def close_issue(): pass",
            fingerprint="f",
        )
    )
    assert [w.id for w in retrieve(store, "close issue 3", ["demo"])] == [added.id]  # the search index works


def test_times_stored_before_0003_read_back_as_utc(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.begin() as connection:
        config = alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, "0002")
        connection.exec_driver_sql(
            "INSERT INTO runs (id, task, sites, model, policy, status, steps, prompt_tokens, "
            "completion_tokens, started_at) VALUES ('r1', 'old task', '[]', 'm', 'allow', "
            "'finished', 0, 0, 0, '2026-01-01 12:00:00')"
        )
    assert WorkflowStore(database_url).get_run("r1").started_at == datetime(2026, 1, 1, 12, tzinfo=UTC)


def _writer(url: str, worker: int) -> None:
    store = WorkflowStore(url)
    own = store.add_workflow(Workflow(name=f"w{worker}", site="demo", body="def w(): pass", fingerprint="f"))
    shared = store.get_workflow("shared")
    for index in range(ROWS_EACH):
        run = store.start_run(f"task {worker}.{index}", sites=["demo"], model="m", policy="allow")
        store.add_step(run.id, StepRecord(index=0, code="x = 1"))
        store.finish_use(
            store.start_use(own.id, via="kernel", arguments={"i": index}, run_id=run.id), outcome="success"
        )
        store.finish_use(
            store.start_use(shared.id, via="kernel", arguments={}, run_id=run.id),
            outcome="success" if index % 2 == 0 else "failure",
        )


@pytest.mark.slow
def test_four_processes_writing_at_once_lose_no_rows(database_url: str) -> None:
    url = database_url
    store = WorkflowStore(url)
    store.add_workflow(Workflow(name="shared", site="demo", body="def w(): pass", fingerprint="f"))
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(url, n)) for n in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert len(RunStore(url).list_runs(limit=1000)) == WRITERS * ROWS_EACH
    with store.engine.connect() as database:
        assert database.exec_driver_sql("SELECT COUNT(*) FROM steps").scalar() == WRITERS * ROWS_EACH
        assert (
            database.exec_driver_sql("SELECT COUNT(*) FROM workflow_uses").scalar() == 2 * WRITERS * ROWS_EACH
        )
        [[successes, failures]] = database.exec_driver_sql(
            "SELECT success_count, failure_count FROM workflows WHERE name = 'shared'"
        ).fetchall()
        own_counts = database.exec_driver_sql(
            "SELECT success_count FROM workflows WHERE name != 'shared'"
        ).fetchall()
    assert (successes, failures) == (WRITERS * ((ROWS_EACH + 1) // 2), WRITERS * (ROWS_EACH // 2))
    assert [tuple(row) for row in own_counts] == [(ROWS_EACH,)] * WRITERS


def _open_and_add(url: str, worker: int) -> None:
    WorkflowStore(url).add_workflow(
        Workflow(name=f"first{worker}", site="demo", body="def w(): pass", fingerprint="f")
    )


@pytest.mark.slow
def test_four_processes_creating_the_database_at_once_migrate_it_once(database_url: str) -> None:
    url = database_url
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_open_and_add, args=(url, n)) for n in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert len(WorkflowStore(url).list_workflows()) == WRITERS
