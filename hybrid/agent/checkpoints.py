"""A run's LangGraph checkpoints through LangGraph's public API, the one module that reads and forks them:
the agent resumes from them (`Agent.resume`) and notebooks explore them (`hybrid.Run`).

A run's graph thread is its run id. `history` is `get_state_history`; a fork is `update_state` on the new
run's thread with the whole state of the checkpoint it starts from, written as if by the `execute` node, so
LangGraph routes it on to `act` as it would after a step.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hybrid.agent.graph import ActionOutcome, build_graph
from hybrid.agent.models import ScriptedChatModel
from hybrid.config import Settings
from sandbox import CallRecord
from sandbox.errors import HybridError
from workflows.status import RunStatus
from workflows.store import StepRecord

# The node a fork's state is written as: after it, a running state goes on to `act`.
FORK_AS_NODE = "execute"
# An update is written as a node after which the graph goes where it was going: to `act` after `execute`,
# to `execute` (a pending action) or `finish` after `act`. LangGraph's own guess of the writer fails on a
# thread that began as a fork (it routed a fork back to `prepare`).
_WRITER_BEFORE: dict[tuple[str, ...], str] = {("act",): "execute", ("execute",): "act", ("finish",): "act"}


def thread(run_id: str, checkpoint_id: str | None = None) -> dict[str, Any]:
    """A run's graph thread, or one checkpoint of it."""
    configurable = {"thread_id": run_id, "checkpoint_ns": ""}
    if checkpoint_id is not None:
        configurable["checkpoint_id"] = checkpoint_id
    return {"configurable": configurable, "recursion_limit": 10_000}


@dataclass(frozen=True)
class Checkpoint:
    """One LangGraph checkpoint of a run: the state after a node ran, and the node that runs next."""

    id: str
    graph_step: int
    next: tuple[str, ...]
    steps: int
    status: str | None
    created_at: datetime | None
    values: dict[str, Any]

    @property
    def before_step(self) -> int | None:
        """The step the model acts on next from here (None when the next node is not the model's)."""
        return self.steps if self.next == ("act",) else None

    def __str__(self) -> str:
        upcoming = ", ".join(self.next) or "(end)"
        return f"checkpoint {self.graph_step}: {self.steps} steps done, status {self.status}, next {upcoming}"

    def _repr_markdown_(self) -> str:
        values = self.values
        pending = values.get("pending")
        lines = [
            f"**{self}**",
            "",
            f"task: {values.get('task', '')}",
            (
                f"tokens {values.get('tokens', 0)} · cost ${values.get('cost', 0.0):.4f} · "
                f"{values.get('elapsed', 0.0):.1f} s"
            ),
        ]
        if pending:
            lines += ["", "about to run:", "", "```python", str(pending.get("code", "")), "```"]
        if values.get("answer") is not None:
            lines += ["", f"answer: **{values['answer']}**"]
        if values.get("error"):
            lines += ["", f"error: {values['error']}"]
        return "\n".join(lines)


class NoCheckpointError(HybridError, LookupError):
    """The run has no checkpoint where one was asked for; `available` lists the steps it can start from."""

    def __init__(self, message: str, available: list[int]) -> None:
        super().__init__(message)
        self.available = available


class RunCheckpoints:
    """The checkpoints of runs in `graph`'s checkpointer."""

    def __init__(self, graph: Any) -> None:
        self.graph = graph

    def history(self, run_id: str) -> list[Checkpoint]:
        """The run's checkpoints, oldest first: after each node, the state and what came next."""
        snapshots = list(self.graph.get_state_history(thread(run_id)))
        return [_checkpoint(snapshot) for snapshot in reversed(snapshots)]

    def latest(self, run_id: str) -> Checkpoint | None:
        """The run's last checkpoint (where a resume goes on from); None if it has none."""
        snapshot = self.graph.get_state(thread(run_id))
        return _checkpoint(snapshot) if snapshot.values else None

    def before_step(self, run_id: str, step: int) -> Checkpoint:
        """The latest checkpoint where `step` steps were done and the model was about to act."""
        history = self.history(run_id)
        for checkpoint in reversed(history):
            if checkpoint.before_step == step:
                return checkpoint
        available = sorted({c.steps for c in history if c.before_step is not None})
        raise NoCheckpointError(
            f"Run {run_id} has no checkpoint before step {step}; it can fork before steps {available}.",
            available,
        )

    def update(self, run_id: str, values: dict[str, Any]) -> None:
        """Change the run's latest state, e.g. to say it was resumed; the graph goes on to the node it was
        about to run."""
        latest = self.latest(run_id)
        as_node = _WRITER_BEFORE.get(latest.next) if latest is not None else None
        self.graph.update_state(thread(run_id), values, as_node=as_node)

    def fork(self, checkpoint: Checkpoint, run_id: str, changes: dict[str, Any]) -> None:
        """Start run `run_id`'s thread from `checkpoint` (of another run), its values with `changes`: the
        model acts next, on the steps the checkpoint holds."""
        self.graph.update_state(thread(run_id), {**checkpoint.values, **changes}, as_node=FORK_AS_NODE)


@contextmanager
def reading_checkpoints(settings: Settings) -> Iterator[RunCheckpoints]:
    """The checkpoints in the settings' store, to read or fork; no node runs, so no model or runtime is
    opened."""
    from hybrid.agent.assembly import budget_from, open_checkpointer

    with ExitStack() as stack:
        checkpointer = open_checkpointer(settings, stack)
        graph = build_graph(ScriptedChatModel(replies=[]), _NoLiveSide(), budget_from(settings), checkpointer)
        yield RunCheckpoints(graph)


class _NoLiveSide:
    """The runtime of a graph opened only to read and write checkpoints: a node that ran would be a bug."""

    def _refuse(self) -> Any:
        raise RuntimeError("a graph opened to read checkpoints ran a node")

    def system_prompt(self, run_id: str, task: str, max_steps: int) -> str:
        return self._refuse()

    def execute(
        self,
        run_id: str,
        task: str,
        step_index: int,
        code: str,
        timeout: float,
        *,
        fresh_kernel_notice: bool,
        start_url: str | None = None,
    ) -> ActionOutcome:
        return self._refuse()

    def record_step(self, run_id: str, step: StepRecord, calls: list[CallRecord]) -> None:
        self._refuse()

    def record_model_use(
        self, run_id: str, usage: Any, cost: float | None, *, estimated: bool = False
    ) -> None:
        self._refuse()

    def end_run(self, run_id: str, status: RunStatus, answer: str | None, error: str | None) -> None:
        self._refuse()


def _checkpoint(snapshot: Any) -> Checkpoint:
    created = snapshot.created_at
    return Checkpoint(
        id=snapshot.config["configurable"]["checkpoint_id"],
        graph_step=snapshot.metadata.get("step", -1) if snapshot.metadata else -1,
        next=tuple(snapshot.next),
        steps=len(snapshot.values.get("steps", [])),
        status=snapshot.values.get("status"),
        values=dict(snapshot.values),
        created_at=datetime.fromisoformat(created) if created else None,
    )
