"""With a real model, a finished run is judged by the model (the verdict and its reason recorded with the
run) after the answer is shown, and only a run judged successful is induced, by the model."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from model_servers import Conversation, Turn, model_server, reference_script

import apis
from hybrid.agent.judge import read_verdict
from hybrid.bench.suite import load_suite
from hybrid.cli import cli
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from workflows.store import RunStore

pytestmark = pytest.mark.kernel

TASK = load_suite()[0]
JUDGE_PROMPT = "You judge whether a web agent achieved its task."
PROGRAM_PROMPT = "You turn a successful run of a web agent into a reusable Python function"


def judging(verdict: str):
    agent = reference_script([TASK])

    def respond(conversation: Conversation) -> Turn:
        asked = conversation.messages[0][1]
        if asked.startswith(JUDGE_PROMPT):
            return Turn(text=verdict)
        if asked.startswith("You turn a successful run"):
            return Turn(text="NONE")  # nothing reusable: induction ends there
        return agent(conversation)

    return respond


@pytest.fixture
def registered(settings: Settings, demo: DemoSite, monkeypatch: pytest.MonkeyPatch) -> Settings:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.setenv("HYBRID_FAST_PATH", "false")
    return settings


def run(server) -> str:
    result = CliRunner().invoke(
        cli, ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url]
    )
    assert result.exit_code == 0, result.output
    return result.output


def asked(server, prompt: str) -> int:
    return sum(body["messages"][0]["content"].startswith(prompt) for body in server.requests)


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
