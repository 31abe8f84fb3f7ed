"""A task done by the verified workflow that matches it, with no model call.

Kept apart from the agent (and light: no LangChain, LangGraph or Playwright), so that `hybrid run` can
answer such a task before it imports the model's stack, in a fraction of a model run's start-up.
"""

from __future__ import annotations

from collections.abc import Callable

from hybrid.agent.results import RunResult
from hybrid.agent.runtime import AgentRuntime
from sandbox import PolicyMode
from workflows.fastpath import FastPathMatch, run_fast_path
from workflows.learned import Learned
from workflows.lightstore import FastPathStore, WorkflowView

FastPathNotice = Callable[[WorkflowView, str | None], None]


def uses_only_apis(match: FastPathMatch) -> bool:
    """Whether the matched workflow calls nothing but `api.*`: then it needs neither a browser nor an MCP
    server, which are started by the agent."""
    return all(operation.startswith("api.") for operation in match.workflow.operations)


def run_matched(
    runtime: AgentRuntime,
    store: FastPathStore,
    match: FastPathMatch,
    task: str,
    *,
    sites: list[str],
    policy: PolicyMode,
    timeout: float,
    start_url: str | None = None,
    on_fast_path: FastPathNotice | None = None,
) -> RunResult:
    """Do `task` with the matched workflow in a fresh session of `runtime`, recorded in `store`;
    `on_fast_path(workflow, None)` is told before it runs and `on_fast_path(workflow, error)` if it
    failed. A failure is for the caller to repair (with the model); a finished run's API operations are
    remembered with `task` (see `AgentRuntime.remember_operations`)."""
    if on_fast_path is not None:
        on_fast_path(match.workflow, None)
    with runtime.fresh_session(start_url) as session:
        run_id = run_fast_path(store, session, match, task, sites=sites, policy=policy, timeout=timeout)
    run = store.get_run(run_id)
    if run.status == "finished":
        # The one thing to learn from it: which operations served these words (the workflow's own calls).
        runtime.remember_operations(run.id, task, store)
    elif on_fast_path is not None:
        on_fast_path(match.workflow, run.error or "it gave no answer")
    return RunResult(
        run_id=run.id,
        status=run.status,
        answer=run.answer,
        error=run.error,
        steps=run.steps,
        tokens=0,
        learned=Learned.fast_path(match.workflow).to_dict(),
    )
