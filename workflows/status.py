"""How a run stands or ended, and how far a workflow is trusted: one definition for the graph, the store,
the CLI and the bench (a light module, so naming a status imports no database)."""

from __future__ import annotations

from typing import Literal, get_args

RunStatus = Literal[
    "running",
    "finished",
    "max_steps",
    "max_wall_time",
    "max_tokens",
    "max_cost",
    "context_length",
    "refused",
    "error",
    "interrupted",
]
RUN_STATUSES: tuple[RunStatus, ...] = get_args(RunStatus)
# A run that ended in one of these cannot be resumed; the others (running, error, interrupted) can.
FINAL_STATUSES: frozenset[RunStatus] = frozenset(
    {"finished", "max_steps", "max_wall_time", "max_tokens", "max_cost", "context_length", "refused"}
)

# A workflow moves candidate -> verified -> deprecated (`workflows.memory`).
WorkflowStatus = Literal["candidate", "verified", "deprecated"]
WORKFLOW_STATUSES: tuple[WorkflowStatus, ...] = get_args(WorkflowStatus)
# How the host judged a use (see `workflows.kernel.assess_use`); "started" until then.
USE_OUTCOMES = ("success", "failure", "task-failure", "no-calls", "unconfirmed", "not-reproduced")
# Consecutive failed uses after which a workflow is deprecated.
DEPRECATE_AFTER_FAILURES = 3
