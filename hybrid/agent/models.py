"""Chat models: real providers through LangChain's `init_chat_model`, and a scripted model for tests
and replays. Either way the agent sees a LangChain `BaseChatModel`.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from hybrid.agent.model_spec import (
    PROVIDER_KEYS,
    SCRIPTED_PREFIX,
    ModelError,
    check_model_spec,
    scripted_script,
)
from sandbox.text import estimate_tokens

# Providers whose chat model the agent adjusts (hybrid/agent/providers); others are LangChain's as they are.
ADJUSTED_PROVIDERS = {"openai", "anthropic", "ollama"}


class ScriptedChatModel(BaseChatModel):
    """Replies with fixed texts in order, honouring stop sequences as a provider would.

    Usage is reported like a provider's (characters/4), so token accounting runs on the real path. With
    `by_task`, its replies are those of the first task named in the first prompt it gets.
    """

    replies: list[str]
    position: int = Field(default=0)
    by_task: dict[str, list[str]] = Field(default_factory=dict)

    @classmethod
    def from_file(cls, path: Path | str) -> ScriptedChatModel:
        """Replies from a JSON list of strings, JSON Lines with one string (or {"reply": ...}) a line, or
        replies by task: {"tasks": {"TASK": [replies], ...}}."""
        script = scripted_script(Path(path))
        if list(script) == [""]:
            return cls(replies=script[""])
        return cls(replies=[], by_task=script)

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
        if self.by_task and not self.replies:
            prompt = "\n".join(str(message.content) for message in messages)
            task = next((task for task in self.by_task if task in prompt), None)
            if task is None:
                known = ", ".join(map(repr, self.by_task))
                raise ModelError(f"The scripted model has no replies for this task; it has some for {known}.")
            self.replies = list(self.by_task[task])
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
    spec: str,
    *,
    base_url: str | None = None,
    temperature: float = 0.0,
    timeout: float = 120.0,
    context_tokens: int | None = None,
) -> BaseChatModel:
    """`provider:name` (e.g. `openai:gpt-4o-mini`, `anthropic:claude-sonnet-4-5`, `ollama:qwen2.5-coder`),
    or `scripted:FILE` for fixed replies. `base_url` points a provider at another server (any
    OpenAI-compatible one for `openai:`). `timeout` bounds one call; the agent retries calls itself (see
    `model_calls`), so the provider's own retries are off. `context_tokens` is the context size to run the
    model with where the client chooses it (Ollama's `num_ctx`; by default the model's own)."""
    check_model_spec(spec, base_url=base_url)
    if spec.startswith(SCRIPTED_PREFIX):
        return ScriptedChatModel.from_file(spec[len(SCRIPTED_PREFIX) :])
    provider, _, name = spec.partition(":")
    options: dict[str, Any] = {"temperature": temperature, **_call_options(provider, timeout)}
    key_variable = PROVIDER_KEYS.get(provider)
    if base_url:
        options["base_url"] = base_url
        if key_variable and not os.environ.get(key_variable):
            options["api_key"] = "not-needed"  # local OpenAI-compatible servers rarely check keys
    from langchain.chat_models import init_chat_model

    try:
        if provider in ADJUSTED_PROVIDERS:
            adjusted = importlib.import_module(f"hybrid.agent.providers.{provider}")
            return adjusted.load(name, options, context_tokens)
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
