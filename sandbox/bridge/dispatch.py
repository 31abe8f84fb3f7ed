"""Turns a request from the kernel into a policy-checked, recorded call of a registered capability.

Transport-free: the server hands each decoded request to `Dispatcher.handle` and sends back its reply.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from sandbox.bridge.capability import Capability, HostFunction
from sandbox.bridge.policy import Call, PermissionDenied, Policy
from sandbox.bridge.record import CallRecord, CallStatus, Recorder, Redactor, summarise

# The dispatcher whose call the current thread is serving, for writes an operation only discovers while
# it runs (a page's own request during a browser action).
_serving: ContextVar[Dispatcher | None] = ContextVar("serving", default=None)


def decide_during_call(call: Call) -> None:
    """Put `call`, a write that the operation being served came upon, to the serving dispatcher's policy;
    it is recorded and timed like a call of its own (a person's answer is not charged to the action).

    Raises `PermissionDenied` if the policy refuses it, or if no bridge call is being served on this thread
    (nobody on whose behalf to decide)."""
    dispatcher = _serving.get()
    if dispatcher is None:
        raise PermissionDenied(
            f"{call.name} was refused: it was not made on behalf of a call from the kernel."
        )
    dispatcher.decide_and_record(call)


def serving_working_dir() -> Path | None:
    """The working directory of the kernel whose call this thread is serving: where an operation may read
    the kernel's files (say, a browser upload). None outside a call from a kernel."""
    dispatcher = _serving.get()
    return dispatcher.working_dir() if dispatcher is not None and dispatcher.working_dir is not None else None


class Dispatcher:
    """Registered capabilities, the policy in force, and the record of calls."""

    def __init__(self, policy: Policy | None = None, secrets: Iterable[str] = ()) -> None:
        self.policy = policy or Policy()
        self.redactor = Redactor(secrets)
        self.recorder = Recorder()
        self._capabilities: dict[str, Capability] = {}
        # Where the kernel served runs code (its session sets it; the kernel may be replaced meanwhile).
        self.working_dir: Callable[[], Path] | None = None
        self._deciding_since: dict[int, float] = {}
        self._decided_seconds = 0.0
        self._decided_by_thread: dict[int, float] = {}  # a call's latency leaves out its own decisions
        self._lock = threading.Lock()
        # Calls being served; after `close()` none is taken, so every call is recorded or refused.
        self._serving_calls = 0
        self._closed = False
        self._idle = threading.Condition(self._lock)

    def register(self, name: str, capability: Capability) -> None:
        if not name.isidentifier() or name.startswith("_"):
            raise ValueError(f"{name!r} cannot name a capability: use a public Python identifier")
        self._capabilities[name] = capability

    def describe(self) -> dict[str, Any]:
        return {name: capability.describe() for name, capability in self._capabilities.items()}

    def deciding_seconds(self) -> float:
        """Total time spent in policy decisions so far, including ones still open (a user prompt).

        Execution time limits exclude it: the model's code should not time out while a person decides.
        """
        now = time.monotonic()
        with self._lock:
            return self._decided_seconds + sum(now - since for since in self._deciding_since.values())

    def handle(self, request: Any) -> dict[str, Any]:
        """The reply to one request: `{"ok": True, "value": ...}` or `{"ok": False, "error": {...}}`."""
        op = request.get("op") if isinstance(request, dict) else None
        if op == "describe":
            return {"ok": True, "value": self.describe()}
        if op == "call":
            try:
                capability, path = str(request["capability"]), [str(part) for part in request["path"]]
                args, kwargs = list(request["args"]), dict(request["kwargs"])
            except (KeyError, TypeError, ValueError):
                return _error("ValueError", "malformed bridge call: expected capability, path, args, kwargs")
            return self._call(capability, path, args, kwargs)
        return _error("ValueError", f"unknown bridge request {op!r}")

    def close(self, timeout: float = 30.0) -> None:
        """Take no more calls (each is refused and recorded as such) and wait up to `timeout` seconds for
        those being served, so that their records are in before the run's record is closed."""
        with self._idle:
            self._closed = True
            self._idle.wait_for(lambda: self._serving_calls == 0, timeout)

    def _call(
        self, capability: str, path: list[str], args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        with self._idle:
            self._serving_calls += 1
        try:
            return self._serve(capability, path, args, kwargs)
        finally:
            with self._idle:
                self._serving_calls -= 1
                self._idle.notify_all()

    def _serve(
        self, capability: str, path: list[str], args: list[Any], kwargs: dict[str, Any]
    ) -> dict[str, Any]:
        started_at, start = time.time(), time.perf_counter()
        start -= self._decided_here()  # `_latency(start)` then leaves out the decisions made meanwhile
        target = ".".join(path)
        call: Call | None = None
        status: CallStatus
        serving = _serving.set(self)
        try:
            operation = self._resolve(capability, path)
            effect = operation.effect(args, kwargs)
            call = Call(capability, target, tuple(args), kwargs, effect.writes, effect.domain)
            if self._closed:
                raise PermissionDenied("the run has ended (finish() was called): nothing more may be done")
            self._decide(call)
            value = self.redactor.value(operation(*args, **kwargs))
            _ensure_json(value, call.name)
            reply = {"ok": True, "value": value}
            status, result, error = "ok", summarise(value), None
        except PermissionDenied as exc:
            reply = _error(type(exc).__name__, self.redactor.text(str(exc)), denied=True)
            status, result, error = "denied", None, reply["error"]["message"]
        except Exception as exc:  # noqa: BLE001 - any host failure becomes an exception in the kernel
            message = self.redactor.text(str(exc))
            reply = _error(type(exc).__name__, message)
            status, result, error = "error", None, f"{type(exc).__name__}: {message}"
        finally:
            _serving.reset(serving)
        self.recorder.add(
            CallRecord(
                capability=capability,
                target=target,
                args=self.redactor.value(list(args)),
                kwargs=self.redactor.value(dict(kwargs)),
                writes=call.writes if call else False,
                domain=call.domain if call else None,
                status=status,
                result=result,
                error=error,
                started_at=started_at,
                latency=self._latency(start),
            )
        )
        return reply

    def _resolve(self, capability: str, path: list[str]) -> HostFunction:
        registered = self._capabilities.get(capability)
        if registered is None:
            raise LookupError(
                f"no capability {capability!r} in this session; available: "
                f"{', '.join(sorted(self._capabilities))}"
            )
        return registered.resolve(path)

    def decide_and_record(self, call: Call) -> None:
        """Decide on a call that is not run through `handle` and record the decision; see
        `decide_during_call`."""
        started_at, start = time.time(), time.perf_counter()
        start -= self._decided_here()
        try:
            self._decide(call)
        except PermissionDenied as exc:
            self._record_decision(call, started_at, start, self.redactor.text(str(exc)))
            raise
        self._record_decision(call, started_at, start, None)

    def _record_decision(self, call: Call, started_at: float, start: float, refusal: str | None) -> None:
        self.recorder.add(
            CallRecord(
                capability=call.capability,
                target=call.target,
                args=self.redactor.value(list(call.args)),
                kwargs=self.redactor.value(dict(call.kwargs)),
                writes=call.writes,
                domain=call.domain,
                status="denied" if refusal else "ok",
                result=None,
                error=refusal,
                started_at=started_at,
                latency=self._latency(start),
            )
        )

    def _decide(self, call: Call) -> None:
        key = threading.get_ident()
        with self._lock:
            self._deciding_since[key] = time.monotonic()
        try:
            self.policy.check(call)
        finally:
            with self._lock:
                decided = time.monotonic() - self._deciding_since.pop(key)
                self._decided_seconds += decided
                self._decided_by_thread[key] = self._decided_by_thread.get(key, 0.0) + decided

    def _latency(self, start: float) -> float:
        """Seconds since `start` (less this thread's decisions then), without the user's time to decide."""
        return time.perf_counter() - start - self._decided_here()

    def _decided_here(self) -> float:
        """Seconds this thread has spent in policy decisions (asking the user) so far."""
        with self._lock:
            return self._decided_by_thread.get(threading.get_ident(), 0.0)


def _ensure_json(value: Any, name: str) -> None:
    # Checked here rather than failing in the transport, so the kernel and the record both say why.
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} returned a value that cannot be sent to the kernel: {exc}") from None


def _error(type_name: str, message: str, denied: bool = False) -> dict[str, Any]:
    return {"ok": False, "error": {"type": type_name, "message": message, "denied": denied}}
