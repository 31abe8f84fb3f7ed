"""One call to the chat model as the agent makes it: streamed (so the thought can be shown as it is
written), retried with backoff on rate limits, server errors and timeouts, and read into plain data.

Providers differ in how they fail; what the agent needs from a failure is one of three things: wait and
try again (`transient`), shrink the prompt (`ContextTooLong`), or stop with a clear message
(`ModelCallError`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage

from hybrid.agent.cost import Pricing, TokenUsage
from sandbox.errors import HybridError

RETRYABLE_STATUSES = {408, 409, 425, 429, 500, 502, 503, 504, 529}
CONTEXT_TOO_LONG = re.compile(
    r"context[_ ]length|context window|maximum context|prompt is too long|too many "
    r"tokens|input is too long",
    re.IGNORECASE,
)
MAX_RETRY_AFTER_SECONDS = 60.0
BACKOFF_BASE_SECONDS = 1.0


class ModelCallError(HybridError):
    """The model could not be called (after retries, where retrying made sense); one line says why."""


class ContextTooLong(ModelCallError):
    """The prompt is longer than the model's context window."""


@dataclass(frozen=True)
class Reply:
    """What the agent keeps of one reply: its text, what it cost, and a refusal when the model refused."""

    text: str
    usage: TokenUsage
    cost: float | None
    refusal: str | None
    seconds: float


def with_cache_breakpoints(messages: list[BaseMessage]) -> list[BaseMessage]:
    """Anthropic caches a prompt prefix only up to a marked block: mark the system prompt (stable for the
    whole run) and the newest message (so the next step reads everything up to here from the cache)."""
    marked = list(messages)
    for index in {0, len(marked) - 1}:
        message = marked[index]
        content = [message.content] if isinstance(message.content, str) else message.content
        blocks: list[dict[str, Any]] = [
            dict(block) if isinstance(block, dict) else {"type": "text", "text": block} for block in content
        ]
        if blocks:
            blocks[-1] = {**blocks[-1], "cache_control": {"type": "ephemeral"}}
        marked[index] = message.model_copy(update={"content": blocks})
    return marked


def reply_text(message: BaseMessage) -> str:
    """The reply's text. Providers answer with a string or with a list of content blocks (Anthropic always
    may, OpenAI for some models); only the text blocks are the reply, never the list's repr."""
    return message.text


def status_of(exc: BaseException) -> int | None:
    status = getattr(exc, "status_code", None)
    if status is None:
        response = getattr(exc, "response", None)
        status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


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


class ModelCaller:
    """Calls `model` with retries and streaming, and prices each reply.

    `on_text(delta)` receives the reply's text as it streams in; after a retry it receives `None` first,
    so a display can drop what it showed of the failed attempt.
    """

    def __init__(
        self,
        model: BaseChatModel,
        *,
        pricing: Pricing | None = None,
        retries: int = 4,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.model = model
        self.pricing = pricing
        self.retries = retries
        self.sleep = sleep
        self.on_text: Callable[[str | None], None] | None = None
        # Only Anthropic needs explicit breakpoints (OpenAI caches any repeated prefix by itself), and
        # other providers would reject the extra field.
        self.cache_breakpoints = type(model).__name__ == "ChatAnthropic"

    def __call__(self, messages: list[BaseMessage], stop: list[str] | None = None) -> Reply:
        if self.cache_breakpoints and messages:
            messages = with_cache_breakpoints(messages)
        attempt = 0
        while True:
            began = time.monotonic()
            try:
                message = self._stream(messages, stop)
            except Exception as exc:  # every provider has its own exception classes
                wait = self._wait_before_retry(exc, attempt)
                if wait is None:
                    raise self._error(exc, attempt) from exc
                attempt += 1
                self.sleep(wait)
                if self.on_text is not None:
                    self.on_text(None)
                continue
            usage = TokenUsage.of(message)
            metadata: dict[str, Any] = getattr(message, "response_metadata", None) or {}
            served = metadata.get("model_name") or metadata.get("model")  # OpenAI/Anthropic, Ollama
            cost = self.pricing.cost(usage, served) if self.pricing is not None else None
            return Reply(
                text=reply_text(message),
                usage=usage,
                cost=cost,
                refusal=refusal_of(message),
                seconds=time.monotonic() - began,
            )

    def _stream(self, messages: list[BaseMessage], stop: list[str] | None) -> BaseMessage:
        whole: AIMessageChunk | None = None
        for chunk in self.model.stream(messages, stop=stop or None):  # some APIs reject an empty list
            whole = chunk if whole is None else whole + chunk
            if self.on_text is not None and (delta := reply_text(chunk)):
                self.on_text(delta)
        if whole is None:
            raise ModelCallError("The model's stream ended without a reply.")
        return whole

    def _wait_before_retry(self, exc: BaseException, attempt: int) -> float | None:
        if attempt >= self.retries or self._context_too_long(exc):
            return None
        status = status_of(exc)
        if not (
            status in RETRYABLE_STATUSES or is_timeout(exc) or (status is None and is_connection_error(exc))
        ):
            return None
        asked = retry_after(exc)
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER_SECONDS)
        return BACKOFF_BASE_SECONDS * 2**attempt

    @staticmethod
    def _context_too_long(exc: BaseException) -> bool:
        return status_of(exc) in {400, 413, 422, None} and bool(CONTEXT_TOO_LONG.search(str(exc)))

    def _error(self, exc: BaseException, attempt: int) -> ModelCallError:
        if isinstance(exc, ModelCallError):
            return exc
        if self._context_too_long(exc):
            return ContextTooLong(f"The prompt is longer than the model's context window ({describe(exc)}).")
        tried = f" after {attempt + 1} attempts" if attempt else ""
        if is_timeout(exc):
            return ModelCallError(f"The model did not answer in time{tried} ({describe(exc)}).")
        return ModelCallError(f"The model call failed{tried}: {describe(exc)}.")
