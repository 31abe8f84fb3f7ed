"""With a real model, a finished run is judged by the model (the verdict and its reason recorded with the
run) after the answer is shown, and only a run judged successful is induced, by the model."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from model_servers import PROTOCOLS, Conversation, Turn, model_server, read_conversation, reference_script

import apis
from hybrid.agent.judge import read_verdict
from hybrid.bench.suite import load_suite
from hybrid.cli import cli
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from workflows.memory import WorkflowStore
from workflows.store import RunStore

pytestmark = pytest.mark.kernel

TASK = load_suite()[0]
JUDGE_PROMPT = "You judge whether a web agent achieved its task."
PROGRAM_PROMPT = "Turn this run into a reusable Python function"
TEXT_PROMPT = "Turn this run into a short step-by-step guide"


def judging(verdict: str):
    agent = reference_script([TASK])

    def respond(conversation: Conversation) -> Turn:
        asked = conversation.messages[0][1]
        if asked.startswith(JUDGE_PROMPT):
            return Turn(text=verdict)
        if PROGRAM_PROMPT in asked:
            return Turn(text="NONE")  # nothing reusable: induction ends there
        return agent(conversation)

    return respond


@pytest.fixture
def registered(settings: Settings, demo: DemoSite, monkeypatch: pytest.MonkeyPatch) -> Settings:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("HYBRID_MAX_COST", raising=False)
    monkeypatch.setenv("HYBRID_FAST_PATH", "false")
    return settings


def run(server) -> str:
    result = CliRunner().invoke(
        cli, ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url]
    )
    assert result.exit_code == 0, result.output
    return result.output


def asked(server, prompt: str) -> int:
    return sum(prompt in first for first in _first_messages(server))


def test_a_run_judged_successful_is_induced_by_the_model_after_the_answer(registered) -> None:
    with model_server("openai", judging("Verdict: success\nReason: the count came from the API.")) as server:
        output = run(server)
    assert output.index("answer") < output.index("Judging the run") < output.index("judged: success")
    run_record = RunStore(registered.effective_database_url).list_runs(1)[0]
    assert (run_record.judgement, run_record.judgement_reason) == ("success", "the count came from the API.")
    assert asked(server, JUDGE_PROMPT) == 1 and asked(server, PROGRAM_PROMPT) == 1
    judged = next(b for b in server.requests if b["messages"][0]["content"].startswith(JUDGE_PROMPT))
    assert (
        TASK.intent in judged["messages"][0]["content"] and "list_issues" in judged["messages"][0]["content"]
    )
    assert "stop" not in judged  # the verdict is not cut short by the code-block stop sequence
    # What it called is remembered with its task, for search to rank first for tasks worded alike.
    [learned] = WorkflowStore(registered.effective_database_url).learned_operations("demo")
    assert (learned.task, learned.operations) == (TASK.intent, ["list_issues"])
    shown = CliRunner().invoke(cli, ["runs", "show", run_record.id])
    assert "judged: success · the count came from the API." in shown.output


@pytest.mark.parametrize(
    "verdict", ["Verdict: failure\nReason: the answer was never checked.", "I am not sure."]
)
def test_a_run_judged_failed_or_not_judged_clearly_is_not_induced(registered, verdict: str) -> None:
    with model_server("openai", judging(verdict)) as server:
        output = run(server)
    assert "judged: failure" in output
    assert asked(server, JUDGE_PROMPT) == 1 and asked(server, PROGRAM_PROMPT) == 0
    assert RunStore(registered.effective_database_url).list_runs(1)[0].judgement == "failure"
    assert WorkflowStore(registered.effective_database_url).learned_operations("demo") == []


@pytest.mark.parametrize(
    ("reply", "judgement"),
    [
        ("Verdict: success\nReason: ok.", "success"),
        ("**Verdict:** Failure\n**Reason:** wrong.", "failure"),
        ("verdict: SUCCESS", "success"),
        ("It worked.", "failure"),
    ],
)
def test_verdicts_are_read_leniently_and_a_doubt_is_a_failure(reply: str, judgement: str) -> None:
    assert read_verdict(reply).judgement == judgement


PROGRAM_REPLY = '''INTENT: How many {{state}} issues labelled {{label}} are there in {{owner}}/{{project}}?
ARGUMENTS: {"state": "open", "label": "bug", "owner": "alice", "project": "tracker-core"}
```python
def count_open_issues(state: str, label: str, owner: str, project: str):
    """Count the open issues with a label.

    state, label, owner, project: which issues.
    """
    issues, page = [], 1
    while True:
        batch = api.demo.list_issues(
            owner=owner, project=project, state=state, labels=label, page=page, per_page=100
        )
        issues += batch
        if len(batch) < 100:
            break
        page += 1
    return str(len(issues))
```
'''
TEXT_REPLY = """NAME: count_open_issues_guide
INTENT: How many open issues labelled {{label}} are there in {{owner}}/{{project}}?
DESCRIPTION: Count the open issues with a label.
ARGUMENTS: {"label": "bug", "owner": "alice", "project": "tracker-core"}
GUIDE:
1. Page through api.demo.list_issues(owner="{{owner}}", project="{{project}}", state="open", \
labels="{{label}}").
2. The answer is how many there are.
"""


def run_json(server, *options: str) -> dict:
    result = CliRunner().invoke(
        cli,
        ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url, "--json"]
        + list(options),
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_rate_limit_during_induction_is_retried_and_the_workflow_still_made(
    protocol, registered, monkeypatch
) -> None:
    monkeypatch.setenv("HYBRID_MODEL_RETRIES", "2")
    agent = reference_script([TASK])
    program_asks = []

    def respond(conversation: Conversation) -> Turn:
        asked = conversation.messages[0][1]
        if asked.startswith(JUDGE_PROMPT):
            return Turn(text="Verdict: success\nReason: the count came from the API.")
        if PROGRAM_PROMPT in asked:
            program_asks.append(asked)
            return Turn(status=429, retry_after="0") if len(program_asks) == 1 else Turn(text=PROGRAM_REPLY)
        if TEXT_PROMPT in asked:
            return Turn(text=TEXT_REPLY)
        return agent(conversation)

    with model_server(protocol, respond) as server:
        finished = run_json(server)
    assert finished["status"] == "finished" and len(program_asks) == 2
    assert finished["workflow"]["name"] == "count_open_issues", finished["workflow"]
    assert finished["workflow"]["status"] == "verified", finished["workflow"]  # replayed, same answer
    # Both induction prompts start with the same account of the run, for the provider's prompt cache.
    text_prompt = next(m for m in _first_messages(server) if TEXT_PROMPT in m)
    shared = os.path.commonprefix([program_asks[1], text_prompt])
    assert TASK.intent in shared and "api.demo.list_issues" in shared


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])  # Ollama's models have no price
def test_the_judges_cost_counts_towards_max_cost(protocol, registered) -> None:
    with model_server(protocol, judging("Verdict: success\nReason: ok.")) as server:
        first = run_json(server)
    store = RunStore(registered.effective_database_url)
    acting = sum(step.cost for step in store.steps_of(first["run_id"]))
    assert first["cost"] > acting  # judging and learning are part of the run's cost
    limit = acting * 1.05  # the run's own steps stay under it; judging crosses it
    with model_server(protocol, judging("Verdict: success\nReason: ok.")) as server:
        second = run_json(server, "--max-cost", f"{limit:.8f}")
    assert second["status"] == "finished" and second["cost"] > limit
    assert asked(server, JUDGE_PROMPT) == 1 and asked(server, PROGRAM_PROMPT) == 0
    assert "reaching its limit" in second["workflow"]["line"]
    assert store.get_run(second["run_id"]).cost == pytest.approx(second["cost"])


def test_a_judge_call_that_broke_off_marks_the_runs_tokens_estimated(registered) -> None:
    # The judge's first attempt breaks off mid-stream (OpenAI reports usage only at the end): it is counted
    # as an estimate in the run's totals, which say so, though no step's does.
    verdict = "Verdict: success\nReason: ok."
    judge_asks = []

    def respond(conversation: Conversation) -> Turn:
        if conversation.messages[0][1].startswith(JUDGE_PROMPT):
            judge_asks.append(conversation)
            return Turn(text=verdict, stream_error="server_error" if len(judge_asks) == 1 else None)
        return judging(verdict)(conversation)

    with model_server("openai", respond) as server:
        finished = run_json(server)
    assert finished["status"] == "finished" and len(judge_asks) == 2
    store = RunStore(registered.effective_database_url)
    assert finished["usage_estimated"] is True and store.get_run(finished["run_id"]).usage_estimated
    assert not any(step.usage_estimated for step in store.steps_of(finished["run_id"]))


def _first_messages(server) -> list[str]:
    """The text of each request's first message after the system prompt, whatever the protocol."""
    return [read_conversation(server.protocol, body).messages[0][1] for body in server.requests]


def test_anthropic_breakpoints_go_after_the_shared_induction_prompt_and_never_on_the_judges(
    registered,
) -> None:
    agent = reference_script([TASK])

    def respond(conversation: Conversation) -> Turn:
        asked = conversation.messages[0][1]
        if asked.startswith(JUDGE_PROMPT):
            return Turn(text="Verdict: success\nReason: ok.")
        if PROGRAM_PROMPT in asked:
            return Turn(text=PROGRAM_REPLY)
        if TEXT_PROMPT in asked:
            return Turn(text=TEXT_REPLY)
        return agent(conversation)

    with model_server("anthropic", respond) as server:
        finished = run_json(server)
    assert finished["workflow"]["name"] == "count_open_issues", finished
    first_blocks = [body["messages"][0]["content"] for body in server.requests]
    judge = next(b for b in first_blocks if _joined(b).startswith(JUDGE_PROMPT))
    assert "cache_control" not in json.dumps(judge)
    program, text = (next(b for b in first_blocks if p in _joined(b)) for p in (PROGRAM_PROMPT, TEXT_PROMPT))
    assert program[0] == text[0] and program[0]["cache_control"] == {"type": "ephemeral"}
    assert TASK.intent in program[0]["text"] and "cache_control" not in program[1]


def _joined(content) -> str:
    return content if isinstance(content, str) else "".join(block.get("text", "") for block in content)
