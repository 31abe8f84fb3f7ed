"""Every widget-bed task, through the full agent with scripted replies, judged by what the bed's server got; a
task that waits for a missing browser feature is a strict xfail, which fails the suite once the feature lands."""

from __future__ import annotations

import pytest
from widget_bed import WidgetBed
from widget_tasks import TASKS, Task


@pytest.mark.parametrize("task", [
    pytest.param(task, id=task.id, marks=[pytest.mark.xfail(strict=True, reason=task.waits_for)]
                 if task.waits_for else [])
    for task in TASKS])
def test_the_task_is_done(run_task, widget_bed: WidgetBed, task: Task) -> None:
    run = run_task(task)
    assert run.result.status == "finished", run.result.error
    received = f"The server received: {widget_bed.submissions}, uploads {widget_bed.uploads}"
    assert task.judge(widget_bed) == task.want, f"{run.transcript()}\n\n{received}"
