"""Kernel sessions for code actions, and the capability bridge that lets them reach the host.

The kernel holds no secrets and no live connections: it holds stubs (`api`, `browser`, `wf`,
`finish`) that call the host over a private Unix socket, through one policy and one record. It runs
isolated (`Isolation`: bubblewrap namespaces), so that socket is its only way out.

Each name is imported from its module when first used, so that reading settings (`Isolation`,
`KernelLimits`) does not import the kernel machinery (jupyter_client, zmq).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sandbox.bridge import (
        REDACTED,
        Call,
        CallRecord,
        Capability,
        Effect,
        Namespace,
        Operation,
        PermissionDenied,
        Policy,
    )
    from sandbox.isolation import ISOLATION_MODES, Isolation, IsolationMode, IsolationUnavailable
    from sandbox.kernel import KernelError
    from sandbox.limits import KernelLimits
    from sandbox.pool import KernelPool
    from sandbox.results import ExecutionError, ExecutionResult, RichOutput
    from sandbox.session import KernelSession

_MODULES = {
    "sandbox.bridge": ("REDACTED", "Call", "CallRecord", "Capability", "Effect", "Namespace", "Operation",
                       "PermissionDenied", "Policy"),
    "sandbox.isolation": ("ISOLATION_MODES", "Isolation", "IsolationMode", "IsolationUnavailable"),
    "sandbox.kernel": ("KernelError",),
    "sandbox.limits": ("KernelLimits",),
    "sandbox.pool": ("KernelPool",),
    "sandbox.results": ("ExecutionError", "ExecutionResult", "RichOutput"),
    "sandbox.session": ("KernelSession",),
}
_MODULE_OF = {name: module for module, names in _MODULES.items() for name in names}


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'sandbox' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value

__all__ = [
    "ISOLATION_MODES",
    "REDACTED",
    "Call",
    "CallRecord",
    "Capability",
    "Effect",
    "ExecutionError",
    "ExecutionResult",
    "Isolation",
    "IsolationMode",
    "IsolationUnavailable",
    "KernelError",
    "KernelLimits",
    "KernelPool",
    "KernelSession",
    "Namespace",
    "Operation",
    "PermissionDenied",
    "Policy",
    "RichOutput",
]
