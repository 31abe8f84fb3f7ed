"""The real web apps of the test bed, each started once per test module (see servers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from webapps.servers import DjangoLibrary, JupyterLab, django_library, jupyter_lab


@pytest.fixture(scope="module")
def library() -> Iterator[DjangoLibrary]:
    with django_library() as site:
        yield site


@pytest.fixture(scope="module")
def lab() -> Iterator[JupyterLab]:
    with jupyter_lab() as served:
        yield served
