"""`hybrid workflows run` applies the configured policy as it is: confirm asks on the terminal, and refuses to
start where nobody can answer."""

from __future__ import annotations

import httpx
import pytest
from click.testing import CliRunner

import apis
from hybrid.cli import cli
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from workflows.memory import Workflow, WorkflowStore

pytestmark = pytest.mark.kernel

ADD_LABEL = '''
def add_label(name: str):
    """Add a green label to alice/tracker-core."""
    return api.demo.create_label(
        owner='alice', project='tracker-core', body={'name': name, 'color': '#00aa00'}
    )['name']
'''


def labels(demo: DemoSite) -> list[str]:
    response = httpx.get(
        f"{demo.api_url}/projects/alice/tracker-core/labels",
        headers={"Authorization": f"Bearer {demo.token_for('alice')}"},
    )
    return [label["name"] for label in response.json()]


@pytest.fixture
def add_label(settings: Settings, demo: DemoSite, monkeypatch: pytest.MonkeyPatch) -> None:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    WorkflowStore(settings.effective_database_url).add_workflow(
        Workflow(
            name="add_label",
            site="demo",
            status="verified",
            body=ADD_LABEL,
            fingerprint="a",
            writes=True,
            description="Add a green label to alice/tracker-core.",
            parameters=[{"name": "name", "type": "str"}],
            operations=["api.demo.create_label"],
        )
    )
    monkeypatch.setenv("HYBRID_POLICY", "confirm")


def run(name: str, answer: str | None = None):
    return CliRunner().invoke(cli, ["workflows", "run", "add_label", "--arg", f"name={name}"], input=answer)


def test_confirm_refuses_to_start_without_a_terminal(add_label: None, demo: DemoSite) -> None:
    result = run("no-terminal")
    assert result.exit_code == 2 and "no interactive terminal" in result.output
    assert "no-terminal" not in labels(demo)


def test_confirm_asks_on_the_terminal_and_does_what_the_person_says(
    add_label: None, demo: DemoSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("hybrid.commands.workflows._can_ask", lambda: True)
    declined = run("declined", "n\n")
    assert "wf.add_label(name='declined')" in declined.output and declined.exit_code == 1
    assert "declined" not in labels(demo)
    allowed = run("allowed", "y\ny\n")  # the workflow, then the write it makes
    assert allowed.exit_code == 0, allowed.output
    assert "allowed" in labels(demo)
