"""Exploring a recorded run from Python: steps, checkpoints, forks and replays."""

from __future__ import annotations

import pytest

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.agent.run import AgentError
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from hybrid.explore import ExploreError, Run

from .conftest import TASK

pytestmark = pytest.mark.kernel


def test_a_run_loads_by_prefix_with_its_steps_and_calls(record_run, settings: Settings) -> None:
    recorded = record_run()
    run = Run.load(recorded.id[:6], settings=settings)
    assert (run.id, run.status, run.answer, len(run)) == (recorded.id, "finished", "bob", 2)
    assert [step.code for step in run] == TASK.reference_solution
    first = run[0]
    assert first.ok and "bob" in first.output and first.tokens > 0
    [call] = first.calls
    assert (call.name, call.kwargs["number"], call.status) == ("api.demo.get_issue", 17, "ok")
    shown = first._repr_markdown_()
    assert TASK.reference_solution[0] in shown and "api.demo.get_issue(owner='alice'" in shown
    summary = run._repr_markdown_()
    assert TASK.intent in summary and "answer: **bob**" in summary


def test_the_latest_run_loads_without_an_id(record_run, settings: Settings) -> None:
    record_run()
    latest = record_run(["finish('second')"])
    assert Run.load(settings=settings).id == latest.id


def test_history_lists_the_checkpoints_oldest_first(record_run) -> None:
    history = record_run().history()
    assert history[0].next == ("__start__",) and history[-1].next == ()
    assert [c.graph_step for c in history] == sorted(c.graph_step for c in history)
    assert [c.steps for c in history if c.next == ("act",)] == [0, 1]
    assert history[-1].status == "finished" and history[-1].values["answer"] == "bob"
    assert "| next |" in history._repr_markdown_()


def test_a_fork_keeps_the_first_steps_and_goes_on_with_another_model(record_run) -> None:
    run = record_run()
    model = ScriptedChatModel(
        replies=scripted_replies_for(
            [
                ("print(api.demo.get_issue(owner='alice', project='tracker-core', number=17)['title'])"),
                "finish('forked')",
            ]
        )
    )
    fork = run.fork(1, model=model)
    assert fork.id != run.id and fork.record.source == f"fork:{run.id}@1"
    assert (fork.status, fork.answer, len(fork)) == ("finished", "forked", 3)
    assert fork[0].code == run[0].code and [c.name for c in fork[0].calls] == ["api.demo.get_issue"]
    assert "fresh kernel" in fork[1].observation  # the model is told earlier variables are gone
    assert Run.load(run.id, settings=run.settings).answer == "bob"  # the original is untouched
    history = fork.history()
    assert history[0].steps == 1 and not any("prepare" in c.next for c in history)  # it went on, not over


def test_a_fork_can_change_the_task_and_system_prompt(record_run) -> None:
    run = record_run()
    fork = run.fork(
        0,
        model=ScriptedChatModel(replies=scripted_replies_for(["finish('x')"])),
        task="Say x.",
        system_prompt="You are terse.",
    )
    assert fork.task == "Say x." and fork.answer == "x" and len(fork) == 1
    assert fork.history()[-1].values["system_prompt"] == "You are terse."


def test_forking_where_no_checkpoint_is_says_where_one_can(record_run) -> None:
    with pytest.raises(ExploreError, match=r"no checkpoint before step 5.*\[0, 1\]"):
        record_run().fork(5, model=ScriptedChatModel(replies=["finish(1)"]))


def test_a_model_that_cannot_be_loaded_again_must_be_given(record_run) -> None:
    with pytest.raises(ExploreError, match="pass model="):
        record_run().fork(1)


def test_replay_runs_the_same_actions_again_as_a_new_run(record_run) -> None:
    run = record_run()
    again = run.replay()
    assert again.id != run.id and again.record.source == f"replay:{run.id}"
    assert (again.answer, [s.code for s in again]) == (run.answer, [s.code for s in run])


def test_state_shows_a_run_before_any_step_and_at_its_end(record_run) -> None:
    run = record_run()
    before = run.state(1)
    assert (before.steps, before.next, before.status) == (1, ("act",), "running")
    assert before.values["steps"][0]["code"] == TASK.reference_solution[0]
    assert run.state(0).steps == 0
    end = run.state()
    assert (end.steps, end.next, end.values["answer"]) == (2, (), "bob")
    shown = before._repr_markdown_()
    assert "1 steps done" in shown and TASK.intent in shown


def test_a_run_that_stopped_resumes_from_its_last_checkpoint(settings: Settings, demo: DemoSite) -> None:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    get_issue = "api.demo.get_issue(owner='alice', project='tracker-core', number=17)"
    # Step 1 reads the issue again: a resumed run goes on in a fresh kernel, without step 0's variables.
    replies = scripted_replies_for([f"print({get_issue}['assignee'])", f"finish({get_issue}['assignee'])"])
    # The model has only the first step's reply: the run stops with an error at step 1.
    with (
        open_agent(
            settings, model=ScriptedChatModel(replies=replies[:1]), model_name="scripted", sites=["demo"]
        ) as agent,
        pytest.raises(AgentError) as stopped,
    ):
        agent.run(TASK.intent)
    run = Run.load(stopped.value.run_id, settings=settings)
    assert (run.status, len(run), run.state().before_step) == ("error", 1, 1)

    resumed = run.resume(model=ScriptedChatModel(replies=replies))
    assert (resumed.id, resumed.status, resumed.answer, len(resumed)) == (run.id, "finished", "bob", 2)
    with pytest.raises(ExploreError, match="already ended"):
        resumed.resume(model=ScriptedChatModel(replies=replies))
