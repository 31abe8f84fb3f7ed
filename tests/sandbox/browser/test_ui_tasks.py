"""The suite's UI-only tasks, done end to end through `browser.*` exactly as kernel code calls it.

Kernel code reaches the service over the capability bridge: only `KERNEL_METHODS`, arguments and
results as JSON, errors re-raised by type and message. `KernelView` plays the bridge's part here
until the bridge and this service are joined.
"""

from __future__ import annotations

import contextlib
import io
import json

import httpx
import pytest

from hybrid.bench.evaluators import evaluate
from hybrid.bench.suite import load_suite
from hybrid.demo import DemoSite
from sandbox.browser import BrowserError, BrowserService

from .conftest import demo_credentials

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

UI_TASKS = [task for task in load_suite() if task.category == "ui"]


class KernelView:
    def __init__(self, service: BrowserService) -> None:
        self._service = service

    def __getattr__(self, name: str):
        if name not in BrowserService.KERNEL_METHODS:
            raise AttributeError(f"browser.{name} is not offered to the kernel")
        method = getattr(self._service, name)

        def call(*args, **kwargs):
            args, kwargs = json.loads(json.dumps([args, kwargs]))
            try:
                result = method(*args, **kwargs)
            except BrowserError as exc:
                raise type(exc)(str(exc)) from None
            return json.loads(json.dumps(result))

        return call


def test_host_only_methods_are_not_reachable_from_the_kernel(browser) -> None:
    with pytest.raises(AttributeError, match="browser.cookies is not offered"):
        KernelView(browser).cookies("http://127.0.0.1/")


def test_ui_tasks_exist() -> None:
    assert len(UI_TASKS) >= 5


@pytest.mark.parametrize("task", UI_TASKS, ids=lambda t: f"{t.task_id}")
def test_ui_task_done_through_the_kernel_view(task, make_service, demo: DemoSite) -> None:
    browser = KernelView(make_service(credentials=demo_credentials(demo, task.login_as)))
    answers: list[str] = []
    names = {"browser": browser, "finish": lambda answer: answers.append(str(answer))}
    steps = [
        f"browser.login('demo')\nbrowser.goto({task.start_url_for(demo.base_url)!r})",
        *task.reference_solution,
    ]
    output = io.StringIO()
    for step in steps:
        with contextlib.redirect_stdout(output):
            exec(compile(step, f"<task {task.task_id}>", "exec"), names)  # noqa: S102 -- kernel code, as the agent's
        if answers:
            break
    with httpx.Client(
        base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('alice')}"}
    ) as api:
        verdict = evaluate(task, answers[0] if answers else None, api)
    assert verdict.passed, f"{verdict.failures}\n{output.getvalue()}"
    printed = output.getvalue()
    assert "URL: " in printed and "[" in printed  # what the model would have read: pages with element ids
