"""Migrations: the models and the migrated schema agree; older databases are adopted; several processes
opening and writing the same SQLite file at once lose nothing."""

from __future__ import annotations

import multiprocessing
import sqlite3

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

from workflows.memory import Workflow, WorkflowStore
from workflows.migrate import current_revision, head_revision
from workflows.store import CapabilityCall, Run, RunStore, Step

WRITERS = 4
ROWS_EACH = 25


def test_migrated_schema_matches_the_models(tmp_path) -> None:
    store = WorkflowStore(f"sqlite:///{tmp_path / 'h.db'}")
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_name": lambda name, kind, parent: not (kind == "table" and name.startswith("workflows_fts")),
        })
        assert compare_metadata(context, SQLModel.metadata) == []
        assert current_revision(connection) == head_revision()


def test_a_database_made_before_migrations_is_adopted_and_upgraded(tmp_path) -> None:
    path = tmp_path / "old.db"
    engine = create_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine, tables=[Run.__table__, Step.__table__, CapabilityCall.__table__])  # as before
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO runs (id, task, sites, model, policy, status, steps, prompt_tokens, "
                                   "completion_tokens, started_at) VALUES ('r1', 'old task', '[]', 'm', 'allow', "
                                   "'finished', 0, 0, 0, '2026-01-01 00:00:00')")
    store = WorkflowStore(f"sqlite:///{path}")
    assert store.get_run("r1").task == "old task"
    assert {"workflows", "workflow_uses", "workflows_fts"} <= set(inspect(store.engine).get_table_names())


def _writer(url: str, worker: int) -> None:
    store = WorkflowStore(url)
    own = store.add_workflow(Workflow(name=f"w{worker}", site="demo", body="def w(): pass", fingerprint="f"))
    shared = store.get_workflow("shared")
    for index in range(ROWS_EACH):
        run = store.start_run(f"task {worker}.{index}", sites=["demo"], model="m", policy="allow")
        store.add_step(Step(run_id=run.id, index=0, code="x = 1"))
        store.finish_use(store.start_use(own.id, via="kernel", arguments={"i": index}, run_id=run.id), ok=True)
        store.finish_use(store.start_use(shared.id, via="kernel", arguments={}, run_id=run.id), ok=index % 2 == 0)


def test_four_processes_writing_at_once_lose_no_rows(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    WorkflowStore(url).add_workflow(Workflow(name="shared", site="demo", body="def w(): pass", fingerprint="f"))
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_writer, args=(url, n)) for n in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert len(RunStore(url).list_runs(limit=1000)) == WRITERS * ROWS_EACH
    database = sqlite3.connect(tmp_path / "shared.db")
    assert database.execute("SELECT COUNT(*) FROM steps").fetchone()[0] == WRITERS * ROWS_EACH
    assert database.execute("SELECT COUNT(*) FROM workflow_uses").fetchone()[0] == 2 * WRITERS * ROWS_EACH
    [[successes, failures]] = database.execute(
        "SELECT success_count, failure_count FROM workflows WHERE name = 'shared'").fetchall()
    assert (successes, failures) == (WRITERS * ((ROWS_EACH + 1) // 2), WRITERS * (ROWS_EACH // 2))
    own_counts = database.execute("SELECT success_count FROM workflows WHERE name != 'shared'").fetchall()
    assert own_counts == [(ROWS_EACH,)] * WRITERS


def _open_and_add(url: str, worker: int) -> None:
    WorkflowStore(url).add_workflow(Workflow(name=f"first{worker}", site="demo", body="def w(): pass",
                                             fingerprint="f"))


def test_four_processes_creating_the_database_at_once_migrate_it_once(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_open_and_add, args=(url, n)) for n in range(WRITERS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
        assert worker.exitcode == 0
    assert len(WorkflowStore(url).list_workflows()) == WRITERS
