"""The kernel side of `wf`: stored workflow programs defined in the kernel, each wrapped so that every
call passes the host's bridge before it runs (policy, record, a use row). Nothing here reports an outcome:
the host judges each use from what it observed, so kernel code cannot write to the memory.

The host injects this file's source into the kernel (see `workflows.kernel`); it imports nothing from
the host and uses the standard library only. Programs are compiled here, in the kernel, never on the
host: their `api.*` / `browser.*` calls go through the same stubs as the model's own code.
"""

from __future__ import annotations

import builtins
import functools
import traceback
from typing import Any

MODULE_NAME = "_hybrid_workflows"
# sandbox.names.CAPABILITIES, spelled out: this file runs in the kernel, which imports nothing from the host.
CAPABILITIES = ("api", "browser", "mcp", "wf")

_state: dict[str, Any] = {"wf": None, "hooked": False}


def install(user_ns: dict[str, Any], host: Any, programs: list[dict[str, str]]) -> list[str]:
    """Define each program and put a `wf` object with one wrapper per program into `user_ns`.

    `host` is the bridge stub registered as `wf` (calling `host.<name>` starts a use on the host).
    """
    members: dict[str, Any] = {}
    for program in programs:
        name = program["name"]
        namespace: dict[str, Any] = {"__builtins__": builtins, "__name__": f"workflow_{name}"}
        exec(compile(program["source"], f"<workflow {name}>", "exec"), namespace)  # noqa: S102 - in the kernel
        members[name] = staticmethod(
            _wrap(name, program["source"], namespace[name], namespace, user_ns, host)
        )
    names = sorted(members)
    summary = f"<wf: {', '.join(names) or 'no workflows'}>"
    members.update(
        __doc__="Workflows from memory: call wf.<name>(...); help(wf.<name>) shows how.",
        __module__="workflows",
        __repr__=lambda self: summary,
        __slots__=(),
    )
    _state["wf"] = type("wf", (), members)()
    user_ns["wf"] = _state["wf"]
    if not _state["hooked"]:
        shell = user_ns["get_ipython"]()
        shell.events.register("pre_run_cell", functools.partial(_reassert, user_ns))
        _state["hooked"] = True
    return names


def _reassert(user_ns: dict[str, Any], *_info: Any) -> None:
    """Re-registering capabilities on the host puts the bare bridge stub back as `wf`; undo that."""
    current = user_ns.get("wf")
    if (
        _state["wf"] is not None
        and current is not _state["wf"]
        and getattr(current, "__module__", "") == "host"
    ):
        user_ns["wf"] = _state["wf"]


def _wrap(
    name: str, source: str, function: Any, namespace: dict[str, Any], user_ns: dict[str, Any], host: Any
) -> Any:
    begin = getattr(host, name)
    lines = source.splitlines()

    @functools.wraps(function)
    def call(*args: Any, **kwargs: Any) -> Any:
        begin(*args, **kwargs)
        namespace.update({cap: user_ns[cap] for cap in CAPABILITIES if cap in user_ns})
        try:
            return function(*args, **kwargs)
        except Exception as exc:
            exc.add_note(_failure_note(name, source, lines, exc, args, kwargs))
            raise

    return call


def _failure_note(
    name: str, source: str, lines: list[str], exc: BaseException, args: Any, kwargs: dict[str, Any]
) -> str:
    """What failed, for the model to repair and the user to read: the exception, the workflow's line that
    raised it, the arguments, and the source."""
    where = ""
    for frame, number in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename == f"<workflow {name}>" and 0 < number <= len(lines):
            where = f" at line {number} of the workflow: `{lines[number - 1].strip()}`"
    given = ", ".join([*map(repr, args), *(f"{k}={v!r}" for k, v in kwargs.items())])
    return (
        f"wf.{name} failed with {type(exc).__name__}: {exc}{where}, called as wf.{name}({given}). The site "
        "may have changed since "
        "it was learnt, or the arguments name nothing that exists. Do the task with your own code instead, "
        f"fixing what broke; a successful run becomes its next version. Its source:\n{source.rstrip()}"
    )
