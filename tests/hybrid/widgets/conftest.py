"""The widget bed's server and one browser for a module's runs; `run_task` runs a task through the full agent
with its scripted code actions."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # widget_bed and widget_tasks are imported by name

import apis  # noqa: E402
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for  # noqa: E402
from hybrid.agent.run import Agent, RunResult  # noqa: E402
from hybrid.config import Settings, find_chromium  # noqa: E402
from sandbox.browser import BrowserService  # noqa: E402
from widget_bed import WidgetBed  # noqa: E402
from widget_tasks import Task  # noqa: E402


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


@dataclass(frozen=True)
class TaskRun:
    result: RunResult
    observations: list[str]  # what each step showed the model (errors included)

    def transcript(self) -> str:
        return "\n\n".join(f"--- step {index + 1}\n{text}" for index, text in enumerate(self.observations))


@pytest.fixture
def run_task(settings: Settings, widget_bed: WidgetBed, widget_browser: BrowserService) -> Callable[[Task], TaskRun]:
    """Runs `task` on its page through the agent, its model replaying the task's steps then finish()."""
    apis.SiteRegistry(settings.data_dir).add(apis.Site(
        name="widgets", spec=f"{widget_bed.base_url}/openapi.json", base_url=widget_bed.base_url,
        web_url=widget_bed.base_url), replace=True)

    def run(task: Task) -> TaskRun:
        widget_bed.clear()
        model = ScriptedChatModel(replies=scripted_replies_for([*task.steps, 'finish("done")']))
        with Agent(settings, model=model, model_name="scripted", sites=["widgets"], policy="allow",
                   browser=widget_browser) as agent:
            result = agent.run(task.goal, start_url=widget_bed.url(task.page))
            steps = agent.store.steps_of(result.run_id)
        return TaskRun(result, [step.error or step.observation for step in steps])

    return run
