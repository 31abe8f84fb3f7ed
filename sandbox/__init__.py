"""Kernel sessions for code actions, and the capability bridge that lets them reach the host.

The kernel holds no secrets and no live connections: it holds stubs (`api`, `browser`, `wf`,
`finish`) that call the host over a private Unix socket, through one policy and one record. It runs
isolated (`Isolation`: bubblewrap namespaces), so that socket is its only way out.

Names are imported when first used, so a caller that needs only a record or a policy mode
(`from sandbox import CallRecord`) does not start up jupyter-client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.lazy import lazy_names

if TYPE_CHECKING:
    # `X as X`: names re-exported for type checkers (at run time `__getattr__` imports them).
    from sandbox.bridge import (
        POLICY_MODES as POLICY_MODES,
        REDACTED as REDACTED,
        Call as Call,
        CallRecord as CallRecord,
        CallStatus as CallStatus,
        Capability as Capability,
        Effect as Effect,
        HostFunction as HostFunction,
        Namespace as Namespace,
        PermissionDenied as PermissionDenied,
        Policy as Policy,
        PolicyMode as PolicyMode,
        Value as Value,
    )
    from sandbox.isolation import (
        ISOLATION_MODES as ISOLATION_MODES,
        Isolation as Isolation,
        IsolationMode as IsolationMode,
        IsolationUnavailable as IsolationUnavailable,
    )
    from sandbox.kernel import (
        KernelError as KernelError,
    )
    from sandbox.limits import (
        KernelLimits as KernelLimits,
    )
    from sandbox.pool import (
        KernelPool as KernelPool,
    )
    from sandbox.results import (
        ExecutionError as ExecutionError,
        ExecutionResult as ExecutionResult,
        RichOutput as RichOutput,
    )
    from sandbox.session import (
        KernelSession as KernelSession,
    )

_HOMES = {
    "sandbox.bridge.capability": ("Capability", "Effect", "HostFunction", "Namespace", "Value"),
    "sandbox.bridge.policy": ("POLICY_MODES", "Call", "PermissionDenied", "Policy", "PolicyMode"),
    "sandbox.bridge.record": ("REDACTED", "CallRecord", "CallStatus"),
    "sandbox.isolation": ("ISOLATION_MODES", "Isolation", "IsolationMode", "IsolationUnavailable"),
    "sandbox.kernel": ("KernelError",),
    "sandbox.limits": ("KernelLimits",),
    "sandbox.pool": ("KernelPool",),
    "sandbox.results": ("ExecutionError", "ExecutionResult", "RichOutput"),
    "sandbox.session": ("KernelSession",),
}
__all__, __getattr__ = lazy_names(__name__, _HOMES)
