"""Every browser action, defined once: its implementation (whose signature is the one the kernel calls),
the line the model's prompt shows, when it writes, and how long it may take.

`BrowserService`'s methods, its `KERNEL_METHODS`, the classification the policy decides on, and the
prompt's browser section are all read from `ACTIONS`; adding an action is decorating one method of
`actions.Actions` with `@action(...)` (importing `actions` fills `ACTIONS`).
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.bridge.capability import Effect
from sandbox.browser.config import Timeouts


@dataclass(frozen=True)
class BrowserEffect(Effect):
    """What one browser call does to the world, found on the page as it is: the policy's `Effect`, the same
    record an API call's operation gives (whether it writes, i.e. submits a form with a method other than
    GET, and the domain it touches), with what the policy is asked to allow and the form it submits."""

    writes: bool = False
    description: str | None = None  # what the policy is asked to allow; default: the call as written
    submits: dict[str, Any] | None = None  # {"method", "action"} of the form the call submits


@dataclass(frozen=True)
class BrowserCall:
    """One browser call as the policy decides on it: an action with its arguments in order, or `request`
    (a write a page sent on its own, with (method, url)), and its effect. `BrowserService.classify` makes it,
    `perform` does it; the bridge records it as any call (`sandbox.CallRecord`)."""

    method: str
    args: tuple[Any, ...]
    effect: BrowserEffect

    @property
    def description(self) -> str:
        shown = ", ".join(repr(a) for a in self.args)
        return self.effect.description or f"{self.method}({shown})"


@dataclass(frozen=True)
class Action:
    name: str
    implementation: Callable[..., Any]  # a method of `actions.Actions`
    prompt: str | None  # the line the model's prompt shows; None: on another action's line, or host only
    host_only: bool  # never offered to the kernel (it hands out secrets or host details)
    effect: Callable[..., BrowserEffect] | None  # (actions, *args) -> its effect; None: reads the page
    waits: (
        Callable[[Timeouts, tuple[Any, ...]], float] | None
    )  # seconds it may wait beyond an action's usual time
    # On the calling thread, before the browser's: (args, the caller's work dir) -> the args the action takes.
    prepare: Callable[[tuple[Any, ...], Path], tuple[Any, ...]] | None = None

    @property
    def for_kernel(self) -> bool:
        return not self.host_only

    @property
    def signature(self) -> inspect.Signature:
        """The signature callers use (the implementation's, without `self`)."""
        signature = inspect.signature(self.implementation)
        return signature.replace(parameters=list(signature.parameters.values())[1:])

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.implementation) or ""

    def arguments(self, args: Sequence[Any], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
        """The call's arguments in order, defaults filled in; a TypeError says what does not fit."""
        try:
            bound = self.signature.bind(*args, **kwargs)
        except TypeError as exc:
            raise TypeError(f"browser.{self.name}{self.signature}: {exc}") from None
        bound.apply_defaults()
        return bound.args


ACTIONS: dict[str, Action] = {}


def action(
    prompt: str | None = None,
    *,
    host_only: bool = False,
    effect: Callable[..., BrowserEffect] | None = None,
    waits: Callable[[Timeouts, tuple[Any, ...]], float] | None = None,
    prepare: Callable[[tuple[Any, ...], Path], tuple[Any, ...]] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register the decorated method of `Actions` as the action of its name. Without `prompt`, the action
    is shown on the line of the one defined before it."""

    def register(implementation: Callable[..., Any]) -> Callable[..., Any]:
        name = implementation.__name__
        ACTIONS[name] = Action(
            name,
            implementation,
            inspect.cleandoc(prompt) if prompt else None,
            host_only,
            effect,
            waits,
            prepare,
        )
        return implementation

    return register


def kernel_methods() -> frozenset[str]:
    return frozenset(name for name, entry in ACTIONS.items() if entry.for_kernel)


def prompt_lines() -> list[str]:
    """The prompt's list of browser actions, in the order they are defined."""
    return [entry.prompt for entry in ACTIONS.values() if entry.prompt is not None]


METHOD_STUBS = Path(__file__).with_name("methods.pyi")


def method_stubs() -> str:
    """The source of `methods.pyi`: every action as a typed method of `ActionMethods`, which
    `BrowserService` derives from for type checkers only (at run time it gets the actions from `ACTIONS`,
    which type checkers cannot follow)."""
    import sandbox.browser.actions  # noqa: F401 - registers every action

    methods = []
    for entry in ACTIONS.values():
        signature = inspect.signature(entry.implementation)
        shown = signature.replace(
            parameters=[_as_source(p) for p in signature.parameters.values()],
            return_annotation=(
                signature.empty
                if signature.return_annotation is signature.empty
                else _Source(signature.return_annotation)
            ),
        )
        doc = "\n        ".join(entry.doc.splitlines())
        methods.append(f'    def {entry.name}{shown}:\n        """{doc}"""\n')
    return (
        '"""The browser actions as `BrowserService` methods, for type checkers. Generated from\n'
        '`sandbox.browser.registry.ACTIONS` by `write_method_stubs()`: do not edit."""\n\n'
        "from typing import Any\n\n"
        "class ActionMethods:\n" + "\n".join(methods)
    )


def write_method_stubs() -> None:
    """Regenerate `methods.pyi` after adding or changing an action."""
    METHOD_STUBS.write_text(method_stubs(), encoding="utf-8")


def _as_source(parameter: inspect.Parameter) -> inspect.Parameter:
    """The parameter as source shows it: the annotation without quotes (the actions module postpones
    annotations, so they are text), a text default in double quotes."""
    annotation, default = parameter.annotation, parameter.default
    return parameter.replace(
        annotation=parameter.empty if annotation is parameter.empty else _Source(annotation),
        default=_Source(json.dumps(default)) if isinstance(default, str) else default,
    )


class _Source:
    """A value shown in a signature as the source text it holds."""

    def __init__(self, text: object) -> None:
        self.text = str(text)

    def __repr__(self) -> str:
        return self.text
