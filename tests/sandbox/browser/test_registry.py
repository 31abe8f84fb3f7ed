"""The typed view of the browser's actions (`methods.pyi`) that type checkers read is the registry's."""

from __future__ import annotations

import ast
import inspect

import pytest

from sandbox.browser import BrowserService
from sandbox.browser.registry import ACTIONS, METHOD_STUBS, method_stubs

pytestmark = pytest.mark.browser


def test_the_method_stubs_are_generated_from_the_registry() -> None:
    assert METHOD_STUBS.read_text(encoding="utf-8") == method_stubs(), (
        "sandbox/browser/methods.pyi is out of date: run "
        '.venv/bin/python -c "from sandbox.browser.registry import write_method_stubs; write_method_stubs()"'
    )


def test_the_stubs_declare_every_action_with_its_parameters_and_types() -> None:
    (stub_class,) = [node for node in ast.parse(method_stubs()).body if isinstance(node, ast.ClassDef)]
    declared = {method.name: method for method in stub_class.body if isinstance(method, ast.FunctionDef)}
    assert declared.keys() == ACTIONS.keys()
    for name, entry in ACTIONS.items():
        arguments = declared[name].args.args[1:]  # after self
        assert [(a.arg, ast.unparse(a.annotation) if a.annotation else None) for a in arguments] == [
            (p.name, p.annotation) for p in entry.signature.parameters.values()
        ]
        assert list(inspect.signature(getattr(BrowserService, name)).parameters)[1:] == [
            a.arg for a in arguments
        ]
