"""One place opens an agent: a notebook gets one from the user's settings with `hybrid.open_agent`, a start
that fails leaves nothing open, and one runtime keeps each run's state apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import apis
import hybrid
from hybrid.agent.models import scripted_replies_for
from hybrid.agent.run import AgentError
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from tests.waits import scaled


@pytest.mark.kernel
def test_a_notebook_opens_an_agent_from_the_users_settings(
    settings: Settings, demo: DemoSite, tmp_path: Path
) -> None:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "bob")
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(scripted_replies_for(["finish(api.demo.get_current_user()['username'])"])))
    model = f"scripted:{replies}"

    # No settings passed: the notebook's agent reads HYBRID_* (here the test's data dir) as the CLI does.
    with hybrid.open_agent(sites=["demo"], model=model, use_browser=False, induce=False) as agent:
        result = agent.run("Which user is the API signed in as?")
        pool = agent.runtime.pool
    assert (result.status, result.answer) == ("finished", "bob")
    run = hybrid.Run.load(result.run_id)
    assert run.record.model == model and run.sites == ["demo"] and len(run) == 1
    with pytest.raises(RuntimeError, match="closed"):  # the agent's own pool closed with it
        pool.take_kernel()


def test_a_start_that_fails_says_why_in_one_line(settings: Settings) -> None:
    with pytest.raises(AgentError, match="nowhere") as raised:
        hybrid.open_agent(settings, sites=["nowhere"], use_browser=False)
    assert "\n" not in str(raised.value)


@pytest.mark.kernel
@pytest.mark.browser
def test_one_runtime_opens_each_runs_own_start_page(make_agent, demo: DemoSite) -> None:
    """Two runs served by one runtime at once: the second run's start page must not become the first's."""
    agent = make_agent([])
    runtime = agent.runtime
    pages = {"run-a": f"{demo.base_url}/projects?run=a", "run-b": f"{demo.base_url}/projects?run=b"}
    for run_id, page in pages.items():
        runtime.session(run_id, "Where does the browser start?", start_url=page)
    seen = {}
    for run_id in pages:
        outcome = runtime.execute(
            run_id,
            "Where does the browser start?",
            0,
            "print([tab['url'] for tab in browser.tabs()])",
            scaled(60),
            fresh_kernel_notice=False,
        )
        seen[run_id] = outcome.observation
        runtime.release(run_id)
    assert pages["run-a"] in seen["run-a"] and pages["run-b"] not in seen["run-a"], seen
    assert pages["run-b"] in seen["run-b"], seen
