"""The chosen WebArena-Infinity tasks (tasks.py says how they were chosen), each through the full agent with
scripted replies that use only browser.*, judged by the task's own verifier."""

from __future__ import annotations

import pytest
from tasks import Task, tasks

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

TASKS = tasks()


@pytest.mark.parametrize("task", TASKS, ids=[task.name for task in TASKS])
def test_the_task_is_done(run, task: Task) -> None:
    done = run(task)
    assert done.status == "finished", done.transcript()
    assert done.passed, f"{done.verdict}\n\n{done.transcript()}"
