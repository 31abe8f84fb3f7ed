"""Every call to the chat model a run makes (act, judge, induce) goes through one `ModelCaller`: streamed (so
the thought, and a model's thinking, can be shown as they are written), retried with backoff on rate
limits, overload, server errors and timeouts, read into plain data, priced, and held to the run's cost
limit.

Providers differ in how they fail; what the agent needs from a failure is one of three things: wait and
try again (`transient`), shrink the prompt (`ContextTooLong`), or stop with a clear message
(`ModelCallError`).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage

from hybrid.agent.cost import Pricing, TokenUsage
from sandbox.errors import HybridError
from sandbox.text import estimate_tokens
from workflows.lifting import InductionRefused

RETRYABLE_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504, 529}
# The `type` or `code` of an error a server sends inside a stream it already answered with HTTP 200
# (Anthropic's `event: error`; OpenAI's `{"error": ...}` chunk, which vLLM and llama.cpp's server send too,
# with the HTTP status as `code`): these say "try again", like the statuses above.
RETRYABLE_ERROR_TYPES = {
    "overloaded_error",  # Anthropic
    "rate_limit_error",
    "api_error",
    "timeout_error",
    "server_error",  # OpenAI
    "server_is_overloaded",
    "service_unavailable",
    "slow_down",
    "rate_limit_exceeded",
}
# How each provider says the prompt is too long: OpenAI and vLLM ("maximum context length", code
# context_length_exceeded; vLLM also "longer than the maximum model length"), Anthropic ("prompt is too
# long", "exceed context limit"), Ollama ("exceeds the context length"), llama.cpp's server ("exceeds the
# available context size", type exceed_context_size_error).
CONTEXT_TOO_LONG = re.compile(
    r"context[_ ]length|context window|maximum context|prompt is too long|too many tokens|input is too long"
    r"|exceeds? the available context size|exceed_context_size|exceed context limit|maximum model length",
    re.IGNORECASE,
)
MAX_RETRY_AFTER_SECONDS = 60.0
BACKOFF_BASE_SECONDS = 1.0
# Room left for the reply when the caller checks a prompt against a context size it knows (Ollama's
# `num_ctx`, which Ollama fills by silently dropping the start of a longer prompt).
REPLY_RESERVE_TOKENS = 1024


class ModelCallError(HybridError):
    """The model could not be called (after retries, where retrying made sense); one line says why.

    `usage` and `cost` are what its failed attempts used (a stream that ended early on an error is paid
    for): already in the caller's `usage` and `spent`, for whoever records the run's totals; `estimated`
    when some of those counts are the caller's estimate."""

    usage: TokenUsage = TokenUsage()
    cost: float = 0.0
    estimated: bool = False


class ContextTooLong(ModelCallError):
    """The prompt is longer than the model's context window."""


class CostLimitReached(ModelCallError):
    """The run's model calls already cost its limit (`--max-cost`): no further call is made."""


@dataclass(frozen=True)
class Reply:
    """What the agent keeps of one reply: its text, what it cost, and a refusal when the model refused.

    `usage` and `cost` include the attempts that failed before it (`retried`); `estimated` says that some
    of those counts are the caller's estimate (a stream that ended before reporting its usage)."""

    text: str
    usage: TokenUsage
    cost: float | None
    refusal: str | None
    seconds: float
    retried: TokenUsage = field(default_factory=TokenUsage)
    estimated: bool = False


@dataclass(frozen=True)
class Attempt:
    """What a failed attempt used: the usage its stream reported before it broke off, else an estimate."""

    usage: TokenUsage
    cost: float | None
    estimated: bool

    def describe(self) -> str:
        if not (self.usage.input_tokens or self.usage.output_tokens):
            return ""
        counted = f"{self.usage.input_tokens:,} input and {self.usage.output_tokens:,} output tokens counted"
        return f"; {counted}{', estimated' if self.estimated else ''}"


class ModelListener(Protocol):
    """Told, as a call goes, what the model writes and when the call is retried (a terminal shows it)."""

    def text(self, delta: str) -> None: ...

    def thinking(self, delta: str) -> None: ...

    def retry(self, problem: str, wait: float, attempt: int, attempts: int) -> None:
        """Attempt `attempt` of `attempts` failed with `problem`; the next starts in `wait` seconds, from
        scratch (what was streamed of the failed one is void)."""


def _marked(message: BaseMessage) -> BaseMessage:
    """`message` with a cache breakpoint on its last block."""
    blocks: list[dict[str, Any]] = (
        [{"type": "text", "text": message.content}]
        if isinstance(message.content, str)
        else [dict(block) for block in message.content]  # type: ignore[arg-type]
    )
    if blocks:
        blocks[-1] = {**blocks[-1], "cache_control": {"type": "ephemeral"}}
    return message.model_copy(update={"content": blocks})


def with_cache_breakpoints(messages: list[BaseMessage]) -> list[BaseMessage]:
    """Anthropic caches a prompt prefix only up to a marked block: mark the system prompt (stable for the
    whole run) and the newest message (so the next step reads everything up to here from the cache)."""
    marked = list(messages)
    for index in {0, len(marked) - 1}:
        marked[index] = _marked(marked[index])
    return marked


def reply_text(message: BaseMessage) -> str:
    """The reply's text. Providers answer with a string or with a list of content blocks (Anthropic always
    may, OpenAI for some models); only the text blocks are the reply, never the list's repr."""
    return message.text


def thinking_text(chunk: BaseMessage) -> str:
    """The model's thinking in a streamed chunk: Anthropic's `thinking` blocks, or the `reasoning_content`
    that OpenAI-compatible reasoning servers (vLLM, llama.cpp's) and Ollama (asked to reason) send beside
    the reply."""
    parts = [
        str(block.get("thinking") or block.get("reasoning") or "")
        for block in (chunk.content if isinstance(chunk.content, list) else [])
        if isinstance(block, dict) and block.get("type") in ("thinking", "reasoning")
    ]
    reasoning = (getattr(chunk, "additional_kwargs", None) or {}).get("reasoning_content")
    return "".join(parts) + (reasoning if isinstance(reasoning, str) else "")


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def error_kinds_of(exc: BaseException) -> set[str | int]:
    """The `type` and `code` of the error in the body the server sent (`{"error": {"type": ..., "code":
    ...}}`), where it sent them."""
    body = getattr(exc, "body", None)
    error = body.get("error", body) if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return set()
    return {kind for kind in (error.get("type"), error.get("code")) if isinstance(kind, (str, int))}


def is_retryable_in_body(exc: BaseException) -> bool:
    """Whether the error's body says "try again" (by type, code, or an HTTP status given as its code)."""
    return any(kind in RETRYABLE_ERROR_TYPES or kind in RETRYABLE_STATUSES for kind in error_kinds_of(exc))


def retry_after(exc: BaseException) -> float | None:
    """Seconds the server asked us to wait (`Retry-After` as seconds or an HTTP date, or `retry-after-ms`)."""
    headers = getattr(getattr(exc, "response", None), "headers", None) or {}
    if milliseconds := headers.get("retry-after-ms"):
        try:
            return float(milliseconds) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _is_a(exc: BaseException, class_name: str) -> bool:
    """By name, so that no provider package has to be installed (langchain-openai subclasses openai's)."""
    return any(cls.__name__ == class_name for cls in type(exc).__mro__)


def is_timeout(exc: BaseException) -> bool:
    # openai.APITimeoutError and anthropic.APITimeoutError wrap httpx's; Ollama's client raises httpx's.
    return isinstance(exc, (httpx.TimeoutException, TimeoutError)) or _is_a(exc, "APITimeoutError")


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, httpx.TransportError) or _is_a(exc, "APIConnectionError")


def cannot_connect(exc: BaseException) -> bool:
    """Whether the call never reached a server: nothing listens at its address (connection refused), or
    the name does not resolve. Trying again a few seconds later would only delay saying so."""
    seen: BaseException | None = exc
    for _ in range(8):  # the SDKs wrap httpx's error (openai's APIConnectionError has it as its cause)
        if seen is None:
            return False
        # ollama's client raises a bare ConnectionError (not a reset, a subclass) when it cannot connect.
        if isinstance(seen, (httpx.ConnectError, ConnectionRefusedError)) or type(seen) is ConnectionError:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


OLLAMA_DEFAULT_HOST = "http://127.0.0.1:11434"


def _is_ollama(model: BaseChatModel | None) -> bool:
    return any(cls.__name__ == "ChatOllama" for cls in type(model).__mro__)


def ollama_host(base_url: str | None) -> str:
    """Where an Ollama model is served: its base URL, else `OLLAMA_HOST`, else Ollama's default."""
    host = base_url or os.environ.get("OLLAMA_HOST") or OLLAMA_DEFAULT_HOST
    return host if "://" in host else f"http://{host}"


def server_of(model: BaseChatModel | None) -> str | None:
    """The address a chat model calls, as far as its class says (None when unknown)."""
    if _is_ollama(model):
        return ollama_host(getattr(model, "base_url", None))
    for attribute in ("openai_api_base", "anthropic_api_url", "base_url"):
        if address := getattr(model, attribute, None):
            return str(address)
    return None


def unreachable_message(model: BaseChatModel | None, exc: BaseException) -> str:
    """One line for a model server that cannot be reached: where it was looked for, and how to fix it."""
    server = server_of(model)
    where = f" at {server}" if server else ""
    if _is_ollama(model):
        fix = "start it (`ollama serve`), or set OLLAMA_HOST (or --base-url) to where it runs"
    else:
        fix = "start it, or check --base-url"
    return f"Cannot reach the model's server{where} ({describe(exc)}): {fix}."


def is_context_too_long(exc: BaseException) -> bool:
    return status_of(exc) in {400, 413, 422, None} and bool(CONTEXT_TOO_LONG.search(str(exc)))


def describe(exc: BaseException) -> str:
    status = status_of(exc)
    message = str(getattr(exc, "message", None) or exc).splitlines()[0] if str(exc) else type(exc).__name__
    return f"{type(exc).__name__}{f' (HTTP {status})' if status else ''}: {message}"


def refusal_of(message: BaseMessage) -> str | None:
    """The refusal text when the model refused (OpenAI's `refusal` field, Anthropic's `refusal` stop
    reason)."""
    refusal = (getattr(message, "additional_kwargs", None) or {}).get("refusal")
    if refusal:
        return str(refusal)
    metadata: dict[str, Any] = getattr(message, "response_metadata", None) or {}
    if metadata.get("stop_reason") == "refusal" or metadata.get("finish_reason") == "content_filter":
        return reply_text(message).strip() or "the provider stopped the reply as a refusal"
    return None


def _plus(a: float | None, b: float | None) -> float | None:
    """Two costs added, None (not priced) only when both are."""
    return None if a is None and b is None else (a or 0.0) + (b or 0.0)


def _is_anthropic(model: BaseChatModel | None) -> bool:
    return any(cls.__name__ == "ChatAnthropic" for cls in type(model).__mro__)


class ModelCaller:
    """Calls `model` with retries and streaming, prices each reply and keeps the run's spending.

    `spent` and `usage` add up every reply this caller priced (`estimates` counts the attempts among them
    whose usage was estimated); once `spent` reaches `max_cost`, a call raises `CostLimitReached` instead
    of being made. `listener` is told of the reply, the model's thinking
    and retries as they happen.
    """

    def __init__(
        self,
        model: BaseChatModel | None,
        *,
        pricing: Pricing | None = None,
        retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
        max_cost: float | None = None,
    ) -> None:
        self.model = model
        self.pricing = pricing
        self.retries = retries
        self.sleep = sleep
        self.max_cost = max_cost
        self.spent = 0.0
        self.usage = TokenUsage()
        self.estimates = 0
        self.listener: ModelListener | None = None
        # Only Anthropic needs explicit breakpoints (OpenAI caches any repeated prefix by itself), and
        # other providers would reject the extra field.
        self.cache_breakpoints = _is_anthropic(model)
        # Ollama fills a context of `num_ctx` tokens by dropping the start of a longer prompt, without an
        # error: the caller checks the prompt against it first, so the agent condenses instead.
        num_ctx = getattr(model, "num_ctx", None)
        self.context_tokens = num_ctx if isinstance(num_ctx, int) and num_ctx > 0 else None

    @property
    def over_budget(self) -> bool:
        return self.max_cost is not None and self.spent >= self.max_cost

    @property
    def priced(self) -> bool:
        """Whether the price table knows the model, so that `spent` is what the calls cost."""
        return self.pricing is not None and self.pricing.known

    def __call__(
        self, messages: list[BaseMessage], stop: list[str] | None = None, *, cache: bool = True
    ) -> Reply:
        """One reply to `messages`. `cache` marks Anthropic cache breakpoints (a prompt the next call
        extends); a one-off prompt passes False, as a cache write costs more than a plain input token."""
        if self.cache_breakpoints and cache and messages:
            messages = with_cache_breakpoints(messages)
        return self._call(messages, stop)

    def ask(self, shared: str, rest: str) -> str:
        """Induction's call (`workflows.model_induction.AskModel`): the reply's text to `shared + rest`,
        whose `shared` start the other induction calls repeat; on Anthropic the cache breakpoint goes at its
        end, so the next call reads it from the cache. A failed call refuses the induction."""
        prompt = (
            HumanMessage(
                content=[
                    {"type": "text", "text": shared, "cache_control": {"type": "ephemeral"}},
                    {"type": "text", "text": rest},
                ]
            )
            if self.cache_breakpoints
            else HumanMessage(shared + rest)
        )
        try:
            return self._call([prompt], None).text
        except ModelCallError as exc:
            raise InductionRefused(f"the model could not be asked ({exc})") from exc

    def _call(self, messages: list[BaseMessage], stop: list[str] | None) -> Reply:
        if self.model is None:  # an agent without a model (workflows only) never asks one
            raise ModelCallError("No model is configured: name one with --model.")
        if self.over_budget:
            raise CostLimitReached(
                f"The run's model calls cost ${self.spent:.4f}, reaching its limit of ${self.max_cost}."
            )
        if self.context_tokens is not None:
            needed = sum(estimate_tokens(m.text) for m in messages) + REPLY_RESERVE_TOKENS
            if needed > self.context_tokens:
                raise ContextTooLong(
                    f"The prompt is longer than the model's context window (about {needed} tokens with "
                    f"room for the reply, over num_ctx {self.context_tokens})."
                )
        attempt = 0
        began = time.monotonic()
        failed = TokenUsage()
        failed_cost: float | None = None
        estimated = False
        while True:
            streamed: list[AIMessageChunk] = []  # what arrived of this attempt, kept if it breaks off
            try:
                message = self._stream(messages, stop, streamed)
            except Exception as exc:  # every provider has its own exception classes
                spent = self._count_failed(messages, streamed)
                failed += spent.usage
                failed_cost = _plus(failed_cost, spent.cost)
                estimated = estimated or spent.estimated
                wait = self._wait_before_retry(exc, attempt)
                if wait is None or self.over_budget:
                    error = (
                        self._error(exc, attempt)
                        if wait is None
                        else CostLimitReached(
                            f"The run's model calls cost ${self.spent:.4f}, reaching its limit of "
                            f"${self.max_cost}, with the failed attempts ({describe(exc)})."
                        )
                    )
                    error.usage, error.cost, error.estimated = failed, failed_cost or 0.0, estimated
                    raise error from exc
                attempt += 1
                if self.listener is not None:
                    self.listener.retry(describe(exc) + spent.describe(), wait, attempt, self.retries + 1)
                self.sleep(wait)
                continue
            usage = TokenUsage.of(message)
            cost = self._price(usage, message)
            self.usage += usage
            self.spent += cost or 0.0
            return Reply(
                text=reply_text(message),
                usage=usage + failed,
                cost=_plus(cost, failed_cost),
                refusal=refusal_of(message),
                seconds=time.monotonic() - began,
                retried=failed,
                estimated=estimated,
            )

    def _price(self, usage: TokenUsage, message: BaseMessage | None) -> float | None:
        metadata: dict[str, Any] = getattr(message, "response_metadata", None) or {}
        served = metadata.get("model_name") or metadata.get("model")  # OpenAI/Anthropic, Ollama
        return self.pricing.cost(usage, served) if self.pricing is not None else None

    def _count_failed(self, messages: list[BaseMessage], streamed: list[AIMessageChunk]) -> Attempt:
        """What a failed attempt used, counted in `usage` and `spent`. An attempt that streamed nothing
        (refused with an HTTP error, or no answer at all) used nothing. One that broke off mid-stream was
        paid for: the usage its stream reported (Anthropic's `message_start` gives the input), and where
        it reported none (OpenAI sends usage only in the last chunk), an estimate from the prompt and from
        what was streamed."""
        if not streamed:
            return Attempt(TokenUsage(), None, False)
        whole = streamed[0]
        for chunk in streamed[1:]:
            whole = whole + chunk
        reported = TokenUsage.of(whole)
        written = estimate_tokens(reply_text(whole) + thinking_text(whole))
        input_tokens = reported.input_tokens or sum(estimate_tokens(m.text) for m in messages)
        usage = TokenUsage(
            input_tokens=input_tokens,
            output_tokens=max(reported.output_tokens, written),
            cache_read_tokens=reported.cache_read_tokens,
            cache_write_tokens=reported.cache_write_tokens,
        )
        cost = self._price(usage, whole)
        self.usage += usage
        self.spent += cost or 0.0
        estimated = usage != reported
        self.estimates += estimated
        return Attempt(usage, cost, estimated)

    def _stream(
        self, messages: list[BaseMessage], stop: list[str] | None, streamed: list[AIMessageChunk]
    ) -> BaseMessage:
        """The whole reply, streamed; each chunk is appended to `streamed` as it arrives."""
        assert self.model is not None, "_call checks that a model is configured"
        whole: AIMessageChunk | None = None
        for chunk in self.model.stream(messages, stop=stop or None):  # some APIs reject an empty list
            streamed.append(chunk)
            whole = chunk if whole is None else whole + chunk
            if self.listener is not None:
                if thought := thinking_text(chunk):
                    self.listener.thinking(thought)
                if delta := reply_text(chunk):
                    self.listener.text(delta)
        if whole is None:
            raise ModelCallError("The model's stream ended without a reply.")
        return whole

    def _wait_before_retry(self, exc: BaseException, attempt: int) -> float | None:
        if attempt >= self.retries or is_context_too_long(exc) or cannot_connect(exc):
            return None
        status = status_of(exc)
        if not (
            status in RETRYABLE_STATUSES
            or is_retryable_in_body(exc)
            or is_timeout(exc)
            or (status is None and is_connection_error(exc))
        ):
            return None
        asked = retry_after(exc)
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER_SECONDS)
        return float(BACKOFF_BASE_SECONDS * 2**attempt)

    def _error(self, exc: BaseException, attempt: int) -> ModelCallError:
        if isinstance(exc, ModelCallError):
            return exc
        if is_context_too_long(exc):
            return ContextTooLong(f"The prompt is longer than the model's context window ({describe(exc)}).")
        tried = f" after {attempt + 1} attempts" if attempt else ""
        if cannot_connect(exc):
            return ModelCallError(unreachable_message(self.model, exc))
        if is_timeout(exc):
            return ModelCallError(f"The model did not answer in time{tried} ({describe(exc)}).")
        return ModelCallError(f"The model call failed{tried}: {describe(exc)}.")
