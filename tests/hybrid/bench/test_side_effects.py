"""Wrong writes: a run's writes its task did not ask for, judged against the objects its evaluator checks,
on the demo site's own spec."""

from __future__ import annotations

from typing import Any

import pytest

import apis
from hybrid.bench.side_effects import wrong_writes
from hybrid.bench.suite import Task, load_suite
from hybrid.demo import DemoSite
from sandbox import CallRecord

SUITE = {task.task_id: task for task in load_suite()}


@pytest.fixture(scope="module")
def specs(demo_server: DemoSite) -> dict[str, apis.Spec]:
    return {"demo": apis.load_spec(demo_server.openapi_url)}


def write(operation: str, **kwargs: Any) -> CallRecord:
    return CallRecord(
        capability="api",
        target=f"demo.{operation}",
        args=[],
        kwargs=kwargs,
        writes=True,
        domain="127.0.0.1",
        status="ok",
        result=None,
        error=None,
        started_at=None,
        latency=0.0,
    )


def count(task: Task, specs: dict[str, apis.Spec], *calls: CallRecord) -> int:
    return wrong_writes(list(calls), task, specs)


def test_writes_on_the_objects_the_evaluator_checks_are_not_wrong(specs) -> None:
    # Family 8: assigning the issues a listing found (the task names the project, not the issues).
    assigned = [
        write("update_issue", owner="alice", project="tracker-core", number=n, body={"assignee": "frank"})
        for n in (4, 9)
    ]
    assert count(SUITE[18], specs, *assigned) == 0
    # Family 17: the label created in the project after its transfer, under its new owner.
    label = write("create_label", owner="erin", project="website", body={"name": "seo"})
    assert count(SUITE[38], specs, label) == 0
    # Family 18: the person found in one project's activity, added to another project.
    member = write(
        "add_member", owner="grace", project="website", body={"username": "carol", "role": "reporter"}
    )
    assert count(SUITE[40], specs, member) == 0


def test_a_write_on_another_object_or_where_nothing_should_change_is_wrong(specs) -> None:
    close = SUITE[12]  # Close issue #7 in alice/tracker-core.
    closing = [
        write("update_issue", owner="alice", project="tracker-core", number=n, body={"state": "closed"})
        for n in (7, 17)
    ]
    assert count(close, specs, *closing) == 1  # #17: the issue a workflow was taught on, not the task's
    label = write("create_label", owner="grace", project="website", body={"name": "seo"})
    assert count(SUITE[38], specs, label) == 1  # the project's old owner: another project
    # A task the evaluator checks only the answer of changes nothing.
    assert count(SUITE[3], specs, closing[0]) == 1
    # Failed and refused calls changed nothing.
    failed = write("update_issue", owner="alice", project="tracker-core", number=17, body={})
    assert count(close, specs, CallRecord(**{**failed.to_dict(), "status": "denied"})) == 0
