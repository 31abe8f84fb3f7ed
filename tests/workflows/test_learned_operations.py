"""Learning which operations serve which words: a successful run's API operations are remembered with its
task, per site, in the SQL memory, and a later task worded alike finds them first (in `api.<site>.search`
and in the prompt's API section); a run that did not succeed teaches nothing."""

from __future__ import annotations

import pytest

import apis
from workflows.memory import WorkflowStore

pytestmark = pytest.mark.kernel

# Suite task 9: the reference solution pages through `search_issues`.
REWORDED = "Which person has the most open performance issues over every project I can see?"


def test_a_successful_runs_operations_rank_first_for_a_task_worded_alike(
    make_agent, suite, monkeypatch: pytest.MonkeyPatch
) -> None:
    learned_task = suite[9]
    agent, _ = make_agent(learned_task.reference_solution, induce=False, fast_path=False)
    [site] = agent.runtime.sites
    before = [op.name for op in apis.search(site.spec, REWORDED, 5)]
    assert before[0] != "search_issues"  # what plain search makes of the new wording

    first = agent.run(learned_task.intent)
    assert first.status == "finished"
    [kept] = agent.store.learned_operations("demo")
    assert (kept.task, kept.operations, kept.run_id) == (learned_task.intent, ["search_issues"], first.run_id)

    # A later run, in a new agent on the same memory, asks its kernel's search with other words; its
    # prompt's API section is made small enough that it shows a choice of operations.
    monkeypatch.setattr("hybrid.agent.runtime.API_SECTION_TOKENS", 400)
    steps = [f"print(api.demo.search({REWORDED!r}, k=3))", "finish('looked')"]
    agent, model = make_agent(steps, induce=False, fast_path=False)
    second = agent.run(REWORDED)
    assert second.status == "finished"
    [search_step, _] = agent.store.steps_of(second.run_id)
    assert search_step.observation.lstrip("[ '\"").startswith("search_issues(")
    # The prompt's API section lists it first too.
    assert model is not None and "Operations for this task:\n" in model.prompts[0]
    assert model.prompts[0].split("Operations for this task:\n", 1)[1].startswith("search_issues(")
    # That run searched and called nothing else: it leaves nothing to learn, and the first stays.
    assert [r.run_id for r in agent.store.learned_operations("demo")] == [first.run_id]


def test_a_run_that_did_not_finish_teaches_nothing(make_agent) -> None:
    steps = ["issues = api.demo.search_issues(state='open', labels='bug')\nprint(len(issues))"]
    agent, _ = make_agent(steps, induce=False, fast_path=False, max_steps=1)
    result = agent.run("Who has the most open bugs?")
    assert result.status != "finished"
    assert agent.store.learned_operations("demo") == []


def test_the_memory_keeps_operations_once_per_run_and_site_newest_first(store: WorkflowStore) -> None:
    first = store.start_run("Close issue 7", sites=["demo"], model="m", policy="allow").id
    second = store.start_run("List the open bugs", sites=["demo"], model="m", policy="allow").id
    assert store.remember_operations(first, "demo", "Close issue 7", ["get_issue", "update_issue"])
    assert not store.remember_operations(first, "demo", "Close issue 7", ["update_issue"])
    assert not store.remember_operations(second, "demo", "List the open bugs", [])
    assert store.remember_operations(second, "demo", "List the open bugs", ["list_issues"])
    assert store.remember_operations(second, "other", "List the open bugs", ["list"])
    assert [(r.task, r.operations) for r in store.learned_operations("demo")] == [
        ("List the open bugs", ["list_issues"]),
        ("Close issue 7", ["get_issue", "update_issue"]),
    ]
    assert len(store.learned_operations("demo", limit=1)) == 1


WHO = "Who is assigned to issue #{number} in bob/mobile-app? Answer with the username, or nobody."


def test_runs_done_through_a_workflow_remember_the_operations_it_called(make_agent, suite) -> None:
    """A run that calls `wf.<name>` and a run the fast path does alone are remembered with the API
    operations the workflow called (its calls are the run's own call records)."""
    agent, _ = make_agent(suite[3].reference_solution)  # get_issue, then a workflow of it
    induced = agent.run(suite[3].intent)
    [workflow] = agent.store.list_workflows()

    call = f"finish(wf.{workflow.name}(number=5, owner='bob', project='mobile-app', value='nobody'))"
    agent, _ = make_agent([call], fast_path=False)
    through_wf = agent.run(WHO.format(number=5))
    assert through_wf.status == "finished"

    agent, _ = make_agent(None)  # no model: the fast path does it
    fast = agent.run(WHO.format(number=6))
    assert (fast.status, fast.tokens) == ("finished", 0)

    kept = {row.run_id: (row.task, row.operations) for row in agent.store.learned_operations("demo")}
    assert kept == {
        induced.run_id: (suite[3].intent, ["get_issue"]),
        through_wf.run_id: (WHO.format(number=5), ["get_issue"]),
        fast.run_id: (WHO.format(number=6), ["get_issue"]),
    }
