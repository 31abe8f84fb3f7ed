"""Verification: a candidate program is trusted once re-executing it in a fresh kernel, with its
source run's arguments, reproduces the source run's outcome.

The caller supplies the kernel (`open_session`, a context manager factory giving a session with the
site's capabilities registered) and, for workflows that change a site, a `reset` that brings the site
back to the state the source run started from. Without one, such a workflow stays a candidate until
a real use succeeds. The outcome is the source run's answer, or `recheck(answer)` when given (e.g. a
benchmark evaluator's verdict on the reset site).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass

from sandbox import KernelSession
from sandbox.errors import HybridError
from workflows.kernel import call_code, install_workflows, stop_after
from workflows.memory import AWAITING_USE, FAILED, PASSED, Status, Workflow, WorkflowStore

SessionFactory = Callable[[], AbstractContextManager[KernelSession]]
Recheck = Callable[[str | None], bool]
TIMEOUT = 120.0


@dataclass(frozen=True)
class Verification:
    workflow: Workflow
    outcome: str  # passed, failed or awaiting-use
    detail: str


@dataclass(frozen=True)
class Evaluation:
    """A verdict on a run from outside the agent, e.g. a benchmark's evaluator that checked the site's state
    after it, and how to check a workflow the same way: `reset` brings the site back to the state the run
    started from, `recheck(answer)` checks the answer and the site's state after a re-execution. With both,
    a candidate that changes the site is verified by re-executing it on the reset site, on its effect."""

    passed: bool
    reason: str = ""
    reset: Callable[[], None] | None = None
    recheck: Recheck | None = None


class CannotVerify(HybridError, ValueError):
    """Nothing to compare against, or not a program; the message says what is missing."""


def normalise_answer(answer: object) -> str:
    return " ".join(str(answer).split()).casefold()


def verify(
    store: WorkflowStore,
    workflow: Workflow,
    open_session: SessionFactory,
    *,
    reset: Callable[[], None] | None = None,
    recheck: Recheck | None = None,
    timeout: float = TIMEOUT,
) -> Verification:
    """Re-execute `workflow` with its source arguments and record whether it reproduced its source run."""
    if workflow.kind != "program":
        raise CannotVerify(f"{workflow.name} is a text workflow: only programs can be re-executed")
    if recheck is None and workflow.expected_answer is None:
        raise CannotVerify(f"{workflow.name} has no expected answer from its source run: pass a recheck")
    assert workflow.id is not None
    if workflow.writes and reset is None:
        detail = "it changes the site and the site cannot be reset: verified by its first successful use"
        updated = store.set_status(workflow.id, "candidate", verification=AWAITING_USE, note=detail)
        return Verification(updated, AWAITING_USE, detail)
    if reset is not None:
        reset()
    with open_session() as session:
        installed = install_workflows(session, store, [workflow], via="verification")
        result = session.execute(call_code(workflow, workflow.source_arguments), timeout=timeout)
        stop_after(session, result)  # nothing it left running acts after the judge looks
        installed.settle(result)
        installed.close()
    answer = None if result.answer is None else str(result.answer)
    if result.error is not None or not result.finished:
        detail = (
            f"{result.error.name}: {result.error.message}" if result.error else "it did not return an answer"
        )
        passed = False
    elif recheck is not None:
        passed = recheck(answer)
        what = "its effect on the reset site and its answer" if workflow.writes else "the answer"
        detail = f"the recheck {'accepted' if passed else 'rejected'} {what} {answer!r}"
    else:
        passed = normalise_answer(answer) == normalise_answer(workflow.expected_answer)
        detail = f"answer {answer!r}, the source run's {workflow.expected_answer!r}"
    kept: Status = "deprecated" if workflow.status == "deprecated" else "candidate"
    status: Status = "verified" if passed else kept
    updated = store.set_status(workflow.id, status, verification=PASSED if passed else FAILED, note=detail)
    return Verification(updated, PASSED if passed else FAILED, detail)
