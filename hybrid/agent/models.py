"""Chat models: real providers through LangChain's `init_chat_model`, and a scripted model for tests
and replays. Either way the agent sees a LangChain `BaseChatModel`.
"""

from __future__ import annotations

import importlib.util
import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from sandbox.errors import HybridError
from sandbox.text import estimate_tokens

SCRIPTED_PREFIX = "scripted:"
# Which environment variable each hosted provider reads its key from.
PROVIDER_KEYS = {
    "openai": "OPENAI_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "google_genai": "GOOGLE_API_KEY",
    "mistralai": "MISTRAL_API_KEY",
    "groq": "GROQ_API_KEY",
    "fireworks": "FIREWORKS_API_KEY",
    "together": "TOGETHER_API_KEY",
}
PROVIDER_PACKAGES = {"google_genai": "langchain-google-genai", "mistralai": "langchain-mistralai"}


class ModelError(HybridError):
    """The model cannot be used; the message is one line that says how to fix it."""


class ScriptedChatModel(BaseChatModel):
    """Replies with fixed texts in order, honouring stop sequences as a provider would.

    Usage is reported like a provider's (characters/4), so token accounting runs on the real path.
    """

    replies: list[str]
    position: int = Field(default=0)

    @classmethod
    def from_file(cls, path: Path | str) -> ScriptedChatModel:
        """Replies from a JSON list of strings, or JSON Lines with one string (or {"reply": ...}) a line."""
        path = Path(path)
        if not path.is_file():
            raise ModelError(f"Scripted model file {path} does not exist.")
        expected = 'a JSON list of reply strings, or JSON Lines of strings or {"reply": "..."} objects'
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ModelError(f"{path}: not UTF-8 text (byte {exc.start}); expected {expected}.") from exc
        try:
            document = json.loads(text)
            entries = document if isinstance(document, list) else [document]
        except json.JSONDecodeError:
            try:
                entries = [json.loads(line) for line in text.splitlines() if line.strip()]
            except json.JSONDecodeError as exc:
                raise ModelError(f"{path}: not JSON or JSON Lines ({exc.msg} at line {exc.lineno}).") from exc
        replies = [entry.get("reply") if isinstance(entry, dict) else entry for entry in entries]
        texts = [reply for reply in replies if isinstance(reply, str)]
        if not replies or len(texts) != len(replies):
            raise ModelError(f"{path}: expected {expected}.")
        return cls(replies=texts)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        if self.position >= len(self.replies):
            raise ModelError(f"The scripted model has no reply left after {len(self.replies)} replies.")
        reply = self.replies[self.position]
        self.position += 1
        for sequence in stop or []:
            cut = reply.find(sequence)
            if cut != -1:
                reply = reply[:cut]
        prompt_tokens = sum(estimate_tokens(str(m.content)) for m in messages)
        completion_tokens = estimate_tokens(reply)
        message = AIMessage(
            content=reply,
            usage_metadata={
                "input_tokens": prompt_tokens,
                "output_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            },
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def load_chat_model(
    spec: str, *, base_url: str | None = None, temperature: float = 0.0, timeout: float = 120.0
) -> BaseChatModel:
    """`provider:name` (e.g. `openai:gpt-4o-mini`, `anthropic:claude-sonnet-4-5`, `ollama:qwen2.5-coder`),
    or `scripted:FILE` for fixed replies. `base_url` points a provider at another server (any
    OpenAI-compatible one for `openai:`). `timeout` bounds one call; the agent retries calls itself (see
    `model_calls`), so the provider's own retries are off."""
    if spec.startswith(SCRIPTED_PREFIX):
        return ScriptedChatModel.from_file(spec[len(SCRIPTED_PREFIX) :])
    provider, _, name = spec.partition(":")
    if not provider or not name:
        raise ModelError(
            f"Model {spec!r} is not provider:name; for example openai:gpt-4o-mini or "
            "ollama:qwen2.5-coder (or scripted:replies.json)."
        )
    package = PROVIDER_PACKAGES.get(provider, f"langchain-{provider.replace('_', '-')}")
    if importlib.util.find_spec(package.replace("-", "_")) is None:
        raise ModelError(
            f"The {provider} provider's package is not installed: .venv/bin/pip install {package}"
        )
    options: dict[str, Any] = {"temperature": temperature, **_call_options(provider, timeout)}
    key_variable = PROVIDER_KEYS.get(provider)
    if base_url:
        options["base_url"] = base_url
        if key_variable and not os.environ.get(key_variable):
            options["api_key"] = "not-needed"  # local OpenAI-compatible servers rarely check keys
    elif key_variable and not os.environ.get(key_variable):
        raise ModelError(
            f"The {provider} provider needs an API key: set {key_variable}=... in your environment."
        )
    from langchain.chat_models import init_chat_model

    try:
        return init_chat_model(name, model_provider=provider, **options)
    except (ImportError, ValueError) as exc:
        raise ModelError(f"Cannot use model {spec!r}: {exc}".splitlines()[0]) from exc


def _call_options(provider: str, timeout: float) -> dict[str, Any]:
    """Each provider package's own names for: this timeout, no retries of its own, usage when streaming."""
    if provider == "ollama":
        return {"client_kwargs": {"timeout": timeout}}
    options: dict[str, Any] = {"timeout": timeout, "max_retries": 0}
    if provider == "openai":
        options["stream_usage"] = True  # off by default for a custom base_url; every server we target has it
    return options


def scripted_replies_for(steps: Sequence[str], thoughts: Sequence[str] | None = None) -> list[str]:
    """Model replies that run `steps` as code actions, each with a short thought, in the agent's format."""
    thoughts = thoughts or [
        f"Step {i + 1} of {len(steps)} of the planned solution." for i in range(len(steps))
    ]
    return [
        f"Thought: {thought}\n```python\n{code}\n```\n" for thought, code in zip(thoughts, steps, strict=True)
    ]
