"""Fixtures for the WebArena-Infinity bed: one browser for the module, a private data dir per task."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # bed, tasks and runs are imported by name

from runs import TaskRun, run_task
from tasks import Task

from hybrid.config import Settings, find_chromium
from sandbox.browser import BrowserService, Timeouts


@pytest.fixture(scope="module")
def infinity_browser() -> Iterator[BrowserService]:
    executable = find_chromium()
    if executable is None:
        pytest.fail("No Chromium found: run ./install.sh, which installs Debian's chromium package.")
    service = BrowserService(str(executable), timeouts=Timeouts(navigation=20, settle=5, action=5, wait=10))
    yield service
    service.close()


@pytest.fixture
def run(settings: Settings, infinity_browser: BrowserService) -> Callable[[Task], TaskRun]:
    return lambda task: run_task(task, settings, infinity_browser)
