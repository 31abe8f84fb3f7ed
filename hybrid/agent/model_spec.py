"""Whether a model named as `provider:name` (or `scripted:FILE`) can be used, checked without importing
LangChain: a command says what is wrong with its --model before it loads the agent's stack."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

from sandbox.errors import HybridError

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


def check_model_spec(spec: str, *, base_url: str | None = None) -> None:
    """Raises `ModelError` if `spec` cannot name a usable model: not provider:name, a scripted file that is
    missing, a provider whose package is not installed, or a hosted provider's key not set (unless
    `base_url` points at another server)."""
    if spec.startswith(SCRIPTED_PREFIX):
        scripted_script(Path(spec[len(SCRIPTED_PREFIX) :]))
        return
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
    key_variable = PROVIDER_KEYS.get(provider)
    if not base_url and key_variable and not os.environ.get(key_variable):
        raise ModelError(
            f"The {provider} provider needs an API key: set {key_variable}=... in your environment."
        )


def scripted_script(path: Path) -> dict[str, list[str]]:
    """A scripted model's replies by task: `{"": replies}` for a file of replies (see `scripted_replies`), or,
    for a JSON object `{"tasks": {"TASK": [replies], ...}}` (a server serving several tasks, say), each
    task's own replies."""
    if path.is_file():
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            document = None
        if isinstance(document, dict) and "tasks" in document:
            tasks = document["tasks"]
            if (
                not isinstance(tasks, dict)
                or not tasks
                or not all(
                    isinstance(replies, list) and replies and all(isinstance(r, str) for r in replies)
                    for replies in tasks.values()
                )
            ):
                raise ModelError(f'{path}: expected {{"tasks": {{"TASK": ["reply", ...], ...}}}}.')
            return {str(task): list(replies) for task, replies in tasks.items()}
    return {"": scripted_replies(path)}


def scripted_replies(path: Path) -> list[str]:
    """A scripted model's replies: a JSON list of strings, or JSON Lines with one string (or {"reply": ...})
    a line; `ModelError` says what is wrong with the file."""
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
    if not texts or len(texts) != len(replies):
        raise ModelError(f"{path}: expected {expected}.")
    return texts
