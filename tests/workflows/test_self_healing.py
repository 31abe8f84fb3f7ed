"""Self-healing on the demo site: a verified browser workflow breaks when the site's transfer form renames
a field; the agent falls back to its (scripted) model, which is shown the failure and the workflow's
source, does the task its own way, and the run becomes the workflow's next version."""

from __future__ import annotations

import jinja2
import pytest

from hybrid.demo import DemoSite, web

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

TASK = "Transfer the project alice/docs-site to {user}."
GOTO = "print(browser.goto('/alice/docs-site/settings'))"


def transfer_steps(user: str, owner_label: str) -> list[str]:
    return [
        GOTO,
        (
            f"browser.select(browser.find('combobox', {owner_label!r}), {user!r})\n"
            "browser.fill(browser.find('textbox', 'Type the project name to confirm'), 'docs-site')\n"
            "print(browser.click(browser.find('button', 'Transfer project')))"
        ),
        f"finish('alice/docs-site now belongs to {user}.')",
    ]


@pytest.fixture
def renamed_owner_field(monkeypatch: pytest.MonkeyPatch) -> None:
    """The site changes: the settings page's "New owner" field is now labelled "Transfer to"."""
    original = web.templates.env.loader
    assert original is not None

    def load(name: str) -> str | None:
        source = original.get_source(web.templates.env, name)[0]
        return source.replace(">New owner<", ">Transfer to<") if name == "settings.html.jinja" else source

    monkeypatch.setattr(web.templates.env, "loader", jinja2.FunctionLoader(load))


def learn_transfer_workflow(make_agent, demo: DemoSite, start: str) -> None:
    """transfer_project v1, learnt from a run and verified by its first successful use."""
    agent, _ = make_agent(transfer_steps("grace", "New owner"))
    learnt = agent.run(TASK.format(user="grace"), start_url=start)
    assert learnt.learned["line"].startswith("saved as workflow transfer_project v1 (candidate")
    demo.reset()
    agent, _ = make_agent(
        ["finish(wf.transfer_project(value='alice', project_name='docs-site', new_owner='bob'))"]
    )
    assert agent.run(TASK.format(user="bob"), start_url=start).status == "finished"
    assert agent.store.get_workflow("transfer_project").status == "verified"
    demo.reset()


@pytest.mark.slow
def test_a_workflow_broken_by_a_site_change_is_repaired_as_its_next_version(
    make_agent, demo: DemoSite, request
) -> None:
    start = f"{demo.base_url}/alice/docs-site"
    learn_transfer_workflow(make_agent, demo, start)

    request.getfixturevalue("renamed_owner_field")
    notices: list[tuple[int, str | None]] = []
    agent, model = make_agent(
        transfer_steps("erin", "Transfer to"),
        on_fast_path=lambda workflow, error: notices.append((workflow.version, error)),
    )
    repaired = agent.run(TASK.format(user="erin"), start_url=start)
    assert (repaired.status, repaired.answer) == ("finished", "alice/docs-site now belongs to erin.")
    assert (
        [version for version, _ in notices] == [1, 1]
        and notices[0][1] is None
        and "New owner" in notices[1][1]
    )
    # The fast path tried v1 and failed; the model was told so, with v1's source, before its first step.
    assert "transfer_project v1 matched this task but failed" in model.tasks[0]
    assert "browser.find('combobox', 'New owner')" in model.tasks[0]
    assert repaired.learned["line"].startswith(
        "repaired transfer_project: saved as workflow transfer_project v2"
    )
    old, new = (
        agent.store.get_workflow("transfer_project", 1),
        agent.store.get_workflow("transfer_project", 2),
    )
    assert old.status == "deprecated" and f"repaired as v2 by run {repaired.run_id}" in old.verification_note
    assert "browser.find('combobox', 'Transfer to')" in new.body and new.source_runs == [repaired.run_id]
    demo.reset()

    # The repaired version is verified by its first use, then does the task with no model at all.
    agent, _ = make_agent(
        ["finish(wf.transfer_project(value='alice', project_name='docs-site', transfer='frank'))"]
    )
    assert agent.run(TASK.format(user="frank"), start_url=start).status == "finished"
    assert agent.store.get_workflow("transfer_project").status == "verified"
    demo.reset()
    agent, _ = make_agent(None)
    fast = agent.run(TASK.format(user="heidi"), start_url=start)
    assert (fast.status, fast.steps, fast.tokens) == ("finished", 1, 0)
    assert fast.learned["line"] == "done by workflow transfer_project v2 on the fast path (no model call)"


def test_a_workflow_that_fails_when_the_model_calls_it_is_repaired_too(
    make_agent, demo: DemoSite, request
) -> None:
    start = f"{demo.base_url}/alice/docs-site"
    learn_transfer_workflow(make_agent, demo, start)
    request.getfixturevalue("renamed_owner_field")
    call = "finish(wf.transfer_project(value='alice', project_name='docs-site', new_owner='erin'))"
    agent, _ = make_agent([call, *transfer_steps("erin", "Transfer to")], fast_path=False)
    repaired = agent.run(TASK.format(user="erin"), start_url=start)
    assert repaired.status == "finished" and repaired.steps == 4
    first = agent.store.steps_of(repaired.run_id)[0]
    assert "wf.transfer_project failed" in first.observation and "'New owner'" in first.observation
    assert repaired.learned["line"].startswith(
        "repaired transfer_project: saved as workflow transfer_project v2"
    )
    assert agent.store.get_workflow("transfer_project", 1).status == "deprecated"
