"""`api` in a notebook's own process, through the same bridge, policy and record as the agent's kernel."""

from __future__ import annotations

from typing import Any

import pytest

from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.explore import AttachError, attach

pytestmark = pytest.mark.kernel


@pytest.fixture
def registered(record_run) -> None:
    """The demo site registered in the settings' data dir (recording a run does that)."""


def test_attached_api_calls_the_site_and_is_recorded(settings: Settings, demo: DemoSite, registered) -> None:
    namespace: dict[str, Any] = {}
    with attach(["demo"], into=namespace, settings=settings) as session:
        issue = namespace["api"].demo.get_issue(owner="alice", project="tracker-core", number=17)
        assert namespace["finish"](issue["assignee"]) == "Answer recorded."
        [call, finish] = session.calls()
    assert issue["assignee"] == "bob" and (session.finished, session.answer) == (True, "bob")
    assert (call.target, call.status, finish.capability) == ("demo.get_issue", "ok", "finish")


def test_the_policy_applies_in_the_notebook_too(settings: Settings, demo: DemoSite, registered) -> None:
    namespace: dict[str, Any] = {}
    with attach(["demo"], into=namespace, settings=settings, policy="read-only") as session:
        with pytest.raises(PermissionError, match="read-only"):
            namespace["api"].demo.create_issue(owner="alice", project="tracker-core", body={"title": "x"})
        [call] = session.calls()
    assert call.status == "denied"


def test_an_unregistered_site_says_which_data_dir_was_searched(settings: Settings) -> None:
    with pytest.raises(AttachError, match=str(settings.data_dir)):
        attach(["nowhere"], into={}, settings=settings)


def test_the_browser_is_attached_on_request_and_signs_in(
    settings: Settings, demo: DemoSite, registered
) -> None:
    namespace: dict[str, Any] = {}
    with attach(["demo"], into=namespace, settings=settings, browser=True) as session:
        namespace["browser"].login("demo")
        page = namespace["browser"].goto("/alice/tracker-core/issues")
        calls = session.calls()
    assert "tracker-core" in page and [call.target for call in calls] == ["login", "goto"]
    plain: dict[str, Any] = {}
    with attach(["demo"], into=plain, settings=settings):
        assert "api" in plain and "browser" not in plain
