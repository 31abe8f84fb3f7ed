"""The capability bridge: host objects offered to the kernel as stubs, behind one policy and one record."""

from sandbox.bridge.capability import Capability, Effect, Namespace, Operation
from sandbox.bridge.dispatch import Dispatcher, decide_during_call, serving_working_dir
from sandbox.bridge.policy import Call, Mode, PermissionDenied, Policy
from sandbox.bridge.record import REDACTED, CallRecord, Redactor
from sandbox.bridge.server import BridgeServer

__all__ = [
    "REDACTED",
    "BridgeServer",
    "Call",
    "CallRecord",
    "Capability",
    "Dispatcher",
    "Effect",
    "Mode",
    "Namespace",
    "Operation",
    "PermissionDenied",
    "Policy",
    "Redactor",
    "decide_during_call",
    "serving_working_dir",
]
