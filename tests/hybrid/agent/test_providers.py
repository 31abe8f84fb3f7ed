"""`hybrid run` through the real provider packages, over HTTP, against local OpenAI, Anthropic and Ollama
protocol servers (tests/hybrid/model_servers.py) that answer from a script."""

from __future__ import annotations

import itertools
import json
import os
import re
import statistics

import httpx
import pytest
from click.testing import CliRunner, Result
from genai_prices import Usage, calc_price
from model_servers import (
    PROTOCOLS,
    ModelServer,
    Turn,
    in_order,
    model_server,
    read_conversation,
    reference_script,
)

import apis
from hybrid.agent import observation
from hybrid.bench.evaluators import evaluate
from hybrid.bench.suite import load_suite
from hybrid.cli import cli
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from sandbox.text import estimate_tokens
from workflows.store import RunStore

pytestmark = pytest.mark.kernel

TASK = load_suite()[0]  # how many open bugs: two API steps
STEP = (
    "Thought: count them.\n```python\n"
    "print(len(api.demo.list_issues(owner='alice', project='tracker-core')))\n```\n"
)
FINISH = "Thought: done.\n```python\nfinish('done')\n```\n"


@pytest.fixture
def registered(settings: Settings, demo: DemoSite, monkeypatch: pytest.MonkeyPatch) -> Settings:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "HYBRID_MAX_COST"):
        monkeypatch.delenv(name, raising=False)
    # Retries wait as the server asks (Retry-After) or back off from 1 s: keep the backoff tests short.
    monkeypatch.setenv("HYBRID_MODEL_RETRIES", "2")
    # Only the run's own model calls here: judging and learning afterwards are tested in test_judge.py.
    monkeypatch.setenv("HYBRID_INDUCE_WORKFLOWS", "false")
    return settings


def run(server: ModelServer, task: str = TASK.intent, *options: str) -> Result:
    return CliRunner().invoke(
        cli,
        [
            "run",
            task,
            "--site",
            "demo",
            "--model",
            server.model,
            "--base-url",
            server.url,
            "--json",
            *options,
        ],
    )


def outcome(result: Result) -> dict:
    return json.loads(result.stdout.strip().splitlines()[-1])


def judged(demo: DemoSite, answer: str | None) -> bool:
    with httpx.Client(
        base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('alice')}"}
    ) as client:
        return evaluate(TASK, answer, client).passed


@pytest.mark.parametrize("honour_stop", [True, False], ids=["stop-honoured", "stop-ignored"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_task_end_to_end_through_each_provider(protocol, honour_stop, registered, demo) -> None:
    # Content blocks (Anthropic: a thinking block, then the text in two blocks), streaming, and a model that
    # writes on past its block when the server ignores the stop sequence: only the first block runs.
    script = reference_script([TASK], imagined_next_step=not honour_stop, blocks=True)
    with model_server(protocol, script, honour_stop=honour_stop) as server:
        result = run(server)
    assert result.exit_code == 0, result.output
    finished = outcome(result)
    assert finished["status"] == "finished" and judged(demo, finished["answer"]), finished
    assert "imagined" not in finished["answer"]
    assert all(server.requests), "every request was answered"
    stops = {"openai": "stop", "anthropic": "stop_sequences", "ollama": "options"}[protocol]
    assert all(stops in body for body in server.requests)
    assert all(body.get("stream", True) for body in server.requests)
    steps = RunStore(registered.effective_database_url).steps_of(finished["run_id"])
    # What the model sees of its own earlier reply is the reply as it ran: cut after its code block.
    assert [s.reply.endswith("```") for s in steps] == [True, True]
    assert not any("imagined" in s.reply for s in steps)


def test_anthropic_prompts_mark_cache_breakpoints(registered) -> None:
    with model_server("anthropic", reference_script([TASK])) as server:
        assert run(server).exit_code == 0
    last = server.requests[-1]
    assert last["system"][-1]["cache_control"] == {"type": "ephemeral"}
    assert last["messages"][-1]["content"][-1]["cache_control"] == {"type": "ephemeral"}
    assert not any(
        "cache_control" in block
        for message in last["messages"][:-1]
        for block in message["content"]
        if isinstance(block, dict)
    )


@pytest.mark.parametrize("protocol", ["openai", "anthropic"])
def test_cost_per_step_and_run_prices_cached_tokens_as_cached(protocol, registered) -> None:
    with model_server(protocol, reference_script([TASK], cached_tokens=500)) as server:
        finished = outcome(run(server))
    store = RunStore(registered.effective_database_url)
    steps = store.steps_of(finished["run_id"])
    name = server.model.partition(":")[2]
    for step in steps:
        assert step.prompt_tokens > 500
        cached = calc_price(
            Usage(
                input_tokens=step.prompt_tokens, cache_read_tokens=500, output_tokens=step.completion_tokens
            ),
            model_ref=name,
            provider_id=protocol,
        )
        uncached = calc_price(
            Usage(input_tokens=step.prompt_tokens, output_tokens=step.completion_tokens),
            model_ref=name,
            provider_id=protocol,
        )
        assert step.cost == pytest.approx(float(cached.total_price)) and step.cost < float(
            uncached.total_price
        )
    assert finished["cost"] == pytest.approx(sum(step.cost for step in steps))
    assert store.get_run(finished["run_id"]).cost == pytest.approx(finished["cost"])
    shown = CliRunner().invoke(cli, ["runs", "show", finished["run_id"]])
    assert f"${finished['cost']:.4f}" in shown.output and f"${steps[0].cost:.4f}" in shown.output
    listed = CliRunner().invoke(cli, ["runs", "list"], env={"COLUMNS": "200"})
    assert f"${finished['cost']:.4f}" in listed.output


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_each_steps_tokens_are_the_usage_its_provider_reported(protocol, registered) -> None:
    # OpenAI: the stream's last chunk (`stream_options.include_usage`); Anthropic: `message_start` and
    # `message_delta`; Ollama: `prompt_eval_count` and `eval_count` on the final line.
    with model_server(protocol, reference_script([TASK])) as server:
        finished = outcome(run(server))
    assert finished["status"] == "finished" and finished["usage_estimated"] is False
    store = RunStore(registered.effective_database_url)
    steps = store.steps_of(finished["run_id"])
    assert [s.prompt_tokens for s in steps] == server.prompt_tokens
    assert [s.completion_tokens for s in steps] == server.completion_tokens
    recorded = store.get_run(finished["run_id"])
    assert recorded.prompt_tokens == sum(server.prompt_tokens)
    assert recorded.completion_tokens == sum(server.completion_tokens)
    assert finished["tokens"] == sum(server.prompt_tokens) + sum(server.completion_tokens)


def test_ollama_models_have_no_price_and_say_so(registered) -> None:
    with model_server("ollama", reference_script([TASK])) as server:
        result = CliRunner().invoke(
            cli, ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url]
        )
        refused = run(server, TASK.intent, "--max-cost", "0.01")
    assert result.exit_code == 0 and "cost unknown" in result.output
    assert refused.exit_code == 1 and "No price is known for model 'ollama:qwen2.5-coder'" in refused.output


def test_max_cost_ends_the_run_with_its_own_status(registered) -> None:
    with model_server("openai", in_order(*[STEP] * 10)) as server:
        result = run(server, TASK.intent, "--max-cost", "0.0002")
    finished = outcome(result)
    assert result.exit_code == 1 and finished["status"] == "max_cost"
    assert finished["cost"] >= 0.0002 and "reaching its limit of $0.0002" in finished["error"]
    assert finished["steps"] < 10


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("status", [429, 503])
def test_rate_limits_and_server_errors_are_retried(protocol, status, registered) -> None:
    busy = Turn(status=status, error="Slow down.", retry_after="0")
    with model_server(protocol, in_order(busy, busy, STEP, FINISH)) as server:
        finished = outcome(run(server))
    assert finished["status"] == "finished" and len(server.requests) == 4


def test_retry_after_is_honoured_and_backoff_without_it(registered) -> None:
    # One second asked for by the server, then 1 s of backoff: the run waits both out and goes on.
    script = in_order(Turn(status=429, retry_after="1"), Turn(status=502), STEP, FINISH)
    with model_server("openai", script) as server:
        assert outcome(run(server))["status"] == "finished"


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_when_retries_run_out_the_error_is_one_line_naming_the_run(protocol, registered) -> None:
    with model_server(
        protocol, in_order(*[Turn(status=529 if protocol == "anthropic" else 503, retry_after="0")] * 3)
    ) as server:
        result = CliRunner().invoke(
            cli, ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url]
        )
    assert result.exit_code == 1 and len(server.requests) == 3
    error = result.output.strip().splitlines()[-1]
    run_id = RunStore(registered.effective_database_url).list_runs(1)[0].id
    assert re.match(
        rf"Error: Run {run_id} stopped: ModelCallError: The model call failed after 3 attempts: \w+ "
        r"\(HTTP 5\d\d\)",
        error,
    ), error
    assert "Traceback" not in result.output


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_call_that_times_out_is_retried(protocol, registered, monkeypatch) -> None:
    monkeypatch.setenv("HYBRID_MODEL_TIMEOUT_SECONDS", "1")
    slow = Turn(text=STEP, delay=3)
    with model_server(protocol, in_order(slow, STEP, FINISH)) as server:
        finished = outcome(run(server))
    assert finished["status"] == "finished"
    monkeypatch.setenv("HYBRID_MODEL_RETRIES", "0")
    with model_server(protocol, in_order(slow)) as server:
        failed = outcome(run(server))
    assert failed["status"] == "error" and "did not answer in time" in failed["error"]


CONTEXT_ERRORS = {
    "openai": (
        "openai",
        None,
        (
            "This model's maximum context length is 128000 tokens. "
            "However, your messages resulted in 130000 tokens."
        ),
    ),
    "anthropic": ("anthropic", None, "prompt is too long: 210000 tokens > 200000 maximum"),
    "ollama": ("ollama", None, "the input length exceeds the context length"),
    "vllm": (
        "openai",
        None,
        "The decoder prompt (length 5000) is longer than the maximum model length of 4096.",
    ),
    "llama.cpp": (
        "openai",
        "exceed_context_size_error",
        "the request exceeds the available context size, try increasing it",
    ),
}


@pytest.mark.parametrize("server_kind", CONTEXT_ERRORS)
def test_a_context_length_error_condenses_the_prompt_and_retries_once(server_kind, registered) -> None:
    protocol, error_type, message = CONTEXT_ERRORS[server_kind]
    page = "print('x' * 3000)"
    long_step = f"Thought: look.\n```python\n{page}\n```\n"
    too_long = Turn(status=400, error=message, error_type=error_type)
    with model_server(protocol, in_order(long_step, long_step, too_long, FINISH)) as server:
        finished = outcome(run(server))
    assert finished["status"] == "finished"
    before, after = server.requests[2], server.requests[3]
    assert len(json.dumps(after)) < len(json.dumps(before)) - 2000
    assert "condensed to fit the context window" in json.dumps(after)
    with model_server(protocol, in_order(long_step, too_long, too_long)) as server:
        stopped = outcome(run(server))
    assert stopped["status"] == "context_length" and "longer context window" in stopped["error"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_empty_reply_is_pointed_out_then_ends_the_run(protocol, registered) -> None:
    with model_server(protocol, in_order("", "")) as server:
        stopped = outcome(run(server))
    assert stopped["status"] == "error" and "empty reply 2 times in a row" in stopped["error"]
    assert "Your reply was empty, so nothing ran." in json.dumps(server.requests[1])


def test_an_anthropic_refusal_ends_the_run_as_refused(registered) -> None:
    with model_server("anthropic", in_order(Turn(refusal="I can't help with that."))) as server:
        result = run(server)
    stopped = outcome(result)
    assert result.exit_code == 1 and stopped["status"] == "refused"
    assert "the model refused the task (I can't help with that.)" in stopped["error"]


def test_a_streamed_openai_refusal_ends_the_run_as_refused(registered) -> None:
    # langchain-openai drops a streamed `delta.refusal`; the agent's OpenAI model keeps it.
    with model_server("openai", in_order(Turn(refusal="I can't help with that."))) as server:
        result = run(server)
    stopped = outcome(result)
    assert result.exit_code == 1 and stopped["status"] == "refused" and stopped["answer"] is None
    assert "the model refused the task (I can't help with that.)" in stopped["error"]
    assert len(server.requests) == 1


def test_a_reply_stopped_by_openais_content_filter_ends_the_run_as_refused(registered) -> None:
    # Azure OpenAI's filter ends a stream with finish_reason `content_filter`, the reply cut or empty.
    with model_server("openai", in_order(Turn(text="", finish_reason="content_filter"))) as server:
        result = run(server)
    stopped = outcome(result)
    assert result.exit_code == 1 and stopped["status"] == "refused" and len(server.requests) == 1
    assert "the provider stopped the reply as a refusal" in stopped["error"]


def test_an_overloaded_error_inside_an_anthropic_stream_is_retried(registered) -> None:
    # Anthropic answers 200, streams the start of the reply, then sends `event: error` (overloaded_error).
    overloaded = Turn(text=STEP, stream_error="overloaded_error", blocks=True)
    with model_server("anthropic", in_order(overloaded, STEP, FINISH)) as server:
        finished = outcome(run(server))
    assert finished["status"] == "finished" and len(server.requests) == 3


# What Ollama sends inside a stream it already answered with 200 (a line `{"error": "..."}`, no status, no
# type), and what the agent makes of it: its runner stopped (a new request starts it again), the prompt is
# past the context (condense), or anything else (say so at once).
OLLAMA_RUNNER_STOPPED = (
    "model runner has unexpectedly stopped, this may be due to resource limitations or an internal error, "
    "check ollama server logs for details"
)
OLLAMA_UNREADABLE = "XML syntax error on line 1: element <parameter> closed by </function>"


def test_an_error_line_inside_an_ollama_stream_is_retried_or_reported_by_kind(registered) -> None:
    stopped = Turn(text=STEP, stream_error=OLLAMA_RUNNER_STOPPED)
    with model_server("ollama", in_order(stopped, STEP, FINISH)) as server:
        finished = outcome(run(server))
    assert finished["status"] == "finished" and len(server.requests) == 3
    long_step = "Thought: look.\n```python\nprint('x' * 3000)\n```\n"
    too_long = Turn(text=STEP, stream_error="the input length exceeds the context length")
    with model_server("ollama", in_order(long_step, long_step, too_long, FINISH)) as server:
        condensed = outcome(run(server))
    assert condensed["status"] == "finished" and len(server.requests) == 4
    assert "condensed to fit the context window" in json.dumps(server.requests[3])
    with model_server("ollama", in_order(Turn(text=STEP, stream_error=OLLAMA_UNREADABLE), STEP)) as server:
        result = run(server)
    reported = outcome(result)
    assert result.exit_code == 1 and reported["status"] == "error" and len(server.requests) == 1
    said = f"OllamaStreamError: Ollama stopped its reply with an error: {OLLAMA_UNREADABLE}."
    assert said in reported["error"], reported["error"]


def anthropic_price(input_tokens: int, output_tokens: int) -> float:
    return float(
        calc_price(
            Usage(input_tokens=input_tokens, output_tokens=output_tokens),
            model_ref="claude-3-5-haiku-latest",
            provider_id="anthropic",
        ).total_price
    )


def test_a_retried_attempt_that_broke_off_counts_in_the_steps_cost(registered) -> None:
    # The first attempt is overloaded after message_start reported its input and a piece of text came: it
    # was paid for, so the step costs both attempts (its output estimated from the text streamed).
    overloaded = Turn(text=STEP, stream_error="overloaded_error")
    with model_server("anthropic", in_order(overloaded, STEP, FINISH)) as server:
        finished = outcome(run(server))
    assert finished["status"] == "finished" and len(server.requests) == 3
    store = RunStore(registered.effective_database_url)
    (first, second, third), (_, written, last) = server.prompt_tokens, server.completion_tokens
    step = store.steps_of(finished["run_id"])[0]
    broken = estimate_tokens(server.broken_off[0])
    assert step.prompt_tokens == first + second
    assert step.cost == pytest.approx(anthropic_price(first, broken) + anthropic_price(second, written))
    assert finished["cost"] == pytest.approx(step.cost + anthropic_price(third, last))


def test_attempts_that_broke_off_count_when_retries_run_out(registered) -> None:
    overloaded = Turn(text=STEP, stream_error="overloaded_error", retry_after="0")
    with model_server("anthropic", in_order(overloaded, overloaded, overloaded)) as server:
        result = run(server)
    assert result.exit_code == 1 and len(server.requests) == 3
    stopped = RunStore(registered.effective_database_url).list_runs(1)[0]
    broken = estimate_tokens(STEP[: -(-len(STEP) // 3)])
    assert stopped.status == "error" and stopped.prompt_tokens == sum(server.prompt_tokens)
    assert stopped.cost == pytest.approx(
        sum(anthropic_price(tokens, broken) for tokens in server.prompt_tokens)
    )


def test_a_run_whose_tokens_include_an_estimate_says_so(registered) -> None:
    # OpenAI sends usage only in a stream's last chunk: an attempt that broke off is estimated, and the step
    # that retried it, the run, `runs show`, its --json and `runs list` say so.
    broken = Turn(text=STEP, stream_error="server_error")
    with model_server("openai", in_order(broken, STEP, FINISH)) as server:
        finished = outcome(run(server))
    assert finished["status"] == "finished" and finished["usage_estimated"] is True
    run_id = finished["run_id"]
    document = json.loads(CliRunner().invoke(cli, ["runs", "show", run_id, "--json"]).output)
    assert document["usage_estimated"] is True
    assert [step["usage_estimated"] for step in document["steps"]] == [True, False]
    shown = CliRunner().invoke(cli, ["runs", "show", run_id], env={"COLUMNS": "200"}).output
    assert "completion tokens, partly estimated ·" in shown and shown.count("partly estimated") == 2
    listed = CliRunner().invoke(cli, ["runs", "list"], env={"COLUMNS": "200"}).output
    assert f"~{finished['tokens']}" in listed
    # Attempts that belong to no step (the retries ran out) mark the run.
    with model_server("openai", in_order(broken, broken, broken)) as server:
        assert run(server).exit_code == 1 and len(server.requests) == 3
    stopped = RunStore(registered.effective_database_url).list_runs(1)[0]
    assert stopped.status == "error" and stopped.steps == 0 and stopped.usage_estimated
    # A run whose every count was reported says nothing of the kind.
    with model_server("openai", in_order(STEP, FINISH)) as server:
        clean = outcome(run(server))
    assert clean["usage_estimated"] is False
    document = json.loads(CliRunner().invoke(cli, ["runs", "show", clean["run_id"], "--json"]).output)
    assert document["usage_estimated"] is False and not any(s["usage_estimated"] for s in document["steps"])
    assert "estimated" not in CliRunner().invoke(cli, ["runs", "show", clean["run_id"]]).output


def test_anthropic_input_tokens_are_read_from_message_start(registered) -> None:
    # message_delta carries only the output tokens (older streams, Anthropic-compatible servers).
    script = in_order(*[Turn(text=STEP, output_only_usage=True)] * 10)
    with model_server("anthropic", script) as server:
        stopped = outcome(run(server, TASK.intent, "--max-cost", "0.006"))
    steps = RunStore(registered.effective_database_url).steps_of(stopped["run_id"])
    for step in steps:
        assert step.prompt_tokens > 1000
        price = calc_price(
            Usage(input_tokens=step.prompt_tokens, output_tokens=step.completion_tokens),
            model_ref="claude-3-5-haiku-latest",
            provider_id="anthropic",
        )
        assert step.cost == pytest.approx(float(price.total_price))
    assert stopped["status"] == "max_cost" and 0.006 <= stopped["cost"] < 0.006 + steps[-1].cost
    assert len(server.requests) == len(steps) < 10


def test_ollama_runs_the_model_with_its_own_context_or_the_users(registered, monkeypatch) -> None:
    # Without num_ctx Ollama runs with 4,096 tokens and drops the start of a longer prompt: the task.
    long_step = "Thought: look.\n```python\nprint('x' * 6000)\n```\n"
    with model_server("ollama", in_order(long_step, long_step, long_step, FINISH)) as server:
        finished = outcome(run(server))
    assert finished["status"] == "finished"
    assert server.truncated == [] and len(server.requests) == 4
    assert all(body["options"]["num_ctx"] == 32768 for body in server.requests)
    # A Modelfile's `PARAMETER num_ctx` is the context the model is set up with: it comes first.
    with model_server("ollama", in_order(long_step, FINISH), num_ctx=16384) as server:
        assert outcome(run(server))["status"] == "finished"
    assert all(body["options"]["num_ctx"] == 16384 for body in server.requests)
    monkeypatch.setenv("HYBRID_MODEL_CONTEXT_TOKENS", "20000")
    with model_server("ollama", in_order(long_step, FINISH)) as server:
        assert outcome(run(server))["status"] == "finished"
    assert all(body["options"]["num_ctx"] == 20000 for body in server.requests)


def test_a_prompt_past_ollamas_context_is_condensed_not_cut(registered) -> None:
    # Ollama would silently cut a prompt longer than num_ctx: the agent condenses it before sending.
    long_step = "Thought: look.\n```python\nprint('x' * 6000)\n```\n"
    with model_server("ollama", in_order(long_step, long_step, FINISH), context_length=5000) as server:
        finished = outcome(run(server))
    assert finished["status"] == "finished" and server.truncated == []
    assert "condensed to fit the context window" in json.dumps(server.requests[-1])


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_the_thought_streams_before_the_code_and_observation(protocol, registered) -> None:
    reply = (
        "Thought: I will count the open bugs through the API, which is faster than the browser.\n" + STEP[23:]
    )
    with model_server(protocol, in_order(reply, FINISH)) as server:
        result = CliRunner().invoke(
            cli, ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url]
        )
    assert result.exit_code == 0, result.output
    output = result.output
    thought = output.index("I will count the open bugs through the API")
    assert thought < output.index("list_issues(") < output.index("Calls made")
    assert "Thought:" not in output and output.count("I will count the open bugs") == 1


def test_retries_and_thinking_are_shown_live(registered) -> None:
    overloaded = Turn(text=STEP, stream_error="overloaded_error", blocks=True)
    script = in_order(overloaded, Turn(text=STEP, blocks=True), Turn(text=FINISH, blocks=True))
    with model_server("anthropic", script) as server:
        shown = CliRunner().invoke(
            cli, ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url]
        )
    assert shown.exit_code == 0, shown.output
    assert "model call failed (APIStatusError (HTTP 200): Overloaded" in shown.output
    assert "retrying in 1.0 s (2 of 3)" in shown.output
    thinking = shown.output.index("Let me think about the API first.")
    assert thinking < shown.output.index("count them.") < shown.output.index("list_issues(")
    # Thinking is dimmed (as a terminal shows it: ANSI dim and italic), the thought is not.
    with model_server("anthropic", in_order(Turn(text=STEP, blocks=True), FINISH)) as server:
        colour = CliRunner().invoke(
            cli,
            ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url],
            env={"FORCE_COLOR": "1", "NO_COLOR": None},
        )
    assert "\x1b[2;3mLet me think about the API first." in colour.output, repr(colour.output[:600])
    assert "\x1b[2;3mcount them." not in colour.output
    with model_server("anthropic", in_order(Turn(text=STEP, blocks=True), FINISH)) as server:
        hidden = CliRunner().invoke(
            cli,
            ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url]
            + ["--hide-thinking"],
        )
    assert hidden.exit_code == 0 and "Let me think" not in hidden.output and "count them." in hidden.output


def test_ollamas_own_thinking_is_shown_dimmed_and_can_be_hidden(registered) -> None:
    # A model /api/show says can think is asked to (`think`): its thinking streams apart from the reply
    # (`message.thinking`) instead of inside it between <think> tags.
    thought = "First I should look at the API for open bugs."
    turns = (Turn(text=STEP, reasoning=thought), Turn(text=FINISH, reasoning=thought))
    with model_server("ollama", in_order(*turns), thinking=True) as server:
        shown = CliRunner().invoke(
            cli, ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url]
        )
    assert shown.exit_code == 0, shown.output
    assert all(body["think"] is True for body in server.requests)
    assert (
        shown.output.index(thought) < shown.output.index("count them.") < shown.output.index("list_issues(")
    )
    steps = RunStore(registered.effective_database_url).list_runs(1)[0]
    assert "<think>" not in json.dumps(server.requests[-1]) and steps.status == "finished"
    with model_server("ollama", in_order(*turns), thinking=True) as server:
        hidden = CliRunner().invoke(
            cli,
            ["run", TASK.intent, "--site", "demo", "--model", server.model, "--base-url", server.url]
            + ["--hide-thinking"],
        )
    assert hidden.exit_code == 0 and thought not in hidden.output and "count them." in hidden.output
    # A model that cannot think is not asked to (Ollama would refuse the request).
    with model_server("ollama", in_order(STEP, FINISH)) as server:
        assert outcome(run(server))["status"] == "finished"
    assert not any(body.get("think") for body in server.requests)


LARGE_STEP = (
    "Thought: list them.\n```python\nprint('\\n'.join(f'[{i:03}] row {i:03} of a large listing, with its "
    "fields: name, state, owner' for i in range(90)))\n```\n"
)


def reusable_prefix(server: ModelServer) -> list[float]:
    """For each request after the first, the share of its prompt (as the provider received it: the
    system prompt, then each message's role and text) that equals the previous request's, from the start:
    what a provider's prompt cache can reuse."""
    prompts = [
        conversation.system + "".join(role + text for role, text in conversation.messages)
        for conversation in (read_conversation(server.protocol, body) for body in server.requests)
    ]
    return [len(os.path.commonprefix([a, b])) / len(b) for a, b in itertools.pairwise(prompts)]


def test_condensing_keeps_the_prompt_the_provider_receives_reusable(registered, monkeypatch) -> None:
    # 20 steps printing ~7,000 characters each, over HTTP: the agent condenses older observations one a
    # step, and the prompts the server receives keep their prefix as an append-only transcript's do.
    monkeypatch.setenv("HYBRID_MAX_TOKENS", "10000000")
    with model_server("openai", in_order(*[LARGE_STEP] * 19, FINISH)) as server:
        assert outcome(run(server))["status"] == "finished"
    condensing = reusable_prefix(server)
    monkeypatch.setattr(observation, "OBSERVATION_BUDGET_CHARS", 10**12)  # nothing is ever condensed
    with model_server("openai", in_order(*[LARGE_STEP] * 19, FINISH)) as server:
        assert outcome(run(server))["status"] == "finished"
    append_only = reusable_prefix(server)
    assert len(condensing) == len(append_only) == 19 and condensing != append_only, "some step condensed"
    assert all(share >= min(0.7, plain) for share, plain in zip(condensing, append_only, strict=True)), (
        condensing
    )
    assert statistics.mean(condensing) >= statistics.mean(append_only) - 0.03, (condensing, append_only)
