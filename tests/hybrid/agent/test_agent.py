"""The whole agent against the demo site, with scripted models: the real graph, kernel, bridge, clients."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack

import httpx
import pytest
from sqlalchemy import event

from hybrid.agent.assembly import open_checkpointer
from hybrid.bench.evaluators import evaluate
from hybrid.bench.suite import load_suite
from hybrid.config import Settings
from hybrid.demo import DemoSite
from workflows.memory import WorkflowStore
from workflows.store import StepRecord

pytestmark = pytest.mark.kernel

SUITE = load_suite()


def inspector(demo: DemoSite) -> httpx.Client:
    return httpx.Client(base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('alice')}"})


@pytest.mark.parametrize("task", SUITE, ids=lambda t: f"task-{t.task_id}-{t.category}")
def test_reference_solution_through_the_agent(task, make_agent, demo: DemoSite) -> None:
    with make_agent(task.reference_solution, login_as=task.login_as) as agent:
        result = agent.run(task.intent, start_url=task.start_url_for(demo.base_url))
    assert result.status == "finished", result
    with inspector(demo) as client:
        verdict = evaluate(task, result.answer, client)
    assert verdict.passed, verdict.failures


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_steps_calls_and_checkpoints_are_recorded(make_agent, settings: Settings) -> None:
    task = SUITE[0]
    with make_agent(task.reference_solution) as agent:
        result = agent.run(task.intent)
        run = agent.store.get_run(result.run_id)
        steps = agent.store.steps_of(run.id)
        calls = agent.store.calls_of(steps[0].id)
    with ExitStack() as stack:  # the checkpoints are in the database (PostgreSQL) or beside it (SQLite)
        checkpointer = open_checkpointer(settings, stack)
        final = checkpointer.get_tuple({"configurable": {"thread_id": run.id}})
    assert type(checkpointer).__name__ == (
        "PostgresSaver" if agent.store.engine.dialect.name == "postgresql" else "SqliteSaver"
    )
    assert final is not None and final.checkpoint["channel_values"]["status"] == "finished"
    assert (run.status, run.answer, run.steps) == ("finished", result.answer, len(task.reference_solution))
    assert run.prompt_tokens > 0 and run.completion_tokens > 0
    assert steps[0].code == task.reference_solution[0] and "Calls made" in steps[0].observation
    assert calls and calls[0].target == "demo.list_issues" and calls[0].status == "ok"


def test_a_failed_api_call_is_seen_and_corrected(make_agent, demo: DemoSite) -> None:
    steps = [
        "issue = api.demo.get_issue(owner='alice', project='tracker', number=3)",
        "issue = api.demo.get_issue(owner='alice', project='tracker-core', number=3)\nprint(issue['state'])",
        "finish(issue['state'])",
    ]
    with make_agent(steps) as agent:
        result = agent.run("What is the state of issue #3 in alice/tracker-core?")
        first = agent.store.steps_of(result.run_id)[0]
    assert not first.ok and "404" in first.observation and "get_issue" in first.observation
    expected = httpx.get(
        f"{demo.api_url}/projects/alice/tracker-core/issues/3",
        headers={"Authorization": f"Bearer {demo.token_for('alice')}"},
    ).json()["state"]
    assert (result.status, result.answer) == ("finished", expected)


def test_running_out_of_steps_ends_the_run_with_a_status(make_agent) -> None:
    with make_agent(["x = 1", "x += 1", "x += 1"], max_steps=2) as agent:
        result = agent.run("Count forever.")
        run = agent.store.get_run(result.run_id)
    assert result.status == "max_steps" and result.steps == 2
    assert "all 2 steps" in result.error and run.status == "max_steps"


def test_read_only_policy_blocks_writes(make_agent, demo: DemoSite) -> None:
    task = next(t for t in SUITE if t.intent_template_id == 6)
    with make_agent(task.reference_solution, policy="read-only") as agent:
        result = agent.run(task.intent)
        step = agent.store.steps_of(result.run_id)[0]
        [call] = agent.store.calls_of(step.id)
    assert call.status == "denied" and "PermissionDenied" in step.observation
    with inspector(demo) as client:
        assert not evaluate(task, result.answer, client).passed


def test_replies_without_code_are_reprompted_then_end_the_run_as_an_error(make_agent) -> None:
    agent = make_agent([])
    agent.model.replies = ["I think it is probably 5.", "It is 5, I am sure."]
    with agent:
        result = agent.run("How many?")
        steps = agent.store.steps_of(result.run_id)
    assert (result.status, result.answer, len(steps)) == ("error", None, 2)
    assert "without a code block" in result.error and all(step.code is None for step in steps)


def test_a_bare_fence_cut_by_the_stop_sequence_is_reprompted_with_the_fix(make_agent) -> None:
    agent = make_agent([])
    agent.model.replies = [
        "Thought: count.\n```\nprint(1)\n```\n",
        "Thought: again, tagged.\n```python\nfinish('1')\n```\n",
    ]
    with agent:
        result = agent.run("Print one.")
        first = agent.store.steps_of(result.run_id)[0]
    assert first.code is None and (result.status, result.answer) == ("finished", "1")


def test_an_explicit_final_answer_without_code_ends_the_run(make_agent) -> None:
    agent = make_agent([])
    agent.model.replies = ["Thought: I know it.\nFinal answer: 5"]
    with agent:
        result = agent.run("How many?")
    assert (result.status, result.answer, result.steps) == ("finished", "5", 1)


def test_confirm_policy_asks_before_each_write(make_agent, demo: DemoSite) -> None:
    # Assigns several issues, one write each.
    task = next(t for t in SUITE if t.intent_template_id == 8 and t.eval.answer.number >= 2)
    asked: list[str] = []

    def approve_first_only(call) -> bool:
        asked.append(call.name)
        return len(asked) == 1

    with make_agent(task.reference_solution, policy="confirm", confirm=approve_first_only) as agent:
        result = agent.run(task.intent)
        writes = [
            c for s in agent.store.steps_of(result.run_id) for c in agent.store.calls_of(s.id) if c.writes
        ]
    assert asked and set(asked) == {"api.demo.update_issue"}
    assert [w.status for w in writes] == ["ok", "denied"]


@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_checkpoints_store_each_step_once_however_long_the_run(make_agent) -> None:
    steps = ["print('first-step-output ' * 50)", *(f"print({n})" for n in range(8)), "finish('done')"]
    with make_agent(steps, induce=False) as agent:
        result = agent.run("Print things.")
        thread = {"configurable": {"thread_id": result.run_id}}
        stored = list(agent.graph.checkpointer.list(thread))
        history = list(agent.graph.get_state_history(thread))
    assert result.status == "finished" and len(stored) > 2 * len(steps)
    copies = sum(repr(t.checkpoint["channel_values"]).count("first-step-output") // 50 for t in stored)
    assert copies <= 1  # with a plain list reducer every checkpoint stored it again: 20 copies
    assert len(history[0].values["steps"]) == len(steps)  # the latest state is still whole


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "postgresql+psycopg"])
def test_postgres_checkpoints_take_each_common_url_spelling(scheme: str, postgres_url: str, tmp_path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=scheme + postgres_url[postgres_url.index("://") :])
    with ExitStack() as stack:
        checkpointer = open_checkpointer(settings, stack)
        assert checkpointer.get_tuple({"configurable": {"thread_id": "none"}}) is None


def test_agents_opening_a_fresh_postgres_database_at_once_all_get_checkpoints(
    postgres_url: str, tmp_path
) -> None:
    settings = Settings(data_dir=tmp_path, database_url=postgres_url)

    def open_one(_: int) -> None:
        with ExitStack() as stack:
            open_checkpointer(settings, stack)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(open_one, range(8)))  # each raised before the setup was serialised (duplicate pg_type)


def test_each_step_in_the_graph_state_is_the_step_in_the_record(make_agent) -> None:
    steps = [
        "issue = api.demo.get_issue(owner='alice', project='tracker-core', number=3)",
        "print(issue['state'])",
        "finish(issue['state'])",
    ]
    with make_agent(steps, induce=False) as agent:
        result = agent.run("What is the state of issue #3 in alice/tracker-core?")
        state = agent.graph.get_state({"configurable": {"thread_id": result.run_id}}).values
        recorded = [row.record() for row in agent.store.steps_of(result.run_id)]
    assert result.status == "finished" and len(state["steps"]) == len(steps)
    # The record also keeps each action's untrimmed output, which graph state leaves out.
    assert [StepRecord.model_validate(step) for step in state["steps"]] == [
        step.model_copy(update={"full_output": ""}) for step in recorded
    ]
    assert recorded[1].observation in recorded[1].full_output  # what `print(issue['state'])` printed


def _run_counting(make_agent, monkeypatch: pytest.MonkeyPatch, steps: list[str]) -> tuple[int, int]:
    """Run `steps` as a run's actions; how many times workflows were retrieved for it, and how many
    statements read the `runs` table. The fast path is off: its match, made before a run exists, looks for
    verified programs only and is counted by the fast path's own tests."""
    retrievals: list[str] = []
    matching = WorkflowStore.matching_workflows
    monkeypatch.setattr(
        WorkflowStore,
        "matching_workflows",
        lambda store, task, *rest, **options: (
            retrievals.append(task),
            matching(store, task, *rest, **options),
        )[1],
    )
    run_reads: list[str] = []

    def count(_connection, _cursor, statement: str, *_rest) -> None:
        if statement.lstrip().upper().startswith("SELECT") and re.search(r"\bFROM runs\b", statement):
            run_reads.append(statement)

    with make_agent(steps, induce=False, fast_path=False) as agent:
        event.listen(agent.store.engine, "before_cursor_execute", count)
        try:
            result = agent.run("Count to a number.")
        finally:
            event.remove(agent.store.engine, "before_cursor_execute", count)
    assert result.status == "finished" and result.steps == len(steps)
    return len(retrievals), len(run_reads)


def test_a_run_retrieves_its_workflows_once_and_does_not_reread_itself_each_step(
    make_agent, monkeypatch
) -> None:
    short = _run_counting(make_agent, monkeypatch, ["x = 1", "finish(x)"])
    long = _run_counting(make_agent, monkeypatch, ["x = 1", *(["x += 1"] * 5), "finish(x)"])
    assert short[0] == long[0] == 1  # the prompt and the kernel share one retrieval
    assert long[1] == short[1]  # reads of the run row do not grow with its steps
