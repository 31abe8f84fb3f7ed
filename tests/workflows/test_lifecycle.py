"""On the demo site: run task A, induce, verify; do task B of the same template through the fast path
with no model; a broken workflow is deprecated after repeated failures and a later run repairs it."""

from __future__ import annotations

import pytest

from hybrid.bench.evaluators import evaluate
from sandbox import Policy
from workflows.fastpath import match_fast_path, run_fast_path
from workflows.induce import induce_from_run
from workflows.kernel import install_workflows
from workflows.memory import DEPRECATE_AFTER_FAILURES, WorkflowStore
from workflows.verify import verify

pytestmark = pytest.mark.kernel


def test_read_workflow_is_induced_verified_and_reused_without_a_model(
    store: WorkflowStore, suite, run_task, open_session
) -> None:
    task_a, task_b = suite[0], suite[1]  # "How many open issues labelled {{label}} are there in {{project}}?"
    [induced] = induce_from_run(store, run_task(task_a))
    workflow = induced.workflow
    assert (induced.action, workflow.status, workflow.kind, workflow.site) == (
        "created",
        "candidate",
        "program",
        "demo",
    )
    assert (
        workflow.intent_template
        == "How many {{state}} issues labelled {{labels}} are there in {{owner}}/{{project}}?"
    )
    assert workflow.operations == ["api.demo.list_issues"] and not workflow.writes

    checked = verify(store, workflow, open_session)
    assert (checked.outcome, checked.workflow.status) == ("passed", "verified"), checked.detail

    match = match_fast_path(store, task_b.intent, ["demo"])
    assert match is not None and match.arguments == {
        "state": "open",
        "labels": "priority::high",
        "owner": "bob",
        "project": "mobile-app",
    }
    with open_session() as session:
        run_id = run_fast_path(store, session, match, task_b.intent, sites=["demo"], policy="allow")
    run = store.get_run(run_id)
    assert (run.status, run.model, run.source, run.steps) == ("finished", "fast-path", match.source, 1)
    assert run.prompt_tokens == 0 and evaluate(task_b, run.answer, None).passed
    [step] = store.steps_of(run_id)
    calls = store.calls_of(step.id)
    assert calls[0].capability == "wf" and calls[0].target == workflow.name
    assert {c.target for c in calls[1:] if c.capability == "api"} == {"demo.list_issues"}
    [_, use] = store.uses_of(workflow.id)  # the verification's, then the fast path's
    assert (use.via, use.run_id, use.outcome, use.arguments["owner"]) == (
        "fast-path",
        run_id,
        "success",
        "bob",
    )
    assert store.get_workflow(workflow.name).success_count == 2


def test_writing_workflow_verified_on_a_reset_site_with_the_evaluator(
    store, suite, run_task, open_session, demo, inspector_client
) -> None:
    task_a, task_b = suite[12], suite[13]  # "Close issue #{{number}} in {{project}}."
    [induced] = induce_from_run(store, run_task(task_a))
    assert induced.workflow.writes and induced.workflow.name == "close_issue"
    checked = verify(
        store,
        induced.workflow,
        open_session,
        reset=demo.reset,
        recheck=lambda answer: evaluate(task_a, answer, inspector_client).passed,
    )
    assert checked.outcome == "passed", checked.detail
    match = match_fast_path(store, task_b.intent, ["demo"])
    assert match is not None
    with open_session() as session:
        run_id = run_fast_path(store, session, match, task_b.intent, sites=["demo"], policy="allow")
    assert evaluate(task_b, store.get_run(run_id).answer, inspector_client).passed


def test_a_writing_workflow_without_reset_awaits_a_real_use(store, suite, run_task, open_session) -> None:
    [induced] = induce_from_run(store, run_task(suite[12]))
    checked = verify(store, induced.workflow, open_session)
    assert (checked.outcome, checked.workflow.status) == ("awaiting-use", "candidate")
    assert (
        match_fast_path(store, suite[13].intent, ["demo"]) is None
    )  # only verified workflows run unattended
    run = store.start_run(suite[13].intent, sites=["demo"], model="m", policy="allow")
    with open_session() as session:
        installed = install_workflows(session, store, [checked.workflow], run_id=run.id)
        result = session.execute("wf.close_issue(number=3, owner='alice', project='tracker-core')")
        assert [o.outcome for o in installed.settle(result)] == ["success"]
        installed.close()
    assert result.ok, result.error
    # No exception is not a verification: the run it served must be judged to have done its task.
    assert store.get_workflow("close_issue").status == "candidate"
    store.credit_run(run.id)
    assert store.get_workflow("close_issue").status == "verified"


def test_read_only_policy_refuses_a_writing_workflow_before_it_runs(
    store, suite, run_task, open_session
) -> None:
    [induced] = induce_from_run(store, run_task(suite[12]))
    with open_session(Policy(mode="read-only")) as session:
        install_workflows(session, store, [induced.workflow])
        result = session.execute("wf.close_issue(number=3, owner='alice', project='tracker-core')")
    assert result.error is not None and result.error.name == "PermissionDenied"
    assert [(c.capability, c.status) for c in result.calls] == [("wf", "denied")]
    assert store.uses_of(induced.workflow.id) == []


def test_repeated_failures_deprecate_and_a_later_run_repairs(
    store: WorkflowStore, suite, run_task, open_session
) -> None:
    [induced] = induce_from_run(store, run_task(suite[3]))  # who is assigned to issue #N in P?
    workflow = induced.workflow
    with open_session() as session:
        # Failures in the model's code count once a clean re-run with the same arguments confirms them.
        installed = install_workflows(session, store, [workflow], confirm=open_session)
        # A task naming an issue that does not exist is the task's failure, not the workflow's.
        missing = session.execute(
            f"wf.{workflow.name}(number=99999, owner='alice', project='tracker-core', value='nobody')"
        )
        assert [o.outcome for o in installed.settle(missing)] == ["task-failure"]
        assert store.get_workflow(workflow.name).consecutive_failures == 0
        for attempt in range(DEPRECATE_AFTER_FAILURES):
            installed.step_index = attempt
            result = session.execute(  # the site refuses what the workflow sends
                f"wf.{workflow.name}(number='five', owner='bob', project='mobile-app', value='nobody')"
            )
            assert result.error is not None
            installed.settle(result)
    broken = store.get_workflow(workflow.name)
    assert (broken.status, broken.failure_count, broken.consecutive_failures) == ("deprecated", 3, 3)
    assert match_fast_path(store, suite[4].intent, ["demo"]) is None
    [repaired] = induce_from_run(store, run_task(suite[4]))
    assert repaired.action == "new-version" and repaired.workflow.version == 2
    assert repaired.workflow.status == "candidate"
    old = store.get_workflow(workflow.name, version=1)
    assert old.status == "deprecated" and old.body == workflow.body  # kept for the record


def test_the_same_procedure_twice_adds_evidence_not_a_copy(store, suite, run_task) -> None:
    [first] = induce_from_run(store, run_task(suite[0]))
    [again] = induce_from_run(store, run_task(suite[2]))
    assert again.action == "evidence" and again.workflow.id == first.workflow.id
    assert len(again.workflow.source_runs) == 2
    assert len(store.list_workflows(all_versions=True)) == 1
