"""Kernel sessions for code actions, and the capability bridge that lets them reach the host.

The kernel holds no secrets and no live connections: it holds stubs (`api`, `browser`, `wf`,
`finish`) that call the host over a private Unix socket, through one policy and one record. It runs
isolated (`Isolation`: bubblewrap namespaces), so that socket is its only way out.
"""

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
