"""Kernel sessions for code actions, and the capability bridge that lets them reach the host.

The kernel holds no secrets and no live connections: it holds stubs (`api`, `browser`, `wf`,
`finish`) that call the host over a private Unix socket, through one policy and one record.
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
from sandbox.kernel import KernelError
from sandbox.limits import KernelLimits
from sandbox.pool import KernelPool
from sandbox.results import ExecutionError, ExecutionResult, RichOutput
from sandbox.session import KernelSession

__all__ = [
    "REDACTED",
    "Call",
    "CallRecord",
    "Capability",
    "Effect",
    "ExecutionError",
    "ExecutionResult",
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
