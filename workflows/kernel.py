"""Offering stored workflows to a kernel as `wf.<name>(...)`.

Design: the programs are defined *in the kernel* (workflows.kernel_side), never executed on the host,
so their `api.*` / `browser.*` calls go through the bridge like the model's own calls: the policy
checks each one and the record keeps each one. The host also registers a capability named `wf` whose
operation `wf.<name>` every kernel-side wrapper calls first: that call is policy-checked as a whole
(a workflow that writes is refused up front in a read-only session), appears in the run's record with
its arguments, and opens a row in `workflow_uses`; the wrapper then reports the outcome through the
hidden `wf._outcome`, which updates the workflow's counts (and may deprecate it).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import Any

from sandbox import HostFunction, KernelSession
from sandbox.errors import HybridError
from sandbox.names import WORKFLOWS
from workflows.memory import Workflow, WorkflowStore

KERNEL_SIDE = Path(__file__).with_name("kernel_side.py")
KERNEL_MODULE = "_hybrid_workflows"
CAPABILITY = WORKFLOWS
INSTALL_TIMEOUT = 30.0


class WorkflowInstallError(HybridError, RuntimeError):
    """The workflows could not be defined in the kernel; the message has the kernel's error."""


class WorkflowCapability:
    """The host side of `wf` (a sandbox Capability): one operation per workflow, plus `_outcome`."""

    def __init__(
        self,
        store: WorkflowStore,
        workflows: Sequence[Workflow],
        *,
        session: KernelSession,
        run_id: str | None,
        via: str,
    ) -> None:
        self.store = store
        self.workflows = {w.name: w for w in workflows}
        self.session = session
        self.run_id = run_id
        self.via = via
        self.step_index: int | None = None
        self.kernel_pid: int | None = None
        self.open_uses: set[int] = set()

    def describe(self) -> dict[str, Any]:
        members: dict[str, dict[str, Any]] = {
            name: {"kind": "operation", "doc": _docstring(w), "params": _params(w)}
            for name, w in self.workflows.items()
        }
        members["_outcome"] = {
            "kind": "operation",
            "doc": "Used by the wf wrappers; do not call.",
            "params": None,
        }
        return {"kind": "namespace", "doc": "Workflows from memory.", "members": members}

    def resolve(self, path: Sequence[str]) -> HostFunction:
        if list(path) == ["_outcome"]:
            return HostFunction(self._outcome, writes=False)
        if len(path) != 1 or path[0] not in self.workflows:
            raise LookupError(
                f"no workflow {'.'.join(path)!r}; available: {', '.join(sorted(self.workflows))}"
            )
        workflow = self.workflows[path[0]]
        return HostFunction(partial(self._begin, workflow), writes=workflow.writes)

    def _begin(self, workflow: Workflow, *args: Any, **kwargs: Any) -> int:
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
        use = self.store.start_use(
            workflow.id, via=self.via, arguments=arguments, run_id=self.run_id, step_index=self.step_index
        )
        self.open_uses.add(use)
        return use

    def _outcome(self, use: int, ok: bool, error: str | None = None) -> None:
        if use not in self.open_uses:
            raise ValueError(f"workflow use {use} is not open in this session")
        self.open_uses.discard(use)
        self.store.finish_use(use, ok=bool(ok), error=error)


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

    def close(self) -> None:
        """Uses still open (interrupted, or started without running) end as failures."""
        for use in sorted(self.capability.open_uses):
            self.capability._outcome(use, False, "did not finish: interrupted, or the kernel was lost")

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
    store: WorkflowStore,
    workflows: Iterable[Workflow],
    *,
    run_id: str | None = None,
    via: str = "kernel",
) -> InstalledWorkflows:
    """Make the program workflows callable in `session`'s kernel as `wf.<name>(...)`.

    Register the session's other capabilities first. Text workflows are skipped (they are guidance
    for the prompt). Uses are recorded against `run_id` with `via` ("kernel", "fast-path", ...).
    """
    programs = [w for w in workflows if w.kind == "program"]
    installed = InstalledWorkflows(
        WorkflowCapability(store, programs, session=session, run_id=run_id, via=via)
    )
    installed._load()
    return installed


def call_code(workflow: Workflow, arguments: dict[str, Any]) -> str:
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


def _docstring(workflow: Workflow) -> str:
    return inspect.cleandoc(workflow.description)


def _params(workflow: Workflow) -> list[dict[str, str]]:
    return [
        {"name": p["name"], "kind": "POSITIONAL_OR_KEYWORD", "annotation": p.get("type", "str")}
        for p in workflow.parameters
    ]
