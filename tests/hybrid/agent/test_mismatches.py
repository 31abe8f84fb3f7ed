"""Responses that differ from the site's spec: the model sees one short line each, the record keeps the
detail."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import httpx
import pytest

import apis
import apis.naming
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel, scripted_replies_for
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo

pytestmark = pytest.mark.kernel


def test_a_response_that_differs_from_the_spec_is_one_line_for_the_model(
    settings: Settings, demo: DemoSite, tmp_path: Path
) -> None:
    registry = apis.SiteRegistry(settings.data_dir)
    site = register_demo(registry, demo)
    document = httpx.get(demo.openapi_url).json()
    [listing] = [
        operation
        for item in document["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict)
        and apis.naming.snake_case(operation.get("operationId", "")) == "list_issues"
    ]
    # The spec now claims the list of issues is an object: every real answer differs from it.
    listing["responses"]["200"]["content"]["application/json"]["schema"] = {"type": "object"}
    wrong = tmp_path / "demo-wrong.json"
    wrong.write_text(json.dumps(document))
    registry.add(dataclasses.replace(site, spec=str(wrong)), replace=True)
    steps = [
        "issues = api.demo.list_issues(owner='alice', project='tracker-core')\nprint(len(issues))",
        "finish('ok')",
    ]
    with open_agent(
        settings,
        model=ScriptedChatModel(replies=scripted_replies_for(steps)),
        model_name="scripted",
        sites=["demo"],
        use_browser=False,
    ) as agent:
        result = agent.run("How many issues are there in alice/tracker-core?")
        first = agent.store.steps_of(result.run_id)[0]
    assert result.status == "finished"
    lines = first.observation.split("Differences from the API spec (the calls went ahead):\n")[1].splitlines()
    assert lines[0].startswith("- demo: list_issues: response body: spec says type 'object', got [")
    assert len(lines[0]) < 200
    assert "--- spec mismatches ---" in first.full_output and "is not of type 'object'" in first.full_output
