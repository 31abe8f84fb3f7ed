"""Whatever text a model sends, the run goes on: a reply that cannot be run gives a step whose observation
says what was wrong, and the run can still be resumed."""

from __future__ import annotations

import pytest

import apis
from hybrid.agent.assembly import open_agent
from hybrid.agent.models import ScriptedChatModel
from hybrid.config import Settings
from hybrid.demo import DemoSite
from hybrid.demo.registration import register_demo
from workflows.store import RunStore

pytestmark = pytest.mark.kernel

BAD_REPLIES = {
    "a lone surrogate": "Thought: bytes.\n```python\nprint('\udcff')\n```\n",
    "a lone surrogate in the thought": "Thought: \udcff\n```python\nprint('ok')\n```\n",
    "a NUL byte": "Thought: nul.\n```python\nprint('a\x00b')\n```\n",
    "a 1 MB reply": "Thought: long.\n```python\nx = '" + "a" * 1_000_000 + "'\nprint(len(x))\n```\n",
    "50 code blocks": "Thought: many.\n" + "".join(f"```python\nprint({i})\n```\n" for i in range(50)),
}

UNRUNNABLE = ("a lone surrogate", "a NUL byte")


@pytest.mark.parametrize("bad", BAD_REPLIES)
def test_a_bad_reply_gives_a_step_and_the_run_goes_on(settings: Settings, demo: DemoSite, bad: str) -> None:
    register_demo(apis.SiteRegistry(settings.data_dir), demo, "alice")
    replies = [BAD_REPLIES[bad], "Thought: done.\n```python\nfinish('done')\n```\n"]
    with open_agent(
        settings, model=ScriptedChatModel(replies=replies), model_name="scripted", sites=["demo"]
    ) as agent:
        run = agent.run("Say done.")
    assert run.status == "finished", (run.status, run.error)
    assert run.answer == "done"
    first = RunStore(settings.effective_database_url).steps_of(run.run_id)[0]
    if bad in UNRUNNABLE:
        assert first.observation.startswith(
            "Your code was not run: it held 1 character(s) that are not valid"
        )
    elif bad == "50 code blocks":  # the first runs; the model's stop sequence ends the reply after it
        assert first.observation == "0"
