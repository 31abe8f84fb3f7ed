"""A run recorded against the demo site in a private data dir, to explore."""

from __future__ import annotations

from collections.abc import Callable

import pytest

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.bench.suite import load_suite
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from hybrid.explore import Run

# "Who is assigned to issue #17 in alice/tracker-core?": one API call, then finish.
TASK = next(task for task in load_suite() if task.task_id == 3)


@pytest.fixture
def record_run(settings: Settings, demo: DemoSite) -> Callable[..., Run]:
    """record_run(steps=TASK's solution, policy="allow"): run code actions with a scripted model; the Run."""
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")

    def record(steps: list[str] = TASK.reference_solution, policy: str = "allow") -> Run:
        model = ScriptedChatModel(replies=scripted_replies_for(steps))
        with open_agent(settings, model=model, model_name="scripted", sites=["demo"], policy=policy) as agent:
            result = agent.run(TASK.intent, start_url=TASK.start_url_for(demo.base_url))
        return Run.load(result.run_id, settings=settings)

    return record
