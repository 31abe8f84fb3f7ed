"""Induction with a model (a scripted one here): its program is checked and stored, and so is its guide."""

from __future__ import annotations

import pytest

from hybrid.agent.model_calls import ModelCaller
from hybrid.agent.models import ScriptedChatModel
from hybrid.bench.evaluators import evaluate
from workflows.induce import induce_from_run
from workflows.lifting import InductionRefused
from workflows.program import ProgramError
from workflows.verify import verify

PROGRAM_REPLY = '''\
INTENT: Add the label {{label}} to issue #{{number}} in {{owner}}/{{project}}, keeping its other labels.
ARGUMENTS: {"label": "help wanted", "number": 16, "owner": "alice", "project": "tracker-core"}
```python
def add_label(label: str, number: int, owner: str, project: str):
    """Add a label to an issue, keeping the labels it has.

    label: the label to add; number, owner, project: which issue.
    """
    issue = api.demo.get_issue(owner=owner, project=project, number=number)
    labels = issue["labels"] + [label]
    api.demo.update_issue(owner=owner, project=project, number=number, body={"labels": labels})
    return f"Added {label} to #{number}."
```
'''
TEXT_REPLY = """NAME: add_label_guide
INTENT: Add the label {{label}} to issue #{{number}} in {{owner}}/{{project}}, keeping its other labels.
DESCRIPTION: Add a label to an issue without dropping the others.
ARGUMENTS: {"label": "help wanted", "number": 16, "owner": "alice", "project": "tracker-core"}
GUIDE:
1. Read the issue with api.demo.get_issue(owner="{{owner}}", project="{{project}}", number={{number}}).
2. Call api.demo.update_issue(..., body={"labels": <its labels> + ["{{label}}"]}).
"""


def test_the_model_writes_a_program_and_a_guide(
    store, suite, run_task, open_session, demo, inspector_client
) -> None:
    task = suite[15]
    model = ScriptedChatModel(replies=[PROGRAM_REPLY, TEXT_REPLY])
    program, text = induce_from_run(store, run_task(task), model=ModelCaller(model).ask)
    assert (program.action, program.workflow.name, program.workflow.kind) == (
        "created",
        "add_label",
        "program",
    )
    assert program.workflow.description == "Add a label to an issue, keeping the labels it has."
    assert program.workflow.source_arguments["number"] == 16 and program.workflow.writes
    assert (text.workflow.kind, text.workflow.name) == ("text", "add_label_guide")
    assert "{{label}}" in text.workflow.body and [p["name"] for p in text.workflow.parameters] == [
        "label",
        "number",
        "owner",
        "project",
    ]
    checked = verify(
        store,
        program.workflow,
        open_session,
        reset=demo.reset,
        recheck=lambda answer: evaluate(task, answer, inspector_client).passed,
    )
    assert checked.outcome == "passed", checked.detail


class BlockModel(ScriptedChatModel):
    """Replies as a list of content blocks, as Anthropic's models (and some of OpenAI's) do."""

    def _generate(self, *args, **kwargs):
        result = super()._generate(*args, **kwargs)
        message = result.generations[0].message
        text = message.content
        message.content = [
            {"type": "thinking", "thinking": "Which values vary?"},
            {"type": "text", "text": text[:40]},
            {"type": "text", "text": text[40:]},
        ]
        return result


def test_a_reply_in_content_blocks_is_read_as_its_text(store, suite, run_task) -> None:
    program, text = induce_from_run(
        store, run_task(suite[15]), model=ModelCaller(BlockModel(replies=[PROGRAM_REPLY, TEXT_REPLY])).ask
    )
    assert (program.workflow.name, text.workflow.name) == ("add_label", "add_label_guide")


def test_a_program_that_fails_the_checks_is_refused(store, suite, run_task) -> None:
    bad = PROGRAM_REPLY.replace("    issue = api", "    import os\n    issue = api")
    with pytest.raises(ProgramError, match="imports 'os'"):
        induce_from_run(
            store, run_task(suite[15]), model=ModelCaller(ScriptedChatModel(replies=[bad, TEXT_REPLY])).ask
        )
    assert store.list_workflows() == []


def test_a_model_that_finds_nothing_reusable_still_writes_the_guide(store, suite, run_task) -> None:
    [guide] = induce_from_run(
        store, run_task(suite[15]), model=ModelCaller(ScriptedChatModel(replies=["NONE", TEXT_REPLY])).ask
    )
    assert guide.workflow.kind == "text"


def test_arguments_that_do_not_fit_the_function_are_refused(store, suite, run_task) -> None:
    wrong = PROGRAM_REPLY.replace('"label": "help wanted", ', "")
    with pytest.raises(InductionRefused, match="does not fit its own arguments"):
        induce_from_run(
            store, run_task(suite[15]), model=ModelCaller(ScriptedChatModel(replies=[wrong, TEXT_REPLY])).ask
        )


def test_a_program_that_still_holds_a_value_of_its_task_is_refused(store, suite, run_task) -> None:
    fixed = PROGRAM_REPLY.replace("+ [label]", '+ ["help wanted"]')  # ignores `label`, always adds this one
    with pytest.raises(InductionRefused, match="still holds 'help wanted' from the task"):
        induce_from_run(
            store, run_task(suite[15]), model=ModelCaller(ScriptedChatModel(replies=[fixed, TEXT_REPLY])).ask
        )
    assert [w.kind for w in store.list_workflows()] == []
