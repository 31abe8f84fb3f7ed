"""Ollama: langchain-ollama's chat model, with its context size (`num_ctx`) set, its HTTP errors keeping
their headers, and the errors it sends inside a stream told apart by kind.

Ollama runs a model with a context of `num_ctx` tokens (by default a few thousand, whatever the model
can take) and fills it by silently dropping the start of a longer prompt: the task, first. So `num_ctx`
is always sent, from the user's setting or else the model's own context size as `/api/show` reports it,
and the caller checks each prompt against it (see `ModelCaller`). A model that `/api/show` says can think
is asked to (`think`), so that its thinking streams apart from the reply.

An error Ollama meets after it has started streaming (its runner crashed, ran out of memory, or the
model's output could not be parsed) comes as one more JSON line, `{"error": "..."}`, under the 200 already
sent, with no status and no type: the ollama client raises it as a bare `ResponseError` with status -1.
`OllamaStreamError` gives it a kind from its message, as OpenAI's and Anthropic's in-stream errors carry
one: `server_error` when a new request can succeed (the runner stopped or the stream broke: Ollama starts
the runner again), none otherwise; a context overflow is recognised from its message by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import ollama
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGenerationChunk
from langchain_ollama import ChatOllama

from hybrid.agent.model_calls import ollama_host
from hybrid.agent.models import ModelError
from sandbox.errors import HybridError

NUM_CTX_PARAMETER = re.compile(r"^num_ctx\s+(\d+)", re.MULTILINE)
# What Ollama's server says when the model runner behind it stopped or its stream broke off (server/routes.go
# and llm/server.go): a new request starts the runner again, so these are worth retrying. Others, such as
# a model's output its parser cannot read ("XML syntax error on line 1: ..."), are reported at once.
RUNNER_STOPPED = re.compile(
    r"model runner has unexpectedly stopped|an error was encountered while running the model"
    r"|error reading llm response|llama runner process has terminated|POST predict|unexpected server status"
    r"|server busy",
    re.IGNORECASE,
)


class OllamaStatusError(HybridError):
    """An HTTP error from the Ollama server, with its status and response (so its `Retry-After` is read);
    the ollama client would keep only the body's text."""

    def __init__(self, response: httpx.Response) -> None:
        try:
            message = str(response.json().get("error") or response.text)
        except ValueError:
            message = response.text
        super().__init__(message or f"HTTP {response.status_code}")
        self.message = message
        self.status_code = response.status_code
        self.response = response


class OllamaStreamError(HybridError):
    """An error line inside a stream Ollama already answered with 200, with the kind its message says
    (`body` as OpenAI shapes an error: `{"error": {"type": ..., "message": ...}}`)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"Ollama stopped its reply with an error: {message}")
        kind = "server_error" if RUNNER_STOPPED.search(message) else None
        self.body: dict[str, Any] = {"error": {"type": kind, "message": message}}


class OllamaModel(ChatOllama):
    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        try:
            yield from super()._stream(messages, stop, run_manager, **kwargs)
        except ollama.ResponseError as exc:
            # HTTP errors are raised as OllamaStatusError before the client sees them (`raise_for_status`):
            # a ResponseError here is an `{"error": ...}` line inside the stream.
            raise OllamaStreamError(str(exc.error)) from exc


def raise_for_status(response: httpx.Response) -> None:
    """An httpx response hook: raises before the ollama client turns the error into its own."""
    if response.status_code >= 400:
        response.read()
        raise OllamaStatusError(response)


def show(name: str, host: str | None, timeout: float) -> ollama.ShowResponse:
    try:
        return ollama.Client(host=host, timeout=timeout).show(name)
    except (ollama.ResponseError, ConnectionError, httpx.HTTPError) as exc:
        where = ollama_host(host)
        if isinstance(exc, (ConnectionError, httpx.ConnectError)):
            raise ModelError(
                f"Cannot reach the Ollama server at {where}: start it (`ollama serve`), or set OLLAMA_HOST "
                "(or --base-url) to where it runs."
            ) from exc
        raise ModelError(
            f"Cannot read the context size of ollama:{name} from the Ollama server at {where} ({exc}): "
            f"`ollama pull {name}`, or set HYBRID_MODEL_CONTEXT_TOKENS."
        ) from exc


def context_size(name: str, shown: ollama.ShowResponse) -> int:
    """The context the model is set up with (its Modelfile's `num_ctx`), else the most it can take."""
    if shown.parameters and (configured := NUM_CTX_PARAMETER.search(shown.parameters)):
        return int(configured.group(1))
    sizes = [v for k, v in (shown.modelinfo or {}).items() if k.endswith(".context_length") and int(v) > 0]
    if not sizes:
        raise ModelError(
            f"The Ollama server does not say the context size of ollama:{name}: set "
            "HYBRID_MODEL_CONTEXT_TOKENS to it."
        )
    return int(sizes[0])


def load(name: str, options: dict[str, Any], context_tokens: int | None) -> OllamaModel:
    timeout = options.get("client_kwargs", {}).get("timeout", 120.0)
    try:
        shown: ollama.ShowResponse | None = show(name, options.get("base_url"), timeout)
    except ModelError:
        if not context_tokens:
            raise
        shown = None  # the first call says what is wrong with the server
    num_ctx = context_tokens if context_tokens or shown is None else context_size(name, shown)
    # A model that can think is asked to (`think`), so its thinking comes apart from the reply
    # (`message.thinking`, shown dimmed) instead of inside it between <think> tags; a model that cannot
    # would be refused.
    thinks = shown is not None and "thinking" in (shown.capabilities or [])
    return OllamaModel(
        model=name,
        num_ctx=num_ctx,
        reasoning=True if thinks else None,
        sync_client_kwargs={"event_hooks": {"response": [raise_for_status]}},
        **options,
    )
