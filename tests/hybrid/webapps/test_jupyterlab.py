"""Tasks on JupyterLab, a React-style single-page app (launcher, file browser, menus, dialogs, editor),
done by the full agent with scripted replies and judged by the files and kernel sessions its server keeps."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser
from webapps.bed import as_params, checks_passing_at_seed, do_by_hand, run_task, with_by_hand
from webapps.servers import JupyterLab
from webapps.tasks import JUPYTERLAB, WebTask

from hybrid.config import Settings

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("task", as_params(JUPYTERLAB))
def test_task(task: WebTask, lab: JupyterLab, settings: Settings) -> None:
    outcome = run_task(task, lab, settings)
    assert outcome.passed, outcome.explain()


def test_no_check_passes_on_the_seed_state(lab: JupyterLab) -> None:
    assert checks_passing_at_seed(JUPYTERLAB, lab) == []


@pytest.mark.parametrize("task", with_by_hand(JUPYTERLAB))
def test_the_task_can_be_done_by_hand(
    task: WebTask, lab: JupyterLab, chromium: Browser, tmp_path: Path
) -> None:
    do_by_hand(task, lab, chromium, tmp_path)
    task.check(lab)
