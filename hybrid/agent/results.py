"""How a run ended, as the command line and notebooks report it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workflows.status import RunStatus


@dataclass(frozen=True)
class RunResult:
    run_id: str
    status: RunStatus
    answer: str | None
    error: str | None
    steps: int
    tokens: int
    cost: float | None = None
    # Its tokens and cost include an estimate (an attempt broke off before its usage was reported).
    usage_estimated: bool = False
    # What the run left in the workflow memory (`Learned.to_dict()`): its `line` ends the run's output.
    learned: dict[str, Any] | None = None
