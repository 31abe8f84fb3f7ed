"""The fast path's store without the ORM (`workflows.lightstore`): what it writes reads back through the
ORM's store exactly as what the ORM writes (runs, steps, calls, workflow uses and counts), and it finds the
same workflows for a task as `workflows.retrieval`."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from sandbox import CallRecord
from workflows.fastpath import match_fast_path
from workflows.lightstore import STEP_DEFAULTS, FastPathStore, LightStore
from workflows.memory import Workflow, WorkflowStore
from workflows.retrieval import retrieve
from workflows.status import DEPRECATE_AFTER_FAILURES
from workflows.store import StepRecord

CALL = CallRecord(
    capability="api",
    target="demo.get_issue",
    args=[5],
    kwargs={"owner": "é", "labels": ["a", "b"]},
    writes=True,
    domain="127.0.0.1",
    status="ok",
    result='{"assignee": "bob"}',
    error=None,
    started_at=1.5,
    latency=0.0123456,
)
STEP: dict[str, Any] = {
    "index": 0,
    "thought": "Fast path: the task matches it.",
    "code": "finish(wf.who_is_assigned(number=5))",
    "observation": "bob",
    "full_output": "bob\n",
    "ok": True,
    "execute_seconds": 0.25,
}


def test_a_step_left_out_field_is_what_the_step_record_gives_it() -> None:
    defaults = {name: field.default for name, field in StepRecord.model_fields.items() if name != "index"}
    assert defaults == STEP_DEFAULTS


@pytest.fixture
def stores(tmp_path: Path) -> tuple[WorkflowStore, LightStore]:
    url = f"sqlite:///{tmp_path / 'hybrid.db'}"
    orm = WorkflowStore(url)
    for name, template in (
        ("who_is_assigned", "Who is assigned to issue #{{number}}?"),
        ("close_issue", "Close issue #{{number}} in {{owner}}/{{project}}."),
        ("list_labels", "List the labels of {{owner}}/{{project}}."),
    ):
        orm.add_workflow(
            Workflow(
                name=name,
                site="demo",
                status="verified",
                intent_template=template,
                description=f"{name.replace('_', ' ')} on the tracker",
                body=f"def {name}(number: int):\n    return api.demo.get_issue(number)\n",
                fingerprint=name,
                parameters=[{"name": "number", "type": "int"}],
            )
        )
    light = LightStore.open(url)
    assert light is not None
    return orm, light


def record(store: FastPathStore, workflow_id: int, outcomes: list[str]) -> str:
    """A fast-path run in `store`, as `run_fast_path` records it; its uses end with `outcomes`."""
    run = store.start_run("Who is assigned to issue #5?", sites=["demo"], model="fast-path", policy="allow")
    for outcome in outcomes:
        use = store.start_use(
            workflow_id, via="fast-path", arguments={"number": 5}, run_id=run.id, step_index=0
        )
        store.finish_use(use, outcome=outcome, error=None if outcome == "success" else "it failed")
    store.add_step_fields(run.id, STEP, [CALL, CALL])
    store.add_step_fields(
        run.id, {**STEP, "index": 1, "cost": 0.5, "prompt_tokens": 3, "usage_estimated": True}, []
    )
    store.end_run(run.id, "finished", answer="bob")
    return run.id


def as_written(orm: WorkflowStore, run_id: str) -> dict[str, Any]:
    """The run, its steps, calls and uses as the ORM reads them, without ids and times."""
    document = orm.run_document(run_id)
    for key in ("id", "started_at", "ended_at"):
        assert document.pop(key) is not None
    for step in document["steps"]:
        assert step.pop("created_at") is not None
    uses = [
        use.model_dump(exclude={"id", "run_id", "started_at", "ended_at"})
        for use in orm.uses_of(1)
        if use.run_id == run_id and use.ended_at is not None
    ]
    return {**document, "uses": uses}


def test_a_run_written_without_the_orm_reads_back_as_one_written_with_it(
    stores: tuple[WorkflowStore, LightStore],
) -> None:
    orm, light = stores
    by_orm = as_written(orm, record(orm, 1, ["success"]))
    before = orm.workflow_by_id(1)
    by_light = as_written(orm, record(light, 1, ["success"]))
    assert by_light == by_orm
    assert orm.get_run(light.get_run(orm.list_runs(1)[0].id).id).started_at.tzinfo is not None
    after = orm.workflow_by_id(1)
    assert after.success_count == before.success_count + 1 and after.updated_at > before.updated_at


def test_operations_a_run_called_are_remembered_as_the_orm_remembers_them(
    stores: tuple[WorkflowStore, LightStore],
) -> None:
    orm, light = stores
    run_id = record(light, 1, ["success"])
    assert light.api_operations_called(run_id) == orm.api_operations_called(run_id) == {"demo": ["get_issue"]}
    assert light.remember_operations(run_id, "demo", "Who is assigned?", ["get_issue"])
    assert not light.remember_operations(run_id, "demo", "Who is assigned?", ["get_issue"])
    assert not light.remember_operations(run_id, "other", "Who is assigned?", [])
    [kept] = orm.learned_operations("demo")
    assert (kept.task, kept.operations, kept.run_id) == ("Who is assigned?", ["get_issue"], run_id)
    assert kept.created_at is not None


def test_failed_uses_deprecate_the_workflow_as_the_orm_does(stores: tuple[WorkflowStore, LightStore]) -> None:
    orm, light = stores
    record(light, 2, ["failure"] * (DEPRECATE_AFTER_FAILURES - 1) + ["task-failure"])
    workflow = orm.workflow_by_id(2)
    assert (workflow.status, workflow.failure_count, workflow.consecutive_failures) == (
        "verified",
        DEPRECATE_AFTER_FAILURES - 1,
        DEPRECATE_AFTER_FAILURES - 1,
    )
    record(light, 2, ["failure"])
    assert orm.workflow_by_id(2).status == "deprecated"
    record(orm, 3, ["failure"] * (DEPRECATE_AFTER_FAILURES - 1) + ["success", "failure"])
    record(light, 3, ["failure"])
    assert orm.workflow_by_id(3).consecutive_failures == 2  # the success reset the streak
    use = light.start_use(1, via="fast-path", arguments={})
    light.finish_use(use, outcome="no-calls")
    with pytest.raises(ValueError, match="already ended"):
        light.finish_use(use, outcome="success")
    with pytest.raises(ValueError, match="unknown use outcome"):
        light.finish_use(use, outcome="fine")


def test_the_same_workflows_match_a_task(stores: tuple[WorkflowStore, LightStore]) -> None:
    orm, light = stores
    for task in ("Who is assigned to issue #5?", "close issue 7 in bob/app", "labels", "the", "nothing here"):
        for sites in (["demo"], ["other"], ["demo", "other"]):
            assert [w.id for w in light.matching_workflows(task, sites, k=2)] == [
                w.id for w in retrieve(orm, task, sites, k=2)
            ]
    light_match, orm_match = (match_fast_path(s, "Who is assigned to issue #12?", ["demo"]) for s in stores)
    assert light_match is not None and orm_match is not None
    assert (light_match.workflow.name, light_match.arguments) == (
        orm_match.workflow.name,
        orm_match.arguments,
    )
    assert light_match.code == orm_match.code


def test_uses_begin_from_other_threads(stores: tuple[WorkflowStore, LightStore]) -> None:
    orm, light = stores
    run = light.start_run("t", sites=["demo"], model="fast-path", policy="allow")
    began: list[int] = []
    threads = [
        threading.Thread(
            target=lambda: began.append(light.start_use(1, via="kernel", arguments={}, run_id=run.id))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(began) == [use.id for use in orm.uses_of(1)]


def test_a_database_it_cannot_write_as_it_is_goes_to_the_orm(tmp_path: Path) -> None:
    assert LightStore.open(f"sqlite:///{tmp_path / 'none.db'}") is None
    assert LightStore.open("postgresql://db.internal/hybrid") is None
    url = f"sqlite:///{tmp_path / 'hybrid.db'}"
    WorkflowStore(url)
    import sqlite3

    with sqlite3.connect(tmp_path / "hybrid.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '0005'")
    assert LightStore.open(url) is None
