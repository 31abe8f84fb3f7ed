"""The capability bridge: host objects offered to the kernel as stubs, behind one policy and one record.

Names are imported when first used (see `sandbox`), so the records and the policy modes come cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.lazy import lazy_names

if TYPE_CHECKING:
    # `X as X`: names re-exported for type checkers (at run time `__getattr__` imports them).
    from sandbox.bridge.capability import (
        Capability as Capability,
        Effect as Effect,
        HostFunction as HostFunction,
        Namespace as Namespace,
        Value as Value,
    )
    from sandbox.bridge.dispatch import (
        Dispatcher as Dispatcher,
        decide_during_call as decide_during_call,
        serving_working_dir as serving_working_dir,
    )
    from sandbox.bridge.policy import (
        POLICY_MODES as POLICY_MODES,
        Call as Call,
        PermissionDenied as PermissionDenied,
        Policy as Policy,
        PolicyMode as PolicyMode,
    )
    from sandbox.bridge.record import (
        REDACTED as REDACTED,
        CallRecord as CallRecord,
        CallStatus as CallStatus,
        Redactor as Redactor,
    )
    from sandbox.bridge.server import (
        BridgeServer as BridgeServer,
    )

_HOMES = {
    "sandbox.bridge.capability": ("Capability", "Effect", "HostFunction", "Namespace", "Value"),
    "sandbox.bridge.dispatch": ("Dispatcher", "decide_during_call", "serving_working_dir"),
    "sandbox.bridge.policy": ("POLICY_MODES", "Call", "PermissionDenied", "Policy", "PolicyMode"),
    "sandbox.bridge.record": ("REDACTED", "CallRecord", "CallStatus", "Redactor"),
    "sandbox.bridge.server": ("BridgeServer",),
}
__all__, __getattr__ = lazy_names(__name__, _HOMES)
