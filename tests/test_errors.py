"""Every error hybrid-agent raises on purpose derives from one root, `HybridError`, and the CLI prints
each as one line."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import click
import pytest
from click.testing import CliRunner

import apis
import hybrid
import sandbox
import workflows
from hybrid.cli import LazyGroup
from hybrid.config import ConfigError
from sandbox.errors import HybridError

# Not errors for the user: the kernel side of the bridge (it imports nothing from the host), a warning,
# the CLI's own, signals inside the browser's widget code, and the demo site's HTTP answers.
NOT_REPORTED = {
    "apis.errors.ApiValidationWarning",
    "sandbox.bridge.kernel_stub.FrameTooLarge",
    "sandbox.bridge.kernel_stub.CapabilityError",
    "sandbox.bridge.kernel_stub.PermissionDenied",
    "sandbox.bridge.kernel_stub.BridgeUnavailable",
    "sandbox.browser.widgets.OptionNotFound",
    "hybrid.cli.SetupError",
    "hybrid.demo.access.AccessDenied",
    "hybrid.demo.access.NotFound",
    "hybrid.demo.tracker.InvalidInput",
    "hybrid.demo.web.LoginRequired",
}


def _exception_classes() -> dict[str, type[BaseException]]:
    found = {}
    for package in (apis, sandbox, workflows, hybrid):
        for module_info in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if "migrations" in module_info.name or module_info.name.endswith("__main__"):
                continue
            module = importlib.import_module(module_info.name)
            for name, value in vars(module).items():
                if (
                    inspect.isclass(value)
                    and issubclass(value, BaseException)
                    and value.__module__ == module.__name__
                ):
                    found[f"{module.__name__}.{name}"] = value
    return found


def test_every_error_derives_from_hybrid_error() -> None:
    classes = _exception_classes()
    assert len(classes) > 40
    outside = sorted(name for name, cls in classes.items() if not issubclass(cls, HybridError))
    assert outside == sorted(NOT_REPORTED)


class _Group(LazyGroup):
    def __init__(self, error: Exception) -> None:
        super().__init__(name="hybrid")
        self.error = error

    def list_commands(self, ctx: click.Context) -> list[str]:
        return ["fail"]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        def fail() -> None:
            raise self.error

        return click.Command("fail", callback=fail)


def test_the_cli_prints_an_error_of_hybrid_as_one_line() -> None:
    result = CliRunner().invoke(_Group(apis.SpecError("spec.json: not JSON or YAML")), ["fail"])
    assert (result.exit_code, result.output) == (1, "Error: spec.json: not JSON or YAML\n")
    setup = CliRunner().invoke(_Group(ConfigError("HYBRID_MAX_STEPS: not a number")), ["fail"])
    assert (setup.exit_code, setup.output) == (2, "Error: HYBRID_MAX_STEPS: not a number\n")


def test_an_unexpected_error_keeps_its_traceback() -> None:
    result = CliRunner().invoke(_Group(ZeroDivisionError("a bug")), ["fail"])
    assert isinstance(result.exception, ZeroDivisionError)
    with pytest.raises(ZeroDivisionError):
        CliRunner().invoke(_Group(ZeroDivisionError("a bug")), ["fail"], catch_exceptions=False)
