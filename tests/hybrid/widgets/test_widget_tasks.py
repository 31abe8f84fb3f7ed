"""Every widget-bed task, through the full agent with scripted replies, judged by what the bed's server
got."""

from __future__ import annotations

import pytest
from widget_bed import WidgetBed
from widget_tasks import TASKS, Task

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("task", TASKS, ids=[task.id for task in TASKS])
def test_the_task_is_done(run_task, widget_bed: WidgetBed, task: Task) -> None:
    run = run_task(task)
    assert run.result.status == "finished", run.result.error
    received = f"The server received: {widget_bed.submissions}, uploads {widget_bed.uploads}"
    assert task.observe(widget_bed) == task.want, f"{run.transcript()}\n\n{received}"
