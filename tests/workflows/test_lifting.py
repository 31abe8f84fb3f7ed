"""Deterministic induction: the suite's reference solutions become parameterised programs."""

from __future__ import annotations

import ast
import re

import pytest

from workflows.lifting import InductionRefused, lift_program, name_from_template, refuse_task_literals_left
from workflows.program import check_program

WRITES = ["api.demo.update_issue", "api.demo.create_label", "browser.click", "browser.fill", "browser.select"]


def test_values_in_the_task_become_parameters_and_the_template(suite) -> None:
    task = suite[12]  # Close issue #7 in alice/tracker-core.
    program = lift_program(task.intent, task.reference_solution, writing_calls=WRITES)
    assert program.intent_template == "Close issue #{{number}} in {{owner}}/{{project}}."
    assert program.arguments == {"number": 7, "owner": "alice", "project": "tracker-core"}
    assert [(p["name"], p["type"]) for p in program.parameters] == [
        ("number", "int"),
        ("owner", "str"),
        ("project", "str"),
    ]
    assert "return f'Closed issue #{number} in {owner}/{project}.'" in program.source
    assert "print(" not in program.source
    check_program(program.source, "close_issue")


def test_exploration_and_unused_reads_are_dropped() -> None:
    steps = [
        "print(api.demo.list_projects())\ndisplay(api.demo.list_users())\nfrom pprint import pprint",
        (
            "projects = api.demo.list_projects()\nissue = api.demo.get_issue(owner='bob', project='app', "
            "number=3)"
        ),
        "issue",
        "finish(issue['title'])",
    ]
    program = lift_program("What is the title of issue #3 in bob/app?", steps)
    body = program.source.split('"""')[-1]
    assert "list_projects" not in body and "list_users" not in body and body.count("api.demo.get_issue") == 1
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


@pytest.mark.parametrize(
    ("task_id", "reason"),
    [
        (26, "the model read it from an observation"),  # the answer was read off a page
        (33, "the model read it from an observation"),
    ],
)
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
    assert (
        name_from_template("Who is assigned to issue #{{n}}? Answer with the username.")
        == "who_assigned_issue"
    )
    assert name_from_template("{{a}} {{b}}") == "workflow"


def test_helpers_defined_in_earlier_steps_stay_with_the_code_that_uses_them() -> None:
    steps = [
        (
            "def labels_of(issue):\n    return sorted(label['name'] for label in issue['labels'])\n"
            "def unused(x):\n    return x"
        ),
        "choices = {'high': 'priority::high'}\nid_after = 3",
        "issue = api.demo.get_issue(owner='bob', project='app', number=3)\nprint(labels_of(issue))",
        "finish(', '.join(labels_of(issue)) + choices['high'] + str(id_after))",
    ]
    program = lift_program("Which labels does issue #3 in bob/app have?", steps)
    assert "def labels_of(issue):" in program.source and "def unused" not in program.source
    assert "choices = {'high': 'priority::high'}" in program.source
    check_program(program.source, program.name)


def test_a_value_passed_to_a_helper_is_named_after_its_parameter() -> None:
    steps = [
        (
            "def issue_titles(owner, project):\n    return [i['title'] for i in "
            "api.demo.list_issues(owner=owner, project=project)]"
        ),
        "finish(len(issue_titles('bob', 'app')))",
    ]
    program = lift_program("How many issues are in bob/app?", steps)
    assert program.intent_template == "How many issues are in {{owner}}/{{project}}?"
    assert "issue_titles(owner, project)" in program.source


def test_a_value_copied_from_an_earlier_output_into_another_role_is_refused() -> None:
    steps = [
        "print(api.demo.list_members(owner='bob', project='app'))",
        "api.demo.update_issue(owner='bob', project='app', number=3, body={'assignee': 'bob'})",
        "finish('done')",
    ]
    outputs = ["[{'username': 'bob', 'role': 'owner'}]", "", ""]
    task = "Assign issue #3 of bob/app to the project's owner."
    with pytest.raises(InductionRefused, match="step 2 passes 'bob' as 'assignee'"):
        lift_program(task, steps, writing_calls=["api.demo.update_issue"], outputs=outputs)
    # Named in the task in its own place, the same value is a task value in both roles.
    program = lift_program(
        "Assign issue #3 of bob/app to bob.", steps, writing_calls=["api.demo.update_issue"], outputs=outputs
    )
    assert "body={'assignee': owner}" in program.source


def test_text_a_write_copies_from_an_earlier_output_is_refused(suite) -> None:
    task = suite[36]  # assign an issue to whoever the activity report shows; the model types the name in
    outputs = ["Contributions by person\nUser\tClosed\nalice\t20\ndave\t17", "alice", ""]
    with pytest.raises(
        InductionRefused,
        match="step 2 writes 'alice', which the task does not name and the output of step 1 showed",
    ):
        lift_program(task.intent, task.reference_solution, writing_calls=WRITES, outputs=outputs)
    # What the run wrote before any output showed it is the run's own choice, not a copy.
    steps = [
        "api.demo.update_issue(owner='bob', project='app', number=3, body={'state': 'closed'})",
        "print(api.demo.get_issue(owner='bob', project='app', number=3))",
        "api.demo.create_comment(owner='bob', project='app', number=3, body={'body': 'closed'})",
        "finish('Closed #3 in bob/app.')",
    ]
    program = lift_program(
        "Close issue #3 in bob/app and say so in a comment.",
        steps,
        writing_calls=["api.demo.update_issue", "api.demo.create_comment"],
        outputs=["", "{'state': 'closed'}", "", ""],
    )
    assert "body={'body': 'closed'}" in program.source


@pytest.mark.parametrize("pattern", [r"brass\s+desk", re.escape("Brass Desk Lamp"), r"^brass desk lamp$"])
def test_a_task_value_held_as_a_regular_expression_is_a_leftover_literal(pattern: str) -> None:
    code = f"lamp = next(p for p in products if re.search({pattern!r}, p['title'], re.I))"
    with pytest.raises(InductionRefused, match="still holds"):
        refuse_task_literals_left("Raise the price of the Brass Desk Lamp by 5.", ast.parse(code).body)


class Shop:
    """`api.shop` for a lifted program run on the host: products, and the prices it set."""

    def __init__(self, titles: list[str]) -> None:
        self.products = [{"id": n, "title": t, "price": 10} for n, t in enumerate(titles)]
        self.updated: list[int] = []

    def list_products(self) -> list[dict]:
        return self.products

    def update_product(self, id: int, body: dict) -> dict:
        self.updated.append(id)
        return {"id": id, **body}


@pytest.mark.parametrize(
    "pattern",
    ["'brass desk lamp'", r"r'brass\s+desk\s+lamp'", r"r'\bBrass Desk Lamp\b'", "'Brass Desk Lamp'"],
)
def test_a_value_lifted_from_a_regular_expression_is_matched_literally(pattern: str) -> None:
    steps = [
        (
            "import re\nproducts = api.shop.list_products()\n"
            f"lamp = next(p for p in products if re.search({pattern}, p['title'], re.I))\n"
            "api.shop.update_product(id=lamp['id'], body={'price': lamp['price'] + 5})"
        ),
        "finish(f\"Raised {lamp['title']}.\")",
    ]
    program = lift_program(
        "Raise the price of the Brass Desk Lamp by 5.", steps, writing_calls=["api.shop.update_product"]
    )
    assert program.intent_template == "Raise the price of the {{title}} by {{price}}."
    assert program.arguments["title"] == "Brass Desk Lamp" and "re.escape" in program.source
    shop = Shop(["Enamel Camp Mug large", "Brass Desk Lamp", "Enamel Camp Mug (large)"])
    namespace: dict = {"api": type("api", (), {"shop": shop})}
    exec(program.source, namespace)  # noqa: S102 - the program under test, on a fake shop
    function = namespace[program.name]
    # A title with the characters a pattern gives meaning to names the product that has them, no other.
    assert function(title="Enamel Camp Mug (large)", price=3) == "Raised Enamel Camp Mug (large)."
    assert function(title="Brass Desk Lamp", price=3) == "Raised Brass Desk Lamp."
    assert shop.updated == [2, 1]
