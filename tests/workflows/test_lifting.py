"""Deterministic induction: the suite's reference solutions become parameterised programs."""

from __future__ import annotations

import pytest

from workflows.lifting import InductionRefused, lift_program, name_from_template
from workflows.program import check_program

WRITES = ["api.demo.update_issue", "api.demo.create_label", "browser.click", "browser.fill", "browser.select"]


def test_values_in_the_task_become_parameters_and_the_template(suite) -> None:
    task = suite[12]  # Close issue #7 in alice/tracker-core.
    program = lift_program(task.intent, task.reference_solution, writing_calls=WRITES)
    assert program.intent_template == "Close issue #{{number}} in {{owner}}/{{project}}."
    assert program.arguments == {"number": 7, "owner": "alice", "project": "tracker-core"}
    assert [(p["name"], p["type"]) for p in program.parameters] == [("number", "int"), ("owner", "str"),
                                                                      ("project", "str")]
    assert "return f'Closed issue #{number} in {owner}/{project}.'" in program.source
    assert "print(" not in program.source
    check_program(program.source, "close_issue")


def test_exploration_and_unused_reads_are_dropped() -> None:
    steps = ["print(api.demo.list_projects())",
             "projects = api.demo.list_projects()\nissue = api.demo.get_issue(owner='bob', project='app', number=3)",
             "issue",
             "finish(issue['title'])"]
    program = lift_program("What is the title of issue #3 in bob/app?", steps)
    body = program.source.split('"""')[-1]
    assert "list_projects" not in body and body.count("api.demo.get_issue") == 1
    assert program.intent_template == "What is the title of issue #{{number}} in {{owner}}/{{project}}?"


def test_values_inside_strings_become_f_strings_named_after_form_fields(suite) -> None:
    task = suite[31]  # Transfer the project alice/docs-site to grace. (browser only)
    program = lift_program(task.intent, task.reference_solution, writing_calls=WRITES)
    assert "browser.goto(f'/{value}/{project_name}/settings')" in program.source
    assert "browser.select(browser.find('combobox', 'New owner'), new_owner)" in program.source
    assert program.intent_template == "Transfer the project {{value}}/{{project_name}} to {{new_owner}}."


def test_keys_and_enumerations_not_in_the_task_stay_literal(suite) -> None:
    program = lift_program(suite[6].intent, suite[6].reference_solution)
    assert "state='all', sort='created', direction='desc'" in program.source
    assert "newest['title']" in program.source


@pytest.mark.parametrize(("task_id", "reason"), [
    (26, "the model read it from an observation"),  # the answer was read off a page
    (33, "the model read it from an observation"),
])
def test_answers_read_by_the_model_are_refused(suite, task_id: int, reason: str) -> None:
    task = suite[task_id]
    with pytest.raises(InductionRefused, match=reason):
        lift_program(task.intent, task.reference_solution, writing_calls=WRITES)


def test_nothing_to_reuse_is_refused() -> None:
    with pytest.raises(InductionRefused, match="calls no api"):
        lift_program("What is 2 + 2?", ["print(2 + 2)", "finish(4)"])
    with pytest.raises(InductionRefused, match="no value of the task text"):
        lift_program("How many projects are there?", ["finish(len(api.demo.list_projects()))"])
    with pytest.raises(InductionRefused, match="does not parse"):
        lift_program("x", ["def ("])


def test_names_come_from_the_first_sentence() -> None:
    assert name_from_template("Who is assigned to issue #{{n}}? Answer with the username.") == "who_assigned_issue"
    assert name_from_template("{{a}} {{b}}") == "workflow"
