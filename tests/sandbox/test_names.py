"""The capability names are defined once (`sandbox.names`); the kernel side of `wf` spells them out."""

from __future__ import annotations

import pytest

from sandbox.names import CAPABILITIES
from workflows import kernel_side

pytestmark = pytest.mark.kernel


def test_the_kernel_side_names_the_same_capabilities() -> None:
    assert set(kernel_side.CAPABILITIES) == CAPABILITIES
