"""What one execution produced, shaped for the model (trimmed) and for the record (whole)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox.bridge.record import CallRecord

# C0 controls other than tab, newline and carriage return, and DEL: binary noise a model cannot use
# and some stores (PostgreSQL text) refuse.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


def clean_text(text: str) -> str:
    """Text without terminal colour codes, control bytes or lone surrogates."""
    text = _CONTROL.sub("\ufffd", _ANSI.sub("", text))
    return text.encode("utf-8", "replace").decode("utf-8")


def cut_notice(cut: str) -> str:
    """What an output cut in the middle tells the model in place of `cut`: how much, and where the rest is."""
    return (
        f"\n[... {len(cut):,} characters ({cut.count(chr(10)):,} lines) cut from the middle; "
        "the full output is in the run record ...]\n"
    )


@dataclass(frozen=True)
class ExecutionError:
    """An exception raised by the code: its type name, message, and a traceback of the user's cells."""

    name: str
    message: str
    traceback: str


@dataclass(frozen=True)
class RichOutput:
    """A displayed object: images are saved to `path`; text forms (HTML, JSON, ...) are in `text`."""

    mime: str
    text: str | None = None
    path: Path | None = None


@dataclass
class ExecutionResult:
    """One `execute` call. `stdout`, `stderr` and `result` are trimmed for the model; `full_*` are whole.

    `notices` are plain sentences for the model about what the runtime did (a time limit, a restart).
    `calls` are the capability calls made since the previous action ended, in order: this code's, and
    any that finished late (a call still running when its action was interrupted).
    `finished` says `finish()` has been called in this session, now or before; `answer` is what it got.
    """

    stdout: str = ""
    stderr: str = ""
    result: str | None = None
    outputs: list[RichOutput] = field(default_factory=list)
    error: ExecutionError | None = None
    duration: float = 0.0
    execution_count: int | None = None
    timed_out: bool = False
    interrupted: bool = False
    restarted: bool = False
    truncated: bool = False
    notices: list[str] = field(default_factory=list)
    calls: list[CallRecord] = field(default_factory=list)
    finished: bool = False
    answer: Any = None
    full_stdout: str = ""
    full_stderr: str = ""
    full_result: str | None = None

    @property
    def ok(self) -> bool:
        """True when the code ran to its end without an exception, a time-out or a restart."""
        return self.error is None and not self.timed_out and not self.restarted
