"""Ollama: langchain-ollama's chat model, with its context size (`num_ctx`) set, and its HTTP errors
keeping their headers.

Ollama runs a model with a context of `num_ctx` tokens (by default a few thousand, whatever the model
can take) and fills it by silently dropping the start of a longer prompt: the task, first. So `num_ctx`
is always sent, from the user's setting or else the model's own context size as `/api/show` reports it,
and the caller checks each prompt against it (see `ModelCaller`). A model that `/api/show` says can think
is asked to (`think`), so that its thinking streams apart from the reply.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import ollama
from langchain_ollama import ChatOllama

from hybrid.agent.model_calls import ollama_host
from hybrid.agent.models import ModelError
from sandbox.errors import HybridError

NUM_CTX_PARAMETER = re.compile(r"^num_ctx\s+(\d+)", re.MULTILINE)


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


def load(name: str, options: dict[str, Any], context_tokens: int | None) -> ChatOllama:
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
    return ChatOllama(
        model=name,
        num_ctx=num_ctx,
        reasoning=True if thinks else None,
        sync_client_kwargs={"event_hooks": {"response": [raise_for_status]}},
        **options,
    )
