"""What the host offers the kernel: host functions, grouped in namespaces, that describe themselves.

A capability is registered under a name (`api`, `browser`, `wf`, `finish`) and is either one
`HostFunction` (called as `finish(answer)`) or a `Namespace` of them (`api.demo.list_issues(...)`).
Each host function says whether it writes and which domain it touches, so the policy can decide.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol


class Capability(Protocol):
    """Anything the bridge can serve: it describes its attribute tree and finds an operation by path."""

    def describe(self) -> dict[str, Any]:
        """The tree the kernel stubs are built from: kinds, names, docstrings, parameters."""
        ...

    def resolve(self, path: Sequence[str]) -> HostFunction:
        """The operation at `path` (empty for a capability that is itself callable)."""
        ...


@dataclass(frozen=True)
class Effect:
    """What a call does to the world, as the policy sees it."""

    writes: bool
    domain: str | None = None


class HostFunction:
    """A host function the kernel may call: `api.demo.get_issue`, `finish`, one `browser` method.

    `writes` and `domain` are either fixed or functions of the call's arguments, e.g.
    `HostFunction(browser.goto, writes=False, domain=lambda url: urlsplit(url).hostname)`.
    `writes` has no default on purpose: the policy must never have to guess.
    """

    def __init__(
        self,
        func: Callable[..., Any],
        *,
        writes: bool | Callable[..., bool],
        domain: str | None | Callable[..., str | None] = None,
        doc: str | None = None,
    ) -> None:
        self.func = func
        self.writes = writes
        self.domain = domain
        self.doc = inspect.cleandoc(doc if doc is not None else func.__doc__ or "")

    def effect(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> Effect:
        writes = self.writes(*args, **kwargs) if callable(self.writes) else self.writes
        domain = self.domain(*args, **kwargs) if callable(self.domain) else self.domain
        return Effect(writes=bool(writes), domain=domain)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.func(*args, **kwargs)

    def describe(self) -> dict[str, Any]:
        return {"kind": "operation", "doc": self.doc, "params": _describe_parameters(self.func)}

    def resolve(self, path: Sequence[str]) -> HostFunction:
        if path:
            raise LookupError(f"this operation has no attribute {path[0]!r}")
        return self


class Value:
    """A plain JSON value the kernel reads as an attribute (`api.gitea.base_url`); nothing is called."""

    def __init__(self, value: Any) -> None:
        self.value = value

    def describe(self) -> dict[str, Any]:
        return {"kind": "value", "value": self.value}

    def resolve(self, path: Sequence[str]) -> HostFunction:
        raise LookupError("a value is read, not called")


class Namespace:
    """Named operations, values and nested namespaces; a mapping value is taken as a nested namespace."""

    def __init__(
        self, members: Mapping[str, HostFunction | Namespace | Mapping[str, Any]], doc: str = ""
    ) -> None:
        self.doc = inspect.cleandoc(doc)
        self.members: dict[str, HostFunction | Namespace] = {}
        for name, member in members.items():
            if not name.isidentifier() or name.startswith("_"):
                raise ValueError(f"{name!r} cannot be a capability member: use a public Python identifier")
            if isinstance(member, Mapping):
                member = Namespace(member)
            if not isinstance(member, (HostFunction, Namespace, Value)):
                raise TypeError(
                    f"{name!r} is a {type(member).__name__}; wrap functions in HostFunction(func, "
                    "writes=...) so the policy knows whether they write"
                )
            self.members[name] = member

    def describe(self) -> dict[str, Any]:
        return {
            "kind": "namespace",
            "doc": self.doc,
            "members": {name: member.describe() for name, member in self.members.items()},
        }

    def resolve(self, path: Sequence[str]) -> HostFunction:
        if not path:
            raise LookupError("a namespace is not callable; call one of its operations")
        member = self.members.get(path[0])
        if member is None:
            raise LookupError(f"no member {path[0]!r}; available: {', '.join(sorted(self.members))}")
        return member.resolve(path[1:])


def _describe_parameters(func: Callable[..., Any]) -> list[dict[str, str]] | None:
    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):  # some builtins have no introspectable signature
        return None
    described = []
    for parameter in signature.parameters.values():
        entry = {"name": parameter.name, "kind": parameter.kind.name}
        if parameter.default is not inspect.Parameter.empty:
            entry["default"] = repr(parameter.default)
        if parameter.annotation is not inspect.Parameter.empty:
            annotation = parameter.annotation
            entry["annotation"] = (
                annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
            )
        described.append(entry)
    return described
