"""The sandbox's names are imported on first use: a record or a policy mode does not start up the kernel
machinery, and every exported name still resolves."""

from __future__ import annotations

import subprocess
import sys

import pytest

import sandbox
import sandbox.bridge

pytestmark = pytest.mark.kernel


def test_records_and_policy_modes_import_no_kernel_machinery() -> None:
    code = (
        "import sys\nfrom sandbox import CallRecord, PolicyMode, POLICY_MODES\nfrom sandbox.text import "
        "clip\nprint(sorted(name for name in ('jupyter_client', 'zmq', 'sandbox.session') if name in "
        "sys.modules))"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert shown.stdout.strip() == "[]"


@pytest.mark.parametrize("package", [sandbox, sandbox.bridge], ids=lambda p: p.__name__)
def test_every_exported_name_resolves(package) -> None:
    for name in package.__all__:
        assert getattr(package, name) is not None


def test_an_unknown_name_is_an_attribute_error_that_names_it() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Operation'"):
        sandbox.Operation  # noqa: B018 - the old name, renamed HostFunction
