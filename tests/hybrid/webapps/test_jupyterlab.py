"""Tasks on JupyterLab, a React-style single-page app (launcher, file browser, menus, dialogs, editor),
done by the full agent with scripted replies and judged by the files and workspace its server keeps."""

from __future__ import annotations

import pytest
import webapps.tasks
from webapps.bed import as_params, do_by_hand, reset, run_task, waiting
from webapps.servers import JupyterLab
from webapps.tasks import JUPYTERLAB, WebTask

from hybrid.config import Settings


@pytest.mark.parametrize("task", as_params(JUPYTERLAB))
def test_task(task: WebTask, lab: JupyterLab, settings: Settings) -> None:
    outcome = run_task(task, lab, settings)
    assert outcome.passed, outcome.explain()


def test_no_judge_passes_on_the_seed_state(lab: JupyterLab, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webapps.tasks, "JUDGE_SECONDS", 0)  # the seed state is there at once
    reset(lab)
    passing = []
    for task in JUPYTERLAB:
        try:
            task.check(lab)
            passing.append(task.name)
        except AssertionError:
            pass
    assert passing == []


@pytest.mark.parametrize("task", waiting(JUPYTERLAB))
def test_a_waiting_task_can_be_done_by_hand(task: WebTask, lab: JupyterLab, chromium, tmp_path) -> None:
    do_by_hand(task, lab, chromium, tmp_path)
    task.check(lab)
