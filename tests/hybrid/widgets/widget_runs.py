"""Running a widget-bed task through the full agent: its model replays the task's code actions, then
finish()."""

from __future__ import annotations

from dataclasses import dataclass

from widget_bed import WidgetBed
from widget_tasks import Task

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.agent.run import RunResult
from hybrid.config import Settings
from sandbox.browser import BrowserService

SITE = "widgets"


@dataclass(frozen=True)
class BrowserCall:
    action: str  # e.g. "select"
    status: str
    latency_ms: float


@dataclass(frozen=True)
class TaskRun:
    result: RunResult
    observations: list[str]  # what each step showed the model (its error, if it raised)
    errors: list[str]  # the errors the steps raised
    calls: list[BrowserCall]

    def transcript(self) -> str:
        return "\n\n".join(f"--- step {index + 1}\n{text}" for index, text in enumerate(self.observations))


def register_bed(settings: Settings, bed: WidgetBed) -> None:
    """The bed as a site of the data dir, so runs' browsers may visit it."""
    apis.SiteRegistry(settings.data_dir).add(
        apis.Site(
            name=SITE, spec=f"{bed.base_url}/openapi.json", base_url=bed.base_url, web_url=bed.base_url
        ),
        replace=True,
    )


def run_task(task: Task, settings: Settings, bed: WidgetBed, browser: BrowserService) -> TaskRun:
    """Runs `task` from its page with a fresh record of submissions (the bed must be registered)."""
    bed.clear()
    model = ScriptedChatModel(replies=scripted_replies_for([*task.steps, 'finish("done")']))
    with open_agent(
        settings, model=model, model_name="scripted", sites=[SITE], policy="allow", browser=browser
    ) as agent:
        # No learning: verifying an induced workflow re-runs it, and its writes, on the page the run changed.
        result = agent.run(task.goal, start_url=bed.url(task.page), learn=False)
        steps = agent.store.steps_of(result.run_id)
        calls = [
            BrowserCall(call.target, call.status, call.latency * 1000)
            for step in steps
            for call in agent.store.calls_of(step.id)
            if call.capability == "browser"
        ]
    return TaskRun(
        result,
        [step.error or step.observation for step in steps],
        [step.error for step in steps if step.error],
        calls,
    )
