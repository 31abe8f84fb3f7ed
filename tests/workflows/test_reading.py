"""The store read without the ORM (`workflows.reading`): the same rows, fields and JSON as the models."""

from __future__ import annotations

import json
from dataclasses import fields
from pathlib import Path

from sandbox import CallRecord
from workflows.memory import Workflow, WorkflowStore
from workflows.reading import RunEntry, StepEntry, WorkflowEntry, open_reader
from workflows.store import RunRow, StepRecord, StepRow


def test_each_record_reads_every_column_of_its_model() -> None:
    for entry, model in ((RunEntry, RunRow), (StepEntry, StepRow), (WorkflowEntry, Workflow)):
        assert [f.name for f in fields(entry)] == list(model.model_fields), entry


def stored(tmp_path: Path) -> tuple[str, WorkflowStore]:
    url = f"sqlite:///{tmp_path / 'hybrid.db'}"
    store = WorkflowStore(url)
    for number in range(3):
        run = store.start_run(f"tâsk {number}", sites=["demo"], model="m", policy="allow")
        store.add_step(
            run.id,
            StepRecord(index=0, code="print(1)", observation="1", cost=1e-05, ok=number != 1),
            [
                CallRecord(
                    capability="api",
                    target="demo.get_issue",
                    args=[number],
                    kwargs={"owner": "é"},
                    writes=True,
                    domain=None,
                    status="ok",
                    result="{}",
                    error=None,
                    started_at=1.5,
                    latency=0.012,
                )
            ],
        )
        store.end_run(run.id, "finished", answer="bob")
    for version in (1, 2):
        workflow = Workflow(
            name="who_is_assigned",
            site="demo",
            body="def who_is_assigned(number: int):\n    return api.demo.get_issue(number)\n",
            fingerprint="f",
            parameters=[{"name": "number", "type": "int"}],
            source_runs=[run.id],
        )
        if version == 1:
            first = store.add_workflow(workflow)
        else:
            store.add_version(first, workflow)
    return url, store


def test_runs_steps_calls_and_workflows_read_as_the_store_reads_them(tmp_path: Path) -> None:
    url, store = stored(tmp_path)
    reader = open_reader(url)
    assert reader is not None
    with reader:
        runs = reader.list_runs(2)
        assert [r.id for r in runs] == [r.id for r in store.list_runs(2)]
        for light in reader.list_runs():
            heavy = store.get_run(light.id[:5])
            assert reader.get_run(light.id[:5]).id == light.id
            assert json.loads(light.model_dump_json()) == json.loads(heavy.model_dump_json())
            steps, heavy_steps = reader.steps_of(light.id), store.steps_of(light.id)
            assert [json.loads(s.model_dump_json()) for s in steps] == [
                json.loads(s.model_dump_json()) for s in heavy_steps
            ]
            assert reader.calls_of(steps[0].id) == store.calls_of(heavy_steps[0].id)
        for all_versions in (False, True):
            light_workflows = reader.list_workflows(all_versions=all_versions)
            heavy_workflows = store.list_workflows(all_versions=all_versions)
            assert [w.export() for w in light_workflows] == [w.export() for w in heavy_workflows]
            assert [w.signature for w in light_workflows] == [w.signature for w in heavy_workflows]


def test_a_database_the_reader_cannot_read_as_it_is_goes_to_the_store(tmp_path: Path) -> None:
    assert open_reader(f"sqlite:///{tmp_path / 'none.db'}") is None  # not made yet: the store makes it
    assert open_reader("postgresql://db.internal/hybrid") is None
    url, _ = stored(tmp_path)
    import sqlite3

    with sqlite3.connect(tmp_path / "hybrid.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0005'")
    assert open_reader(url) is None  # an older schema: the store upgrades it
