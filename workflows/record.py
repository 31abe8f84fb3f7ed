"""What induction reads from a recorded run."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from sandbox import CallRecord
from workflows.lifting import InductionRefused
from workflows.memory import WorkflowStore
from workflows.store import RunRow, StepRow

DEFINITIONS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import, ast.ImportFrom)


@dataclass(frozen=True)
class InductionInput:
    """What induction reads from a run: the task, its effective steps and the calls that wrote.

    `failed` are the steps that raised: their code is not reused, but a helper, class or import they
    defined before failing may be what a later step calls.
    """

    run: RunRow
    steps: list[StepRow]
    writing_calls: list[str]
    failed: list[StepRow] = field(default_factory=list)

    @property
    def codes(self) -> list[str]:
        return [step.code or "" for step in self.steps]

    def steps_to_lift(self) -> tuple[list[str], list[str]]:
        """Codes and outputs in run order: each successful step whole, and the definitions of failed ones."""
        chosen = sorted(
            [
                *((s, s.code or "") for s in self.steps),
                *((s, _definitions(s.code or "")) for s in self.failed),
            ],
            key=lambda pair: pair[0].index,
        )
        chosen = [(step, code) for step, code in chosen if code]
        return [code for _, code in chosen], [step.full_output or step.observation for step, _ in chosen]


def _definitions(code: str) -> str:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return ""
    return "\n".join(ast.unparse(statement) for statement in tree.body if isinstance(statement, DEFINITIONS))


def _caused_a_page_write(call: CallRecord, calls: list[CallRecord]) -> bool:
    """Whether a write a page sent on its own (a script's fetch after a click) was decided on while the
    browser `call` ran: the bridge records such a write apart, as a call of its own, inside the action's
    time."""
    if call.capability != "browser" or call.started_at is None:
        return False
    ended = call.started_at + call.latency
    return any(
        other is not call
        and other.capability == "browser"
        and other.writes
        and other.started_at is not None
        and call.started_at <= other.started_at <= ended
        for other in calls
    )


def read_run(store: WorkflowStore, run_id: str) -> InductionInput:
    """The run's successful code actions, refusing runs that did not finish with an answer."""
    run = store.get_run(run_id)
    if run.status != "finished":
        raise InductionRefused(
            f"run {run.id} ended with status {run.status!r}; only finished runs are induced"
        )
    coded = [s for s in store.steps_of(run.id) if s.code]
    steps = [s for s in coded if s.ok and not s.error]
    writes: list[str] = []
    for step in steps:
        calls = [call for call in store.calls_of(step.id or 0) if call.status == "ok"]
        for call in calls:
            if (call.writes or _caused_a_page_write(call, calls)) and call.name not in writes:
                writes.append(call.name)
    succeeded = {s.id for s in steps}
    return InductionInput(run, steps, writes, failed=[s for s in coded if s.id not in succeeded])
