"""Hints name a site as code calls it: a hyphenated site name (acme-deploy) is api.acme_deploy."""

from __future__ import annotations

from hybrid.agent.hints import http_by_hand, unknown_operation


def test_an_unknown_operation_of_a_hyphenated_site_is_hinted_in_its_code_name() -> None:
    observation = "AttributeError: 'acme_deploy' object has no attribute 'list_deploymnts'"
    hint = unknown_operation(observation, {"acme-deploy": ["list_deployments", "get_deployment"]})
    assert hint is not None
    assert "api.acme_deploy has no operation 'list_deploymnts'" in hint
    assert "Did you mean api.acme_deploy.list_deployments" in hint
    assert "api.acme-deploy" not in hint


def test_http_by_hand_points_to_the_code_name() -> None:
    hint = http_by_hand("import requests\nrequests.get('http://x')", ["acme-deploy"])
    assert hint is not None and "api.acme_deploy.<operation>(...)" in hint
