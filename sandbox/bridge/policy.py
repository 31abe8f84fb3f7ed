"""The single point that decides whether a call from the kernel may run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal, get_args

from sandbox.errors import HybridError

# How a session treats calls that write: run them, refuse them, or ask the user (see `Policy`).
PolicyMode = Literal["allow", "read-only", "confirm"]
POLICY_MODES: tuple[PolicyMode, ...] = get_args(PolicyMode)


@dataclass(frozen=True)
class Call:
    """One call from the kernel, classified: which capability, which operation, and its effect."""

    capability: str
    target: str
    args: tuple[Any, ...]
    kwargs: Mapping[str, Any]
    writes: bool
    domain: str | None

    @property
    def name(self) -> str:
        """The call as the model wrote it, e.g. `api.demo.update_issue`."""
        return f"{self.capability}.{self.target}" if self.target else self.capability


class PermissionDenied(HybridError, PermissionError):
    """The policy refused a call; the message says why and what to do instead."""


@dataclass(frozen=True)
class Policy:
    """Whether calls may run.

    - `mode`: `allow` everything, `read-only` (calls that write are refused: non-GET API calls,
      form submissions), or `confirm` (calls that write run only if `confirm(call)` returns True).
    - `operations`: glob patterns over call names, e.g. `api.demo.list_*`. They restrict only the
      capabilities they name: with `("api.demo.*",)` every `api` call must match, `finish` is untouched.
    - `domains`: hostnames calls may touch, `*.example.com` for subdomains. Calls without a domain pass.
    """

    mode: PolicyMode = "allow"
    operations: tuple[str, ...] | None = None
    domains: tuple[str, ...] | None = None
    confirm: Callable[[Call], bool] | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if self.mode not in POLICY_MODES:
            raise ValueError(f"unknown policy mode {self.mode!r}: use one of {', '.join(POLICY_MODES)}")
        if self.mode == "confirm" and self.confirm is None:
            raise ValueError("policy mode 'confirm' needs a confirm(call) -> bool callback to ask the user")

    def check(self, call: Call) -> None:
        """Return if `call` may run; raise `PermissionDenied` otherwise."""
        self._check_operation(call)
        self._check_domain(call)
        if not call.writes or self.mode == "allow":
            return
        if self.mode == "read-only":
            raise PermissionDenied(
                f"{call.name} was refused: it writes, and this session is read-only. "
                "Use read operations only, or finish and tell the user what you would change."
            )
        assert self.confirm is not None
        if not self.confirm(call):
            raise PermissionDenied(
                f"{call.name} was refused: the user declined it. Do not retry it; try another way or finish."
            )

    def _check_operation(self, call: Call) -> None:
        if self.operations is None:
            return
        governing = [p for p in self.operations if p.split(".", 1)[0] == call.capability]
        if governing and not any(fnmatchcase(call.name, pattern) for pattern in governing):
            raise PermissionDenied(
                f"{call.name} was refused: it is not among the allowed operations ({', '.join(governing)})."
            )

    def _check_domain(self, call: Call) -> None:
        if self.domains is None or call.domain is None:
            return
        host = call.domain.lower()
        for allowed in self.domains:
            allowed = allowed.lower()
            if host == allowed or (allowed.startswith("*.") and host.endswith(allowed[1:])):
                return
        raise PermissionDenied(
            f"{call.name} was refused: {call.domain} is not an allowed domain ({', '.join(self.domains)})."
        )
