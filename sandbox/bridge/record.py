"""The record of calls made through the bridge, with secrets redacted before anything is kept."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sandbox.text import clip

REDACTED = "[REDACTED]"
SENSITIVE_KEY = re.compile(
    r"token|secret|password|passwd|api[_-]?key|authorization|cookie|credential", re.IGNORECASE
)
SUMMARY_CHARS = 300
# Secrets are found in text by their value, so a short one would match ordinary words: a token `api`
# would turn `get_api_contents_path` into `get_[REDACTED]_contents_path`. Shorter values are refused
# where secrets are given (`hybrid sites add`, `hybrid sites secret`); real tokens are far longer.
MIN_SECRET_CHARS = 8


class Redactor:
    """Replaces configured secret values (of `MIN_SECRET_CHARS` or more) anywhere in text, and the values
    of secret-looking keys."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        # Longest first, so a secret that contains another is replaced whole.
        kept = {s for s in secrets if len(s) >= MIN_SECRET_CHARS}
        self.secrets = sorted(kept, key=len, reverse=True)

    def text(self, text: str) -> str:
        for secret in self.secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def value(self, value: Any) -> Any:
        """A copy of a JSON-like value with secrets replaced; other values are returned unchanged."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {
                key: REDACTED if isinstance(key, str) and SENSITIVE_KEY.search(key) else self.value(item)
                for key, item in value.items()
            }
        if isinstance(value, (list, tuple)):
            return [self.value(item) for item in value]
        return value


CallStatus = Literal["ok", "error", "denied"]


@dataclass(frozen=True)
class CallRecord:
    """One call through the bridge, as kept in the run's record (secrets already redacted).

    The one shape of a call from the bridge to the run store and back (`workflows.store.CallRow`);
    `to_dict()` is its plain data, for JSON. `latency` is in seconds; `started_at` is Unix
    time, None for calls recorded before the store kept it.
    """

    capability: str
    target: str
    args: list[Any]
    kwargs: dict[str, Any]
    writes: bool
    domain: str | None
    status: CallStatus
    result: str | None
    error: str | None
    started_at: float | None
    latency: float

    @property
    def name(self) -> str:
        """The call as the model wrote it, e.g. `api.demo.update_issue`."""
        return f"{self.capability}.{self.target}" if self.target else self.capability

    def describe(self, argument_chars: int | None = None) -> str:
        """One line: `api.demo.get_issue(7) -> ok (12 ms)`, the arguments cut to `argument_chars` if given."""
        shown = ", ".join([*(repr(a) for a in self.args), *(f"{k}={v!r}" for k, v in self.kwargs.items())])
        if argument_chars is not None:
            shown = clip(shown, argument_chars)
        outcome = "ok" if self.status == "ok" else f"{self.status}: {self.error}"
        return f"{self.name}({shown}) -> {outcome} ({self.latency * 1000:.0f} ms)"

    def __str__(self) -> str:
        return self.describe()

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def summarise(value: Any, limit: int = SUMMARY_CHARS) -> str:
    """A short description of a result for the record: its size and the start of its repr."""
    size = f"{type(value).__name__} of {len(value)}: " if isinstance(value, (list, dict, str)) else ""
    return size + clip(repr(value), limit, marker=lambda cut: f"... ({len(cut)} more characters)")


class Recorder:
    """Collects call records until the session takes them for the step that made them."""

    def __init__(self) -> None:
        self._records: list[CallRecord] = []
        self._lock = threading.Lock()

    def add(self, record: CallRecord) -> None:
        with self._lock:
            self._records.append(record)

    def take(self) -> list[CallRecord]:
        """The records since the last take, oldest first."""
        with self._lock:
            records, self._records = self._records, []
        return records
