"""Induction on runs shaped like real ones, not like the suite's reference solutions: helpers and classes
defined in one step and used in later ones, standard-library parsing (CSV, XML), values computed from
what a page showed, browser and API mixed. Each run is executed for real and recorded, then induced and
re-executed."""

from __future__ import annotations

import pytest

from workflows.induce import induce_from_run
from workflows.lifting import InductionRefused
from workflows.memory import WorkflowStore
from workflows.program import check_program
from workflows.verify import verify

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

UNASSIGNED_BUGS = "How many open issues labelled bug in alice/tracker-core have no assignee?"
UNASSIGNED_BUGS_STEPS = [
    # Exploration and a paging helper, as a model writes them on an API it does not know yet.
    """import xml.etree.ElementTree as ET
import csv, io

def fetch_all(owner, project, **filters):
    items, page = [], 1
    while True:
        batch = api.demo.list_issues(owner=owner, project=project, page=page, per_page=50, **filters)
        items.extend(batch)
        if len(batch) < 50:
            return items
        page += 1

issues = fetch_all('alice', 'tracker-core', state='open', labels='bug')
print(len(issues), type(issues).__name__, sorted(issues[0]))""",
    # A class and a CSV round trip, defined here and used in the next step.
    """class Row:
    def __init__(self, number, assignee):
        self.number, self.assignee = number, assignee or None

    def __repr__(self):
        return f"Row({self.number}, {self.assignee})"

buffer = io.StringIO()
csv.writer(buffer).writerows([issue['number'], issue['assignee'] or ''] for issue in issues)
rows = [Row(int(number), assignee) for number, assignee in csv.reader(io.StringIO(buffer.getvalue()))]
print(rows[:3])""",
    # An XML report parsed back with ElementTree.
    """report = ET.Element('report')
for row in rows:
    if row.assignee is None:
        ET.SubElement(report, 'issue', number=str(row.number))
unassigned = len(ET.fromstring(ET.tostring(report)).findall('issue'))
print(unassigned)""",
    "finish(str(unassigned))",
]


def test_helpers_classes_and_stdlib_parsing_become_a_program_that_verifies(
    store: WorkflowStore, open_session, record_run
) -> None:
    with open_session() as session:
        run_id = record_run(store, session, UNASSIGNED_BUGS, UNASSIGNED_BUGS_STEPS)
    assert store.get_run(run_id).status == "finished"
    [induced] = induce_from_run(store, run_id)
    workflow = induced.workflow
    assert workflow.intent_template == (
        "How many {{state}} issues labelled {{labels}} in {{owner}}/{{project}} have no assignee?"
    )
    assert workflow.source_arguments == {
        "state": "open",
        "labels": "bug",
        "owner": "alice",
        "project": "tracker-core",
    }
    assert "def fetch_all(owner, project, **filters):" in workflow.body and "class Row:" in workflow.body
    assert "fetch_all(owner, project, state=state, labels=labels)" in workflow.body
    check_program(workflow.body, workflow.name)

    checked = verify(store, workflow, open_session)
    assert (checked.outcome, checked.workflow.status) == ("passed", "verified"), checked.detail


def test_a_value_read_off_a_page_is_computed_not_lifted(make_agent, demo, inspector_client) -> None:
    task = (
        "Find who has closed the most issues in alice/tracker-core according to its activity report, and "
        "assign issue #13 of alice/tracker-core to that person."
    )
    steps = [
        "print(browser.goto('/alice/tracker-core/activity'))",
        """import re

def closed_by_person(text):
    rows = re.findall(r'^(\\w+)\\t(\\d+)\\t(\\d+)\\t', text, re.M)
    return {user: int(closed) for user, _opened, closed in rows}

counts = closed_by_person(browser.text())
top = max(counts, key=counts.get)
print(counts, top)""",
        (
            "issue = api.demo.update_issue(owner='alice', project='tracker-core', number=13, "
            "body={'assignee': top})\n"
            "print(issue['assignee'])"
        ),
        "finish(f\"Assigned #13 to {issue['assignee']}.\")",
    ]
    agent, _ = make_agent(steps)
    result = agent.run(task, start_url=f"{demo.base_url}/alice/tracker-core")
    assert (result.status, result.answer) == ("finished", "Assigned #13 to alice.")
    [workflow] = agent.store.list_workflows()
    assert [p["name"] for p in workflow.parameters] == ["owner", "project", "number"]
    code = workflow.body.split('"""')[-1]  # after the docstring, whose examples name alice
    assert "body={'assignee': top}" in code and "alice" not in code
    assert workflow.writes and workflow.verification == "awaiting-use"


def test_a_value_the_model_copied_from_a_page_is_refused(
    store: WorkflowStore, suite, open_session, record_run
) -> None:
    task = suite[35]  # assigns the person the report shows, typed in by the model
    with open_session() as session:
        # The page's output, as the browser would show it, stands in for the browser here.
        steps = [
            "print('Contributions by person\\nUser\\tClosed\\nalice\\t20\\nbob\\t15')",
            *task.reference_solution[1:],
        ]
        run_id = record_run(store, session, task.intent, steps)
    with pytest.raises(
        InductionRefused, match="passes 'alice' as 'assignee', a value the output of step 1 showed"
    ):
        induce_from_run(store, run_id)


def test_a_helper_defined_in_a_step_that_then_failed_is_kept_for_the_steps_that_use_it(
    store: WorkflowStore, open_session, record_run
) -> None:
    task = "How many comments does issue #5 in bob/mobile-app have?"
    steps = [
        # The helper is defined, then the exploration after it fails; later steps still call the helper.
        (
            "def comment_count(owner, project, number):\n"
            "    return len(api.demo.list_comments(owner=owner, project=project, number=number))\n"
            "api.demo.list_comments(owner='bob', project='mobile-app', number=5)[0]['no such field']"
        ),
        "count = comment_count('bob', 'mobile-app', 5)\nprint(count)",
        "finish(str(count))",
    ]
    with open_session() as session:
        run_id = record_run(store, session, task, steps)
    assert [step.ok for step in store.steps_of(run_id)] == [False, True, True]
    [induced] = induce_from_run(store, run_id)
    assert "def comment_count(owner, project, number):" in induced.workflow.body
    assert "no such field" not in induced.workflow.body
    assert (
        induced.workflow.intent_template
        == "How many comments does issue #{{number}} in {{owner}}/{{project}} have?"
    )
    checked = verify(store, induced.workflow, open_session)
    assert checked.outcome == "passed", checked.detail
