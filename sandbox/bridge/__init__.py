"""The capability bridge: host objects offered to the kernel as stubs, behind one policy and one record.

Names are imported when first used (see `sandbox`), so the records and the policy modes come cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.lazy import lazy_names

if TYPE_CHECKING:
    from sandbox.bridge.capability import Capability, Effect, HostFunction, Namespace, Value
    from sandbox.bridge.dispatch import Dispatcher, decide_during_call, serving_working_dir
    from sandbox.bridge.policy import POLICY_MODES, Call, PermissionDenied, Policy, PolicyMode
    from sandbox.bridge.record import REDACTED, CallRecord, CallStatus, Redactor
    from sandbox.bridge.server import BridgeServer

_HOMES = {
    "sandbox.bridge.capability": ("Capability", "Effect", "HostFunction", "Namespace", "Value"),
    "sandbox.bridge.dispatch": ("Dispatcher", "decide_during_call", "serving_working_dir"),
    "sandbox.bridge.policy": ("POLICY_MODES", "Call", "PermissionDenied", "Policy", "PolicyMode"),
    "sandbox.bridge.record": ("REDACTED", "CallRecord", "CallStatus", "Redactor"),
    "sandbox.bridge.server": ("BridgeServer",),
}
__all__, __getattr__ = lazy_names(__name__, _HOMES)
