"""Building capabilities on the host: what is accepted, and how calls are classified."""

from __future__ import annotations

import pytest

from sandbox import Effect, HostFunction, Namespace


def test_namespace_refuses_plain_functions_so_writes_are_always_declared() -> None:
    with pytest.raises(TypeError, match=r"wrap functions in HostFunction\(func, writes=...\)"):
        Namespace({"demo": {"delete_everything": lambda: None}})


@pytest.mark.parametrize("name", ["_private", "not an identifier", "1st"])
def test_namespace_refuses_names_the_kernel_could_not_use(name: str) -> None:
    with pytest.raises(ValueError, match="public Python identifier"):
        Namespace({name: HostFunction(print, writes=False)})


def test_effect_may_depend_on_the_arguments() -> None:
    click = HostFunction(
        lambda element, submit=False: None, writes=lambda element, submit=False: submit, domain="demo.test"
    )
    assert click.effect(["e1"], {}) == Effect(writes=False, domain="demo.test")
    assert click.effect(["e1"], {"submit": True}) == Effect(writes=True, domain="demo.test")


def test_resolve_finds_nested_operations_and_names_what_exists() -> None:
    ping = HostFunction(lambda: "pong", writes=False)
    api = Namespace({"demo": {"ping": ping}})
    assert api.resolve(["demo", "ping"]) is ping
    with pytest.raises(LookupError, match="no member 'pong'; available: ping"):
        api.resolve(["demo", "pong"])
    with pytest.raises(LookupError, match="not callable"):
        api.resolve(["demo"])


def test_describe_gives_docs_and_parameters_for_the_kernel() -> None:
    def get_issue(owner: str, number: int = 1, *, expand: bool = False) -> dict:
        """Get one issue."""

    description = Namespace({"get_issue": HostFunction(get_issue, writes=False)}, doc="Demo API").describe()
    operation = description["members"]["get_issue"]
    assert description["doc"] == "Demo API" and operation["doc"] == "Get one issue."
    assert operation["params"] == [
        {"name": "owner", "kind": "POSITIONAL_OR_KEYWORD", "annotation": "str"},
        {"name": "number", "kind": "POSITIONAL_OR_KEYWORD", "default": "1", "annotation": "int"},
        {"name": "expand", "kind": "KEYWORD_ONLY", "default": "False", "annotation": "bool"},
    ]
