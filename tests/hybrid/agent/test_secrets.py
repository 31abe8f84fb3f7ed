"""The canary: a site's token and web password never reach the kernel, an observation, the record or
the checkpoints, even when the code goes looking for them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hybrid.demo import DemoSite

pytestmark = pytest.mark.kernel

SNOOPING = [
    "import os\nprint(dict(os.environ))",
    "print(browser.goto('/profile/edit'))\nprint(api.demo.get_current_user())",
    "me = api.demo.get_current_user()\nfinish(me['username'])",
]


def every_file_below(directory: Path) -> bytes:
    return b"".join(
        path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file() and "secrets" not in path.parts and "cache" not in path.parts
    )


def test_secrets_stay_on_the_host(make_agent, settings, demo: DemoSite) -> None:
    token, password = demo.token_for("bob").encode(), demo.password.encode()
    with make_agent(SNOOPING, login_as="bob") as agent:
        result = agent.run("Who am I?", start_url=f"{demo.base_url}/projects")
        steps = agent.store.steps_of(result.run_id)
        calls = [call for step in steps for call in agent.store.calls_of(step.id)]
    assert result.answer == "bob"
    recorded = repr([(s.observation, s.full_output) for s in steps] + [c.to_dict() for c in calls]).encode()
    assert token not in recorded and password not in recorded
    stored = every_file_below(settings.data_dir)  # the run database and the LangGraph checkpoints
    assert b"get_current_user" in stored
    assert token not in stored and password not in stored
