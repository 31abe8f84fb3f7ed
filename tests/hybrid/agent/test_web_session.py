"""A site whose API accepts the web session's cookie: `web_session` auth sends the browser's cookies."""

from __future__ import annotations

import dataclasses

import pytest

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo

pytestmark = [pytest.mark.kernel, pytest.mark.browser]


def test_api_calls_go_in_the_browsers_signed_in_session(settings: Settings, demo: DemoSite) -> None:
    registry = apis.SiteRegistry(settings.data_dir)
    site = register_demo(registry, demo, "bob")
    registry.add(dataclasses.replace(site, auth={"type": "web_session"}), replace=True)
    steps = [
        "try:\n    api.demo.get_current_user()\nexcept Exception as error:\n    print('refused:', error)",
        "browser.login('demo')\nme = api.demo.get_current_user()\nprint(me['username'])",
        "finish(me['username'])",
    ]
    with open_agent(
        settings,
        model=ScriptedChatModel(replies=scripted_replies_for(steps)),
        model_name="scripted",
        sites=["demo"],
    ) as agent:
        result = agent.run("Who am I on the demo site?")
        first = agent.store.steps_of(result.run_id)[0]
    assert "refused: get_current_user: GET" in first.observation and "returned 401" in first.observation, (
        "before signing in, the API call has no session"
    )
    assert (result.status, result.answer) == ("finished", "bob")
