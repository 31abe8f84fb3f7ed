"""Through the agent on the demo site: task A is induced and verified after its run; task B of the same
template takes the fast path with no model call; task C of a related template is offered the workflow
in its prompt and uses it from the kernel."""

from __future__ import annotations

import pytest

from hybrid.bench.evaluators import evaluate

pytestmark = pytest.mark.kernel


def test_induced_after_a_run_then_the_next_task_of_its_template_needs_no_model(make_agent, suite) -> None:
    task_a, task_b = suite[3], suite[4]  # "Who is assigned to issue #{{number}} in {{project}}? ..."
    agent, _ = make_agent(task_a.reference_solution)
    first = agent.run(task_a.intent)
    assert first.status == "finished" and first.steps == 2 and first.tokens > 0
    [workflow] = agent.store.list_workflows()
    assert (workflow.name, workflow.status, workflow.source_runs) == (
        "who_assigned_issue",
        "verified",
        [first.run_id],
    )

    agent, model = make_agent([])  # a model with no replies: any model call would fail the run
    second = agent.run(task_b.intent)
    assert (second.status, second.steps, second.tokens) == ("finished", 1, 0)
    assert model.prompts == [] and evaluate(task_b, second.answer, None).passed
    run = agent.store.get_run(second.run_id)
    assert (run.model, run.source) == ("fast-path", "fast-path:who_assigned_issue@v1")


def test_fast_path_can_be_turned_off(make_agent, suite) -> None:
    agent, _ = make_agent(suite[3].reference_solution)
    agent.run(suite[3].intent)
    call = "finish(wf.who_assigned_issue(number=5, owner='bob', project='mobile-app', value='nobody'))"
    agent, model = make_agent([call], fast_path=False)
    result = agent.run(suite[4].intent)
    assert result.status == "finished" and result.steps == 1 and len(model.prompts) == 1
    assert evaluate(suite[4], result.answer, None).passed


def test_a_related_task_is_offered_the_workflow_and_uses_it(make_agent, suite, inspector_client) -> None:
    close_a = suite[12]  # "Close issue #7 in alice/tracker-core."
    agent, _ = make_agent(close_a.reference_solution)
    agent.run(close_a.intent)
    [workflow] = agent.store.list_workflows()
    assert (workflow.name, workflow.status, workflow.verification) == (
        "close_issue",
        "candidate",
        "awaiting-use",
    )

    task_c = "Close issue #9 in alice/tracker-core and tell me its title."
    steps = [
        (
            "wf.close_issue(number=9, owner='alice', project='tracker-core')\n"
            "issue = api.demo.get_issue(owner='alice', project='tracker-core', number=9)\n"
            "print(issue['state'], issue['title'])"
        ),
        "finish(issue['title'])",
    ]
    agent, model = make_agent(steps, induce=False)
    result = agent.run(task_c)
    assert result.status == "finished"
    assert "`wf.close_issue(number: int, owner: str, project: str)`" in model.prompts[0]
    [step, _] = agent.store.steps_of(result.run_id)
    calls = [(c.capability, c.target, c.status) for c in agent.store.calls_of(step.id)]
    assert calls[:2] == [("wf", "close_issue", "ok"), ("api", "demo.update_issue", "ok")]
    use = agent.store.uses_of(workflow.id)[-1]
    assert (use.via, use.run_id, use.step_index, use.outcome) == ("kernel", result.run_id, 0, "success")
    used = agent.store.get_workflow("close_issue")
    assert (used.status, used.success_count) == ("verified", 1)  # its first real use verified it
    assert inspector_client.get("/projects/alice/tracker-core/issues/9").json()["state"] == "closed"
