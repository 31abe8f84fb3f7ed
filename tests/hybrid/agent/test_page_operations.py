"""A run done in the browser is learned from too: the requests its pages sent to a site's API are read back
as the site's operations and remembered with the task, beside the operations its code called."""

from __future__ import annotations

import pytest

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from workflows.memory import WorkflowStore

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

TASK = "Which open bugs does alice/tracker-core have?"


def test_the_api_operations_a_runs_pages_called_are_remembered(settings: Settings, demo: DemoSite) -> None:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    steps = [
        (
            "browser.login('demo')\n"
            "url = api.demo.base_url + '/api/v1/projects/alice/tracker-core/issues?state=open&labels=bug'\n"
            "print(browser.goto(url)[:300])\n"
            "print(browser.goto(url.split('?')[0] + '/99999')[:100])"
        ),
        "project = api.demo.get_project(owner='alice', project='tracker-core')\nprint(project['name'])",
        "finish('read them')",
    ]
    with open_agent(
        settings,
        model=ScriptedChatModel(replies=scripted_replies_for(steps)),
        model_name="scripted",
        sites=["demo"],
        induce=False,
        fast_path=False,
    ) as agent:
        result = agent.run(TASK)
    assert result.status == "finished"
    [kept] = WorkflowStore(settings.effective_database_url).learned_operations("demo")
    # The code's own call first, then what the page asked the API and got (the web UI's own pages are no
    # operation, and a page answered 404 taught nothing).
    assert (kept.task, kept.operations) == (TASK, ["get_project", "list_issues"])
