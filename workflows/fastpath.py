"""The fast path: a task that a verified workflow's intent template matches, with every parameter
bound, is done by calling that workflow directly, with no model call. The run records that it did.

It reads and writes through `FastPathStore`: the ORM's `WorkflowStore`, or `workflows.lightstore`'s
`LightStore`, which `hybrid run` uses so that a task done here imports no SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sandbox import KernelSession, PolicyMode
from workflows.kernel import call_code, failure_summary, install_workflows, stop_after
from workflows.lightstore import FastPathStore, WorkflowView
from workflows.templates import bind

CANDIDATES = 20
FAST_PATH_MODEL = "fast-path"


@dataclass(frozen=True)
class FastPathMatch:
    workflow: WorkflowView
    arguments: dict[str, Any]

    @property
    def code(self) -> str:
        """The code action that does the task: `finish(wf.<name>(...))`."""
        return call_code(self.workflow, self.arguments)

    @property
    def source(self) -> str:
        """What the run's `source` says, e.g. `fast-path:close_issue@v2`."""
        return f"{FAST_PATH_MODEL}:{self.workflow.name}@v{self.workflow.version}"


def match_fast_path(store: FastPathStore, task: str, sites: Iterable[str]) -> FastPathMatch | None:
    """The best-ranked verified program workflow whose intent template binds all its parameters in `task`."""
    for workflow in store.matching_workflows(task, sites, k=CANDIDATES):
        if workflow.status != "verified" or workflow.kind != "program":
            continue
        arguments = bind(workflow.intent_template, workflow.parameters, task)
        if arguments is not None:
            return FastPathMatch(workflow, arguments)
    return None


def run_fast_path(
    store: FastPathStore,
    session: KernelSession,
    match: FastPathMatch,
    task: str,
    *,
    sites: Iterable[str],
    policy: PolicyMode,
    timeout: float = 120.0,
) -> str:
    """Do `task` by calling the matched workflow in `session` (capabilities registered); returns the run id.

    The run is recorded like any other (one step, its calls, the workflow use as the host judged it), with
    model `fast-path` and source `fast-path:<name>@v<version>`. The kernel is shut down when the action
    returns, as at a run's `finish()`: threads the workflow started stop, and calls they had under way join
    the record. A failed call, or a use whose calls did not
    carry its arguments, ends the run with status `error`, so the caller can fall back to the model.
    """
    run = store.start_run(
        task,
        sites=sites,
        model=FAST_PATH_MODEL,
        policy=policy,
        source=match.source,
        sandbox=session.limits.isolation.mode,
    )
    installed = install_workflows(session, store, [match.workflow], run_id=run.id, via="fast-path")
    installed.step_index = 0
    result = session.execute(match.code, timeout=timeout)
    # The run ends with this action: what the workflow left running must not act unrecorded.
    stop_after(session, result)
    outcomes = installed.settle(result)
    installed.close()
    error = failure_summary(match.workflow, result) or (None if result.ok else "; ".join(result.notices))
    # A use the host judged failed (its calls ignored its arguments, say) did not do the task either.
    error = error or next((o.error for o in outcomes if o.outcome != "success"), None)
    answer = None if result.answer is None else str(result.answer)
    store.add_step_fields(
        run.id,
        {
            "index": 0,
            "thought": f"Fast path: the task matches {match.source}.",
            "code": match.code,
            "observation": (answer or "") if error is None else error,
            "full_output": result.full_stdout,
            "error": error,
            "ok": error is None and result.finished,
            "execute_seconds": result.duration,
        },
        result.calls,
    )
    store.end_run(
        run.id, "finished" if error is None and result.finished else "error", answer=answer, error=error
    )
    return run.id
