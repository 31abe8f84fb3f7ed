"""Running a test-bed task through the full agent: the app registered as a site of the run, a scripted
model that replays the task's code actions, and the app's state read back to judge it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from unittest import mock

import pytest
import webapps.tasks
from playwright.sync_api import Browser
from webapps.servers import DjangoLibrary, JupyterLab
from webapps.tasks import SEEDS, WebTask

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.agent.observation import BROWSER_CAPABILITY
from hybrid.config import Settings
from workflows.memory import Workflow
from workflows.verify import Evaluation

LIBRARY_PASSWORD_SECRET = "library-librarian-password"
BY_HAND_TIMEOUT_MS = 20_000


def register(registry: apis.SiteRegistry, app: DjangoLibrary | JupyterLab) -> str:
    """Add `app` as a site of the registry (replacing an earlier start's); returns the site's name."""
    if isinstance(app, DjangoLibrary):
        registry.secrets.set(LIBRARY_PASSWORD_SECRET, app.password)
        registry.add(
            apis.Site(
                name="library",
                spec=str(app.spec),
                base_url=app.base_url,
                web_url=app.admin_url,
                web_login={
                    "url": app.login_url,
                    "username": app.username,
                    "password_secret": LIBRARY_PASSWORD_SECRET,
                },
            ),
            replace=True,
        )
        return "library"
    # JupyterLab signs in by the token in its URL (its login page has no username field to fill).
    registry.add(
        apis.Site(name="jupyterlab", spec=str(app.spec), base_url=app.base_url, web_url=app.lab_url),
        replace=True,
    )
    return "jupyterlab"


def code_for(task: WebTask, app: DjangoLibrary | JupyterLab) -> list[str]:
    """The task's code actions with the app's addresses in place of ADMIN_URL and LAB_URL."""
    url = app.admin_url if isinstance(app, DjangoLibrary) else app.lab_url
    return [step.replace("ADMIN_URL", url).replace("LAB_URL", url) for step in task.steps]


@dataclass(frozen=True)
class BrowserCall:
    method: str
    latency_ms: float
    result: str | None


@dataclass(frozen=True)
class Outcome:
    run_id: str
    status: str
    step_errors: list[str]  # what went wrong in each failed step, as the model was told
    judged: str | None  # None when the app's state is what the task asked for, else what differs
    browser_calls: list[BrowserCall]

    @property
    def passed(self) -> bool:
        return self.judged is None

    def explain(self) -> str:
        errors = "\n".join(f"- {error.strip()[-600:]}" for error in self.step_errors) or "- none"
        return f"{self.judged}\nRun {self.run_id} ended {self.status}; its steps' errors:\n{errors}"


def reset(app: DjangoLibrary | JupyterLab) -> None:
    """Back to the seed state the tasks start from."""
    if isinstance(app, DjangoLibrary):
        app.reset()
    else:
        app.reset(SEEDS)


def run_task(task: WebTask, app: DjangoLibrary | JupyterLab, settings: Settings) -> Outcome:
    """Reset `app`, have the agent do `task` with scripted replies, and judge the app's state."""
    reset(app)
    site = register(apis.SiteRegistry(settings.data_dir), app)
    model = ScriptedChatModel(replies=scripted_replies_for(code_for(task, app)))
    with open_agent(settings, model=model, model_name="scripted", sites=[site]) as agent:
        result = agent.run(task.task, learn=False)
        steps = agent.store.steps_of(result.run_id)
        calls = [
            BrowserCall(call.target, call.latency * 1000, call.result)
            for step in steps
            for call in agent.store.calls_of(step.id)
            if call.capability == BROWSER_CAPABILITY
        ]
    try:
        task.check(app)
        judged = None
    except AssertionError as difference:
        judged = str(difference) or "the app's state is not what the task asked for"
    return Outcome(
        run_id=result.run_id,
        status=result.status,
        judged=judged,
        step_errors=[step.error for step in steps if step.error],
        browser_calls=calls,
    )


@dataclass(frozen=True)
class FamilyResult:
    """One task of a family run in order (`run_family`): judged on the app's state, with its cost."""

    name: str
    passed: bool
    status: str
    steps: int
    tokens: int
    wrong_writes: int  # books the task did not name that the run changed
    workflow: str | None  # the workflow that did the task with no model (the fast path), if one did


def _passes(task: WebTask, app: DjangoLibrary | JupyterLab) -> bool:
    try:
        task.check(app)
    except AssertionError:
        return False
    return True


def run_family(
    tasks: list[WebTask], app: DjangoLibrary, settings: Settings, memory: Literal["off", "online"]
) -> list[FamilyResult]:
    """`tasks` in order, as `hybrid bench --memory` runs a suite's (the bench cannot reach the bed's apps, so
    this is its worker's loop on the bed): with memory off each task alone; online, with one memory growing
    from empty in `settings`' database, the fast path and induction on, and each run judged on the app's
    state before it is learnt from (a writing candidate verified by re-executing it on the reset app)."""
    online = memory == "online"
    results = []
    for task in tasks:
        reset(app)
        before = app.books()
        site = register(apis.SiteRegistry(settings.data_dir), app)
        model = ScriptedChatModel(replies=scripted_replies_for(code_for(task, app)))
        used: list[str] = []

        def fast(workflow: Workflow, error: str | None, used: list[str] = used) -> None:
            # Told before the workflow runs (no error), then again if it failed.
            if error is None:
                used.append(workflow.name)
            else:
                used.clear()

        with open_agent(
            settings,
            model=model,
            model_name="scripted",
            sites=[site],
            fast_path=online,
            induce=online,
            on_fast_path=fast,
        ) as agent:
            result = agent.run(task.task, learn=False)
            passed = _passes(task, app)
            after = app.books()
            named = {title for title in before if f"'{title}'" in task.task}
            wrong = sum(
                1 for title, book in after.items() if title not in named and before.get(title) != book
            )
            if online:
                agent.learn(
                    Evaluation(
                        passed=passed,
                        reason="" if passed else "the app's state is not what the task asked for",
                        reset=lambda: reset(app),
                        recheck=lambda answer, task=task: _passes(task, app),
                    )
                )
        results.append(
            FamilyResult(
                name=task.name,
                passed=passed,
                status=result.status,
                steps=result.steps,
                tokens=result.tokens,
                wrong_writes=wrong,
                workflow=used[0] if used else None,
            )
        )
    return results


def as_params(tasks: list[WebTask]) -> list:
    """pytest parameters, one per task, named by the task."""
    return [pytest.param(task, id=task.name) for task in tasks]


def with_by_hand(tasks: list[WebTask]) -> list:
    """pytest parameters for the tasks that can also be done by hand."""
    return [pytest.param(task, id=task.name) for task in tasks if task.by_hand]


def do_by_hand(task: WebTask, app: DjangoLibrary | JupyterLab, chromium: Browser, files: Path) -> None:
    """Reset `app`, then do `task` with Playwright directly (its `by_hand`), in a fresh context."""
    assert task.by_hand is not None, f"{task.name!r} has no by_hand"
    reset(app)
    context = chromium.new_context()
    context.set_default_timeout(BY_HAND_TIMEOUT_MS)
    try:
        task.by_hand(context.new_page(), app, files)
    finally:
        context.close()


def checks_passing_at_seed(tasks: list[WebTask], app: DjangoLibrary | JupyterLab) -> list[str]:
    """The tasks whose check passes on the seed state, before anything is done: a check that cannot fail."""
    reset(app)
    passing = []
    with mock.patch.object(webapps.tasks, "JUDGE_SECONDS", 0):  # the seed state is there at once
        for task in tasks:
            try:
                task.check(app)
                passing.append(task.name)
            except AssertionError:
                pass
    return passing
