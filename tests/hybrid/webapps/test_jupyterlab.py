"""Tasks on JupyterLab, a React-style single-page app (launcher, file browser, menus, dialogs, editor),
done by the full agent with scripted replies and judged by the files and workspace its server keeps."""

from __future__ import annotations

import pytest
from webapps.bed import as_params, run_task
from webapps.servers import JupyterLab
from webapps.tasks import JUPYTERLAB, WebTask

from hybrid.config import Settings


@pytest.mark.parametrize("task", as_params(JUPYTERLAB))
def test_task(task: WebTask, lab: JupyterLab, settings: Settings) -> None:
    outcome = run_task(task, lab, settings)
    assert outcome.passed, outcome.explain()
