"""How the agent calls a model: how long it waits before retrying, what it gives up on, and how it reads a
reply given as content blocks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from genai_prices import Usage, calc_price
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from model_servers import Turn, in_order, model_server

from hybrid.agent.cost import Pricing, TokenUsage
from hybrid.agent.model_calls import (
    ContextTooLong,
    CostLimitReached,
    ModelCaller,
    ModelCallError,
    reply_text,
)
from hybrid.agent.models import load_chat_model
from sandbox.text import estimate_tokens

pytestmark = pytest.mark.kernel


class ProviderError(Exception):
    """Shaped like the SDKs' status errors: a status code and the HTTP response."""

    def __init__(self, status: int, headers: dict[str, str] | None = None, message: str = "busy") -> None:
        super().__init__(message)
        self.status_code = status
        self.response = httpx.Response(status, headers=headers or {})


class FailingModel(BaseChatModel):
    """Raises each of `failures` in turn, then replies."""

    failures: list[Any]
    calls: int = 0

    @property
    def _llm_type(self) -> str:
        return "failing"

    def _generate(
        self, messages: list[BaseMessage], stop: list[str] | None = None, run_manager=None, **kwargs: Any
    ) -> ChatResult:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)
        content = [
            {"type": "text", "text": "Thought: ok.\n"},
            {"type": "text", "text": "```python\nx = 1\n```"},
        ]
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=content))])


def waits_for(*failures: Exception, retries: int = 4) -> tuple[list[float], ModelCaller]:
    waited: list[float] = []
    caller = ModelCaller(FailingModel(failures=list(failures)), retries=retries, sleep=waited.append)
    caller([HumanMessage("task")])
    return waited, caller


def test_retry_after_is_honoured_in_seconds_dates_and_milliseconds() -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    waited, _ = waits_for(
        ProviderError(429, {"retry-after": "7"}),
        ProviderError(503, {"retry-after": when}),
        ProviderError(429, {"retry-after-ms": "250"}),
    )
    assert waited[0] == 7 and 25 < waited[1] <= 30 and waited[2] == 0.25


def test_without_retry_after_the_wait_doubles_and_a_huge_one_is_capped() -> None:
    waited, _ = waits_for(
        ProviderError(500),
        ProviderError(502),
        httpx.ReadTimeout("slow"),
        ProviderError(429, {"retry-after": "3600"}),
    )
    assert waited == [1.0, 2.0, 4.0, 60.0]


def test_client_errors_are_not_retried_and_retries_run_out() -> None:
    with pytest.raises(ModelCallError, match=r"The model call failed: ProviderError \(HTTP 401\): bad key"):
        waits_for(ProviderError(401, message="bad key"))
    with pytest.raises(ModelCallError, match="failed after 3 attempts"):
        waits_for(*[ProviderError(503)] * 3, retries=2)


def test_a_context_length_error_is_told_apart_and_not_retried() -> None:
    with pytest.raises(ContextTooLong, match="longer than the model's context window"):
        waits_for(ProviderError(400, message="This model's maximum context length is 8192 tokens"))


def test_a_reply_in_content_blocks_is_read_as_its_text() -> None:
    _, caller = waits_for()
    reply = caller([HumanMessage("task")])
    assert reply.text == "Thought: ok.\n```python\nx = 1\n```"
    assert (
        reply_text(
            AIMessage(content=[{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "hi"}])
        )
        == "hi"
    )


def test_ollamas_retry_after_is_honoured() -> None:
    # The ollama client keeps only an error's body: the agent's Ollama model keeps its headers too.
    script = in_order(
        Turn(status=429, error="busy", retry_after="7"), Turn(status=503, retry_after="3"), "ok"
    )
    with model_server("ollama", script) as server:
        waited: list[float] = []
        caller = ModelCaller(load_chat_model(server.model, base_url=server.url), sleep=waited.append)
        assert caller([HumanMessage("task")]).text == "ok"
    assert waited == [7.0, 3.0]


def no_wait(_: float) -> None:
    pass


class Listener:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any]] = []

    def text(self, delta: str) -> None:
        self.events.append(("text", delta))

    def thinking(self, delta: str) -> None:
        self.events.append(("thinking", delta))

    def retry(self, problem: str, wait: float, attempt: int, attempts: int) -> None:
        self.events.append(("retry", (problem, wait, attempt, attempts)))


def test_reasoning_content_from_an_openai_compatible_server_is_thinking() -> None:
    with model_server("openai", in_order(Turn(text="hello", reasoning="First, the API."))) as server:
        caller = ModelCaller(load_chat_model(server.model, base_url=server.url))
        caller.listener = listener = Listener()
        assert caller([HumanMessage("task")]).text == "hello"
    assert "".join(d for k, d in listener.events if k == "thinking") == "First, the API."


def test_thinking_text_and_retries_reach_the_listener() -> None:
    script = in_order(Turn(text="hello", stream_error="overloaded_error"), Turn(text="hello", blocks=True))
    with model_server("anthropic", script) as server:
        caller = ModelCaller(load_chat_model(server.model, base_url=server.url), sleep=lambda _: None)
        caller.listener = listener = Listener()
        assert caller([HumanMessage("task")]).text == "hello"
    # The failed attempt streamed a piece of its reply; the listener is told it is void, then the retry.
    kinds = [kind for kind, _ in listener.events]
    assert kinds[:2] == ["text", "retry"] and "overloaded" in listener.events[1][1][0]
    retried = listener.events[2:]
    assert [k for k, _ in retried].index("thinking") < [k for k, _ in retried].index("text")
    assert "".join(d for k, d in retried if k == "thinking") == "Let me think about the API first."
    assert "".join(d for k, d in retried if k == "text") == "hello"


def price(model: str, input_tokens: int, output_tokens: int) -> float:
    return float(
        calc_price(
            Usage(input_tokens=input_tokens, output_tokens=output_tokens),
            model_ref=model.partition(":")[2],
            provider_id=model.partition(":")[0],
        ).total_price
    )


PROMPT = "Count the open bugs of tracker-core. " * 40
ANSWER = "There are 42 open bugs in tracker-core."
FIRST_PIECE = ANSWER[:13]  # the server streams a reply in three pieces
BILLED = len(ANSWER) // 4  # the output tokens the server reports for a whole reply


def test_an_anthropic_attempt_that_broke_off_is_paid_for_with_its_reported_input() -> None:
    # Overloaded after message_start (which reports the input tokens) and the first piece of text: that
    # attempt was paid for; its output is estimated from what was streamed, and said to be.
    script = in_order(Turn(text=ANSWER, stream_error="overloaded_error"), ANSWER)
    with model_server("anthropic", script) as server:
        caller = ModelCaller(
            load_chat_model(server.model, base_url=server.url), pricing=Pricing(server.model), sleep=no_wait
        )
        caller.listener = listener = Listener()
        reply = caller([HumanMessage(PROMPT)], cache=False)
    first, second = server.prompt_tokens
    streamed = estimate_tokens(FIRST_PIECE)
    assert reply.retried == TokenUsage(input_tokens=first, output_tokens=streamed) and reply.estimated
    assert reply.usage.input_tokens == first + second
    both = price(server.model, first, streamed) + price(server.model, second, BILLED)
    assert reply.cost == pytest.approx(both) and caller.spent == pytest.approx(both)
    ((problem, *_),) = [event for kind, event in listener.events if kind == "retry"]
    assert f"{first:,} input and {streamed:,} output tokens counted, estimated" in problem


@pytest.mark.parametrize("kind", ["server_error", "rate_limit_exceeded", "server_is_overloaded"])
def test_an_openai_error_inside_a_stream_is_retried_by_type_and_its_attempt_estimated(kind) -> None:
    # OpenAI answers 200, streams a piece of the reply, then a chunk {"error": {"type": ...}}: no status to
    # go by, and no usage (it comes only in the last chunk), so the attempt is estimated.
    script = in_order(Turn(text=ANSWER, stream_error=kind), ANSWER)
    with model_server("openai", script) as server:
        caller = ModelCaller(
            load_chat_model(server.model, base_url=server.url), pricing=Pricing(server.model), sleep=no_wait
        )
        reply = caller([HumanMessage(PROMPT)])
    assert reply.text == ANSWER and len(server.requests) == 2
    guessed = TokenUsage(input_tokens=estimate_tokens(PROMPT), output_tokens=estimate_tokens(FIRST_PIECE))
    assert reply.retried == guessed and reply.estimated
    answered = server.prompt_tokens[1]  # the server knows both; only the second reported them
    assert reply.cost == pytest.approx(
        price(server.model, guessed.input_tokens, guessed.output_tokens)
        + price(server.model, answered, BILLED)
    )


def test_an_ollama_error_line_inside_a_stream_is_retried_and_its_attempt_estimated() -> None:
    # Ollama answers 200, streams a piece of the reply, then `{"error": "..."}`: the ollama client raises it
    # with status -1 and no type; its runner stopped, so a new request is made. Ollama reports usage only
    # in its last line, so the broken attempt is estimated (and has no price: Ollama models are free).
    stopped = (
        "model runner has unexpectedly stopped, this may be due to resource limitations or an internal "
        "error, check ollama server logs for details"
    )
    with model_server("ollama", in_order(Turn(text=ANSWER, stream_error=stopped), ANSWER)) as server:
        caller = ModelCaller(load_chat_model(server.model, base_url=server.url), sleep=no_wait)
        caller.listener = listener = Listener()
        reply = caller([HumanMessage(PROMPT)])
    assert reply.text == ANSWER and len(server.requests) == 2
    guessed = TokenUsage(input_tokens=estimate_tokens(PROMPT), output_tokens=estimate_tokens(FIRST_PIECE))
    assert reply.retried == guessed and reply.estimated and reply.cost is None
    ((problem, wait, *_),) = [event for kind, event in listener.events if kind == "retry"]
    assert problem.startswith(f"OllamaStreamError: Ollama stopped its reply with an error: {stopped}")
    assert "HTTP -1" not in problem and problem.endswith("output tokens counted, estimated") and wait == 1.0


def test_an_error_before_anything_streamed_costs_nothing() -> None:
    with model_server("openai", in_order(Turn(status=503), ANSWER)) as server:
        caller = ModelCaller(
            load_chat_model(server.model, base_url=server.url), pricing=Pricing(server.model), sleep=no_wait
        )
        reply = caller([HumanMessage(PROMPT)])
    assert reply.retried == TokenUsage() and not reply.estimated
    assert reply.cost == pytest.approx(price(server.model, server.prompt_tokens[0], BILLED))


def test_failed_attempts_that_reach_the_cost_limit_stop_the_retries() -> None:
    broken = Turn(text=ANSWER, stream_error="overloaded_error")
    with model_server("anthropic", in_order(broken, broken, broken)) as server:
        caller = ModelCaller(
            load_chat_model(server.model, base_url=server.url),
            pricing=Pricing(server.model),
            sleep=no_wait,
            max_cost=0.0005,
        )
        with pytest.raises(CostLimitReached, match="with the failed attempts") as stopped:
            caller([HumanMessage(PROMPT * 2)])
    assert len(server.requests) < 3 and stopped.value.cost == pytest.approx(caller.spent)
    assert stopped.value.usage.input_tokens == sum(server.prompt_tokens)


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize("provider", ["ollama", "openai"])
def test_an_unreachable_server_is_named_at_once_without_retries(
    provider: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = closed_port()
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    if provider == "ollama":
        monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")  # where the user says the server is
        model = load_chat_model("ollama:qwen2.5-coder", context_tokens=8192)
    else:
        model = load_chat_model("openai:local", base_url=f"http://127.0.0.1:{port}/v1")
    waited: list[float] = []
    caller = ModelCaller(model, sleep=waited.append)
    with pytest.raises(ModelCallError) as raised:
        caller([HumanMessage("task")])
    assert waited == []  # was 1, 2, 4 and 8 s of backoff before saying anything
    message = str(raised.value)
    assert message.startswith(f"Cannot reach the model's server at http://127.0.0.1:{port}")
    assert ("OLLAMA_HOST" in message) == (provider == "ollama")


def test_ollamas_context_size_names_the_host_it_could_not_reach(monkeypatch: pytest.MonkeyPatch) -> None:
    from hybrid.agent.model_spec import ModelError

    port = closed_port()
    monkeypatch.setenv("OLLAMA_HOST", f"127.0.0.1:{port}")
    with pytest.raises(
        ModelError, match=rf"Cannot reach the Ollama server at http://127.0.0.1:{port}: .*OLLAMA_HOST"
    ):
        load_chat_model("ollama:qwen2.5-coder")
