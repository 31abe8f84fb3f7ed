"""Running a WebArena-Infinity task through the full agent: the app as a site with only a web UI, a scripted
model replaying the task's steps, then finish(); judged by the task's own verifier."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bed import AppServer
from tasks import Task

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.config import Settings
from sandbox.browser import BrowserService

TEXT_RESULT = re.compile(r"^str of (\d+):")  # how the call record summarises a text result


@dataclass(frozen=True)
class TaskRun:
    status: str
    passed: bool
    verdict: str
    observations: list[str]  # what each step showed the model (its error, if it raised)
    steps: int
    reports: list[int]  # characters of each browser action's text result (find's ids left out)

    def transcript(self) -> str:
        return "\n\n".join(f"--- step {index + 1}\n{text}" for index, text in enumerate(self.observations))


def run_task(task: Task, settings: Settings, browser: BrowserService) -> TaskRun:
    """`task` on a fresh copy of its app, which is registered as a site named after the app."""
    server = AppServer(task.app)
    try:
        apis.SiteRegistry(settings.data_dir).add(
            apis.Site(name=task.app, spec=None, base_url=server.url, web_url=server.url), replace=True
        )
        model = ScriptedChatModel(replies=scripted_replies_for([*task.steps, 'finish("done")']))
        with open_agent(
            settings, model=model, model_name="scripted", sites=[task.app], policy="allow", browser=browser
        ) as agent:
            result = agent.run(task.instruction, learn=False)
            steps = agent.store.steps_of(result.run_id)
            sizes = [
                TEXT_RESULT.match(call.result or "")
                for step in steps
                for call in agent.store.calls_of(step.id)
                if call.capability == "browser"
            ]
        passed, verdict = server.verify(task.verifier)
    finally:
        server.close()
    return TaskRun(
        result.status,
        passed,
        verdict,
        [step.error or step.observation for step in steps],
        len(steps),
        [int(size.group(1)) for size in sizes if size],
    )
