"""Offering stored workflows to a kernel as `wf.<name>(...)`.

Design: the programs are defined *in the kernel* (workflows.kernel_side), never executed on the host,
so their `api.*` / `browser.*` calls go through the bridge like the model's own calls: the policy
checks each one and the record keeps each one. The host also registers a capability named `wf` whose
operation `wf.<name>` every kernel-side wrapper calls first: that call is policy-checked as a whole
(a workflow that writes is refused up front in a read-only session), appears in the run's record with
its arguments, and opens a row in `workflow_uses`.

Memory is the host's alone: nothing in the kernel can record an outcome. The host decides each use's
outcome from what it observed (`InstalledWorkflows.settle`, after every action): the calls the use made,
whether they carried its arguments, and whether the action failed inside the workflow's code. What it
observed of an action the model wrote can be forged (code can begin a use through the bridge, make the
workflow's calls and raise a look-alike of its failure), so a failure seen there counts against the
workflow only once a clean re-run confirms it (`confirm_failure`): the same call, with the same arguments,
in a fresh kernel with writes refused. A failure it does not reproduce is `not-reproduced`, one it cannot
reach without writing (or cannot re-run) `unconfirmed`: neither counts against the workflow (an
`unconfirmed` one may still be repaired by the run's own way of doing the task). The fast path's,
verification's and the CLI's actions are the host's own code: what they observe is trusted as it is.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

from sandbox import CallRecord, ExecutionResult, HostFunction, KernelSession
from sandbox.errors import HybridError
from sandbox.names import WORKFLOWS
from workflows.lightstore import UseRecorder, WorkflowView
from workflows.program import capability_calls, parameter_sinks

KERNEL_SIDE = Path(__file__).with_name("kernel_side.py")
KERNEL_MODULE = "_hybrid_workflows"
CAPABILITY = WORKFLOWS
INSTALL_TIMEOUT = 30.0
# How long a clean re-run that confirms a failure may take.
CONFIRM_TIMEOUT = 120.0
# Uses whose action is the model's code; the others (fast-path, verification, cli) run the host's own.
UNTRUSTED_VIA = "kernel"
SessionFactory = Callable[[], AbstractContextManager[KernelSession]]
# What a failed call says when the thing it named does not exist: the task's own values were wrong.
NOT_FOUND = re.compile(r"\b404\b|not found", re.IGNORECASE)


class WorkflowInstallError(HybridError, RuntimeError):
    """The workflows could not be defined in the kernel; the message has the kernel's error."""


@dataclass
class _OpenUse:
    """A use the kernel began: its row, its workflow and the arguments it was given."""

    id: int
    workflow: WorkflowView
    arguments: dict[str, Any]


@dataclass(frozen=True)
class UseOutcome:
    """What the host decided about one use: `success`, `failure` (counts against the workflow),
    `task-failure` (the task named something that does not exist: not the workflow's fault),
    `no-calls` (begun but never ran: nothing to judge), `unconfirmed` (a failure seen in the model's code
    that no clean re-run could confirm) or `not-reproduced` (one a clean re-run did not reproduce); the
    last two are not counted against it."""

    outcome: str
    error: str | None = None


class WorkflowCapability:
    """The host side of `wf` (a sandbox Capability): one operation per workflow, each opening a use."""

    def __init__(
        self,
        store: UseRecorder | None,
        workflows: Sequence[WorkflowView],
        *,
        session: KernelSession,
        run_id: str | None,
        via: str,
        begin_writes: bool = True,
        confirm: SessionFactory | None = None,
    ) -> None:
        # With no store (a re-run that confirms a failure) uses are judged but not recorded, and beginning
        # one is a read (`begin_writes=False`): the session's policy refuses the workflow's own writes.
        self.store = store
        self.begin_writes = begin_writes
        self.workflows = {w.name: w for w in workflows}
        self.session = session
        self.run_id = run_id
        self.via = via
        self.step_index: int | None = None
        self.kernel_pid: int | None = None
        self.open_uses: list[_OpenUse] = []
        self.confirm = confirm  # clean kernels to confirm failures seen in the model's code

    def describe(self) -> dict[str, Any]:
        members: dict[str, dict[str, Any]] = {
            name: {"kind": "operation", "doc": _docstring(w), "params": _params(w)}
            for name, w in self.workflows.items()
        }
        return {"kind": "namespace", "doc": "Workflows from memory.", "members": members}

    def resolve(self, path: Sequence[str]) -> HostFunction:
        if len(path) != 1 or path[0] not in self.workflows:
            raise LookupError(
                f"no workflow {'.'.join(path)!r}; available: {', '.join(sorted(self.workflows))}"
            )
        workflow = self.workflows[path[0]]
        return HostFunction(partial(self._begin, workflow), writes=workflow.writes and self.begin_writes)

    def _begin(self, workflow: WorkflowView, *args: Any, **kwargs: Any) -> None:
        if self.kernel_pid is not None and self.session.kernel_pid != self.kernel_pid:
            raise RuntimeError(
                f"wf.{workflow.name} is not defined in this kernel: it was restarted. The "
                "workflows are loaded again before your next action; call it then."
            )
        names = workflow.parameter_names
        if len(args) > len(names) or set(kwargs) - set(names) or set(names[: len(args)]) & set(kwargs):
            raise TypeError(f"wf.{workflow.signature} was called with the wrong arguments")
        arguments = {**dict(zip(names, args, strict=False)), **kwargs}
        missing = [name for name in names if name not in arguments]
        if missing:
            raise TypeError(f"wf.{workflow.signature}: missing {', '.join(missing)}")
        assert workflow.id is not None
        use = (
            self.store.start_use(
                workflow.id, via=self.via, arguments=arguments, run_id=self.run_id, step_index=self.step_index
            )
            if self.store is not None
            else 0
        )
        self.open_uses.append(_OpenUse(use, workflow, arguments))


def assess_use(use: _OpenUse, calls: Sequence[CallRecord], result: ExecutionResult) -> UseOutcome:
    """The host's verdict on one use from what it observed: the calls made after it began that are the
    workflow's operations (`calls`), and the action's result.

    One that raised (its wrapper's note is on the action's error) failed, before its first call too,
    unless a call it made found nothing at a path its own arguments named (a 404): then the task named
    what does not exist. One that made none of its calls and did not raise is not judged (begun and never
    run, or stopped before its first call). One that returned succeeded only if its calls carried the
    arguments that flow into them. In an action the model wrote, all of this can be forged: see
    `confirm_failure`."""
    workflow = use.workflow
    error = result.error
    raised = error is not None and f"wf.{workflow.name} failed with" in error.traceback
    if not calls:
        if raised and error is not None:
            return UseOutcome("failure", f"{error.name}: {error.message}, before any of its calls")
        return UseOutcome("no-calls", "before any of its calls")
    if raised and error is not None:
        failure = f"{error.name}: {error.message}"
        missing = [c for c in calls if c.status == "error" and NOT_FOUND.search(c.error or "")]
        if any(_carries(c, value) for c in missing for value in use.arguments.values()):
            return UseOutcome("task-failure", f"{failure} (the task names something that does not exist)")
        return UseOutcome("failure", failure)
    sinks = parameter_sinks(workflow.body)
    dropped = [
        f"{name}={value!r}"
        for name, value in use.arguments.items()
        if "call" in sinks.get(name, ())
        and not all(
            any(_carries(c, item, results=True) for c in calls)
            for item in (value if isinstance(value, list) else [value])
        )
    ]
    if dropped:
        return UseOutcome(
            "failure",
            f"its calls did not carry its arguments {', '.join(dropped)}: it ignored what it was given",
        )
    return UseOutcome("success")


def failure_summary(workflow: WorkflowView, result: ExecutionResult) -> str | None:
    """What failed, in one sentence for the user: the exception, the workflow's line and the arguments,
    as the wrapper noted them (see kernel_side), else the bare exception; None if nothing raised."""
    if result.error is None:
        return None
    noted = re.search(
        rf"wf\.{re.escape(workflow.name)} failed with .*?, called as wf\..*?\)\.",
        result.error.traceback,
        re.DOTALL,
    )
    return noted.group(0) if noted else f"{result.error.name}: {result.error.message}"


def _carries(call: CallRecord, value: Any, *, results: bool = False) -> bool:
    """Whether `call`'s arguments (or, with `results`, what it returned) hold `value` (each item of a
    list)."""
    text = json.dumps([call.args, call.kwargs], default=str, ensure_ascii=False).casefold()
    if results:
        text += (call.result or "").casefold()
    items = value if isinstance(value, list) else [value]
    return all(str(item).casefold() in text for item in items)


class InstalledWorkflows:
    """What `install_workflows` did; the runtime keeps it for the run.

    Set `step_index` before each action so uses name their step; call `ensure()` before each action
    (it reloads the programs if the kernel was restarted) and `close()` when the run ends.
    """

    def __init__(self, capability: WorkflowCapability) -> None:
        self.capability = capability

    @property
    def step_index(self) -> int | None:
        return self.capability.step_index

    @step_index.setter
    def step_index(self, value: int | None) -> None:
        self.capability.step_index = value

    def ensure(self) -> None:
        if self.capability.session.kernel_pid != self.capability.kernel_pid:
            self._load()

    def settle(self, result: ExecutionResult) -> list[UseOutcome]:
        """Decide the outcome of each use begun in the action that gave `result`, from what the host saw,
        and record it (a failure counts against the workflow; the others do not). A failure seen in an
        action the model wrote stands only if a clean re-run confirms it (see `confirm_failure`)."""
        capability = self.capability
        assert capability.store is not None, "a re-run's uses are judged, never settled"
        outcomes: list[UseOutcome] = []
        for use, outcome in self.assess(result):
            if outcome.outcome == "failure" and capability.via == UNTRUSTED_VIA:
                outcome = confirm_failure(use.workflow, use.arguments, outcome, capability.confirm)
            capability.store.finish_use(use.id, outcome=outcome.outcome, error=outcome.error)
            outcomes.append(outcome)
        return outcomes

    def assess(self, result: ExecutionResult) -> list[tuple[_OpenUse, UseOutcome]]:
        """The host's verdict on each use begun in the action that gave `result` (see `assess_use`); the
        uses are no longer open."""
        capability = self.capability
        uses, capability.open_uses = capability.open_uses, []
        # The `wf.<name>` calls the host served, one per use begun (a refused one began none).
        begins = [
            i for i, call in enumerate(result.calls) if call.capability == CAPABILITY and call.status == "ok"
        ]
        verdicts: list[tuple[_OpenUse, UseOutcome]] = []
        for number, use in enumerate(uses):
            start = begins[number] if number < len(begins) else len(result.calls)
            again = next(
                (i for i in begins if i > start and result.calls[i].target == use.workflow.name),
                len(result.calls),
            )
            own = set(capability_calls(ast.parse(use.workflow.body)))
            calls = [c for c in result.calls[start + 1 : again] if c.name in own]
            verdicts.append((use, assess_use(use, calls, result)))
        return verdicts

    def close(self) -> None:
        """Uses still open (their action never came back) end without a verdict."""
        capability = self.capability
        assert capability.store is not None
        for use in capability.open_uses:
            capability.store.finish_use(use.id, outcome="no-calls", error="its action never came back")
        capability.open_uses = []

    def _load(self) -> None:
        session = self.capability.session
        session.register(CAPABILITY, self.capability)
        programs = [{"name": w.name, "source": w.body} for w in self.capability.workflows.values()]
        result = session.execute(_install_code(programs), timeout=INSTALL_TIMEOUT)
        if result.error is not None or not result.ok:
            detail = (
                f"{result.error.name}: {result.error.message}" if result.error else "; ".join(result.notices)
            )
            raise WorkflowInstallError(f"could not define the workflows in the kernel: {detail}")
        self.capability.kernel_pid = session.kernel_pid


def install_workflows(
    session: KernelSession,
    store: UseRecorder,
    workflows: Iterable[WorkflowView],
    *,
    run_id: str | None = None,
    via: str = UNTRUSTED_VIA,
    confirm: SessionFactory | None = None,
) -> InstalledWorkflows:
    """Make the program workflows callable in `session`'s kernel as `wf.<name>(...)`.

    Register the session's other capabilities first. Text workflows are skipped (they are guidance
    for the prompt). Uses are recorded against `run_id` with `via`: "kernel" when the actions are the
    model's code, whose failures are confirmed by a re-run in a kernel from `confirm` (a session with the
    same capabilities and no workflows; without one they stay unconfirmed), or "fast-path",
    "verification", "cli" when they are the host's own.
    """
    programs = [w for w in workflows if w.kind == "program"]
    capability = WorkflowCapability(store, programs, session=session, run_id=run_id, via=via, confirm=confirm)
    installed = InstalledWorkflows(capability)
    installed._load()
    return installed


def confirm_failure(
    workflow: WorkflowView,
    arguments: dict[str, Any],
    seen: UseOutcome,
    open_session: SessionFactory | None,
    *,
    timeout: float = CONFIRM_TIMEOUT,
) -> UseOutcome:
    """Whether a failure `seen` in an action the model wrote is the workflow's: re-run it with the same
    `arguments` in a clean kernel from `open_session`, with writes refused, and judge that run (host code,
    so trusted). It stands if the re-run fails too (or is the task's failure if the re-run says so). It is
    `not-reproduced` if the re-run succeeded (what failed was the code around it), and `unconfirmed` if
    the re-run reached a write it may not make, did not finish, or could not be made (a workflow that
    drives the browser would move the run's own pages; no kernel to re-run in)."""
    if open_session is None:
        return UseOutcome("unconfirmed", f"{seen.error}; not confirmed: no clean kernel to re-run it in")
    if any(name.split(".", 1)[0] == "browser" for name in capability_calls(ast.parse(workflow.body))):
        return UseOutcome(
            "unconfirmed", f"{seen.error}; not confirmed: it drives the browser, which a re-run would share"
        )
    try:
        with open_session() as session:
            session.dispatcher.policy = replace(session.dispatcher.policy, mode="read-only")
            capability = WorkflowCapability(
                None, [workflow], session=session, run_id=None, via="confirmation", begin_writes=False
            )
            rerun = InstalledWorkflows(capability)
            rerun._load()
            result = session.execute(call_code(workflow, arguments), timeout=timeout)
            verdicts = rerun.assess(result)
    except (HybridError, OSError, RuntimeError) as exc:  # no kernel to re-run in: the run goes on
        return UseOutcome("unconfirmed", f"{seen.error}; not confirmed: the re-run could not start ({exc})")
    own = set(capability_calls(ast.parse(workflow.body)))
    if any(c.status == "denied" and c.name in own for c in result.calls):
        return UseOutcome(
            "unconfirmed",
            f"{seen.error}; not confirmed: a re-run with writes refused reached its first write",
        )
    again = verdicts[0][1] if verdicts else UseOutcome("no-calls", "it was not called")
    if again.outcome in ("failure", "task-failure"):
        return UseOutcome(
            again.outcome,
            f"{seen.error}; confirmed by a re-run with the same arguments in a clean kernel: {again.error}",
        )
    if again.outcome == "success":
        return UseOutcome(
            "not-reproduced",
            f"{seen.error}; not confirmed: a re-run with the same arguments in a clean kernel succeeded, so "
            "what failed was the code around it",
        )
    detail = again.error or (f"{result.error.name}: {result.error.message}" if result.error else "no verdict")
    return UseOutcome("unconfirmed", f"{seen.error}; not confirmed: the re-run did not finish ({detail})")


def stop_after(session: KernelSession, result: ExecutionResult) -> None:
    """The action that gave `result` ended its run (`finish()`): refuse further calls, kill the kernel (the
    threads and processes the code started with it), and add the calls served after the action returned to
    `result`, so that every call is in the run's record or refused."""
    session.dispatcher.close()
    session.shutdown()
    result.calls.extend(session.dispatcher.recorder.take())


def call_code(workflow: WorkflowView, arguments: dict[str, Any]) -> str:
    """The code action that calls `workflow` and answers with its result: `finish(wf.<name>(...))`."""
    rendered = ", ".join(f"{name}={value!r}" for name, value in arguments.items())
    return f"finish(wf.{workflow.name}({rendered}))"


def _install_code(programs: list[dict[str, str]]) -> str:
    # One statement, names only through __import__, so the user's namespace gains nothing but `wf`.
    return (
        f"(__import__('sys').modules.get({KERNEL_MODULE!r}) or "
        f"__import__('sys').modules.setdefault({KERNEL_MODULE!r}, (lambda m: "
        f"(exec(compile({KERNEL_SIDE.read_text()!r}, '<hybrid workflows>', 'exec'), m.__dict__), "
        f"m)[1])(__import__('types').ModuleType({KERNEL_MODULE!r})))).install(get_ipython().user_ns, wf, "
        f"{programs!r});"
    )


def _docstring(workflow: WorkflowView) -> str:
    return inspect.cleandoc(workflow.description)


def _params(workflow: WorkflowView) -> list[dict[str, str]]:
    return [
        {"name": p["name"], "kind": "POSITIONAL_OR_KEYWORD", "annotation": p.get("type", "str")}
        for p in workflow.parameters
    ]
