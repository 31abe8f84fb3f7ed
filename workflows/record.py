"""What induction reads from a recorded run."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.lifting import InductionRefused
from workflows.memory import WorkflowStore
from workflows.store import Run, Step


@dataclass(frozen=True)
class RunRecord:
    """What induction reads from a run: the task, its effective steps and the calls that wrote."""

    run: Run
    steps: list[Step]
    writing_calls: list[str]

    @property
    def codes(self) -> list[str]:
        return [step.code or "" for step in self.steps]

    @property
    def outputs(self) -> list[str]:
        """What each step showed: its untrimmed output where recorded, else its observation."""
        return [step.full_output or step.observation for step in self.steps]


def read_run(store: WorkflowStore, run_id: str) -> RunRecord:
    """The run's successful code actions, refusing runs that did not finish with an answer."""
    run = store.get_run(run_id)
    if run.status != "finished":
        raise InductionRefused(f"run {run.id} ended with status {run.status!r}; only finished runs are induced")
    steps = [s for s in store.steps_of(run.id) if s.ok and s.code and not s.error]
    writes: list[str] = []
    for step in steps:
        for call in store.calls_of(step.id or 0):
            name = f"{call.capability}.{call.target}"
            if call.writes and call.status == "ok" and name not in writes:
                writes.append(name)
    return RunRecord(run, steps, writes)
