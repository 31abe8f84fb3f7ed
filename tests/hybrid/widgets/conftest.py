"""The widget bed's server, one browser for a module's runs, and `run_task`, which runs a task through the
full agent with its scripted code actions."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # widget_bed and widget_tasks are imported by name

from widget_bed import WidgetBed
from widget_runs import TaskRun, register_bed, run_task as run_task_through_agent
from widget_tasks import Task

from hybrid.config import Settings, find_chromium
from sandbox.browser import BrowserService


@pytest.fixture(scope="session")
def widget_bed() -> Iterator[WidgetBed]:
    bed = WidgetBed()
    yield bed
    bed.close()


@pytest.fixture(scope="module")
def widget_browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[BrowserService]:
    """One Chromium for a module's runs (each run restricts it to its own sites)."""
    executable = find_chromium()
    if executable is None:
        pytest.fail("No Chromium found: run ./install.sh, which installs Debian's chromium package.")
    with BrowserService(executable, screenshot_dir=tmp_path_factory.mktemp("screenshots")) as browser:
        yield browser


@pytest.fixture
def run_task(
    settings: Settings, widget_bed: WidgetBed, widget_browser: BrowserService
) -> Callable[[Task], TaskRun]:
    """run_task(task): runs `task` on its page through the agent (see widget_runs.run_task)."""
    register_bed(settings, widget_bed)
    return lambda task: run_task_through_agent(task, settings, widget_bed, widget_browser)
