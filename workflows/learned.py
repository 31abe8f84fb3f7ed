"""What a run left in the workflow memory, as one line for the user and plain data for `--json`.

Apart from `learn`, so that a run done on the fast path reports it without importing induction (which
needs LangChain for the model's part).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflows.lightstore import WorkflowView
    from workflows.verify import Verification


@dataclass(frozen=True)
class Learned:
    """What a run left in the workflow memory: the workflow saved (name, version, status), or why none."""

    line: str
    workflow: str | None = None
    version: int | None = None
    status: str | None = None
    action: str | None = None
    verifications: list[Verification] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, as `hybrid run --json` prints it."""
        return {
            "line": self.line,
            "name": self.workflow,
            "version": self.version,
            "status": self.status,
            "action": self.action,
        }

    @classmethod
    def nothing(cls, reason: str) -> Learned:
        return cls(f"not saved as a workflow: {reason}")

    @classmethod
    def fast_path(cls, workflow: WorkflowView) -> Learned:
        return cls(
            f"done by workflow {workflow.name} v{workflow.version} on the fast path (no model call)",
            workflow.name,
            workflow.version,
            workflow.status,
            "used",
        )
