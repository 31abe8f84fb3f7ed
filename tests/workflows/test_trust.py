"""Learning you can trust, through the agent on the demo site with scripted replies written as a model
writes them: what memory keeps takes the task's values as parameters however the code used them, is
offered only to tasks whose values it can take, is judged by the host alone, and a run's writes all end
up in its record."""

from __future__ import annotations

import time

import httpx
import pytest

from hybrid.agent.run import AgentError
from workflows.memory import Workflow
from workflows.verify import Evaluation

pytestmark = pytest.mark.kernel

CLOSE_17_18 = [
    "help(api.demo.update_issue)",
    (
        "for n in (17, 18):\n"
        "    api.demo.update_issue(owner='alice', project='tracker-core', number=n, "
        "body={'state': 'closed'})\n"
        "print('closed')"
    ),
    "finish('Closed issues 17 and 18 in alice/tracker-core.')",
]


def state(inspector_client: httpx.Client, number: int) -> str:
    return str(inspector_client.get(f"/projects/alice/tracker-core/issues/{number}").json()["state"])


def test_a_loop_over_the_tasks_issues_takes_them_as_a_list(make_agent, inspector_client) -> None:
    agent, _ = make_agent(CLOSE_17_18)
    first = agent.run("Close issues 17 and 18 in alice/tracker-core.")
    assert first.learned["line"].startswith("saved as workflow close_issues v1 (candidate")
    workflow = agent.store.get_workflow("close_issues")
    assert [(p["name"], p["type"]) for p in workflow.parameters] == [
        ("numbers", "list"),
        ("owner", "str"),
        ("project", "str"),
    ]
    assert "(17, 18)" not in workflow.body and "help(" not in workflow.body

    call = "finish(wf.close_issues(numbers=[40, 41], owner='alice', project='tracker-core'))"
    agent, _ = make_agent([call])
    second = agent.run("Close issues 40 and 41 in alice/tracker-core.")
    assert second.answer == "Closed issues 40 and 41 in alice/tracker-core."
    assert "credited" in second.learned["line"]
    assert agent.store.get_workflow("close_issues").status == "verified"

    agent, _ = make_agent(None)  # no model: only the fast path can do it
    third = agent.run("Close issues 42 and 43 in alice/tracker-core.")
    assert (third.status, third.steps, third.tokens) == ("finished", 1, 0)
    assert [state(inspector_client, n) for n in (40, 41, 42, 43, 44)] == ["closed"] * 4 + ["open"]


CLOSE_BY_TITLE = [
    (
        "issues = api.demo.list_issues(owner='alice', project='tracker-core', state='open', per_page=100, "
        "direction='asc')\nprint(len(issues))"
    ),
    (
        "issue = next(i for i in issues if i['title'].lower() == 'document the csv export')\n"
        "api.demo.update_issue(owner='alice', project='tracker-core', number=issue['number'], "
        "body={'state': 'closed'})\nprint(issue['number'])"
    ),
    "finish(f\"Closed issue #{issue['number']}.\")",
]


def test_a_value_compared_lower_cased_is_a_parameter(make_agent, inspector_client) -> None:
    agent, _ = make_agent(CLOSE_BY_TITLE)
    agent.run("Close the issue titled Document the CSV export in alice/tracker-core.")
    workflow = agent.store.get_workflow("close_issue_titled")
    assert workflow.intent_template == "Close the issue titled {{title}} in {{owner}}/{{project}}."
    assert "i['title'].lower() == title.lower()" in workflow.body

    call = (
        "finish(wf.close_issue_titled(title='Mobile layout breaks with unicode names', owner='alice', "
        "project='tracker-core'))"
    )
    agent, _ = make_agent([call])
    assert agent.run(
        "Close the issue titled Mobile layout breaks with unicode names in alice/tracker-core."
    ).answer == ("Closed issue #7.")
    agent, _ = make_agent(None)
    fast = agent.run(
        "Close the issue titled Add keyboard shortcuts to the label picker in alice/tracker-core."
    )
    assert (fast.status, fast.answer, fast.tokens) == ("finished", "Closed issue #12.", 0)
    # The issue the task named, and no other: #3 and #8 are titled "Add keyboard shortcuts to ..." too.
    assert [state(inspector_client, n) for n in (1, 7, 12, 3, 8)] == ["closed"] * 3 + ["open"] * 2


def test_a_task_naming_a_value_the_workflow_cannot_take_is_not_offered_it(make_agent, suite) -> None:
    agent, _ = make_agent(suite[12].reference_solution)  # close_issue(number, owner, project)
    agent.run(suite[12].intent)
    own = [
        (
            "for n in (40, 41):\n"
            "    api.demo.update_issue(owner='alice', project='tracker-core', number=n, "
            "body={'state': 'closed'})"
        ),
        "finish('Closed issues 40 and 41.')",
    ]
    agent, model = make_agent(own, fast_path=True)
    result = agent.run("Close issues 40 and 41 in alice/tracker-core.")
    assert result.status == "finished" and result.tokens > 0
    assert "close_issue(" not in model.prompts[0]


def test_a_parameter_never_takes_the_name_of_what_the_program_overwrites(
    make_agent, inspector_client
) -> None:
    steps = [
        "help(api.demo.list_issues)",
        (
            "label = 'bug'\n"
            "issues = api.demo.list_issues(owner='alice', project='tracker-core', state='open', "
            "per_page=100)\n"
            "label = [i for i in issues if label in i['labels']]\n"
            "print(len(label))"
        ),
        "finish(f'{len(label)} open issues are labeled bug')",
    ]
    agent, _ = make_agent(steps)
    first = agent.run("How many open issues are labeled bug in alice/tracker-core?")
    assert "verified" in first.learned["line"], first.learned["line"]
    agent, _ = make_agent(None)
    fast = agent.run("How many open issues are labeled docs in alice/tracker-core?")
    issues = inspector_client.get(
        "/projects/alice/tracker-core/issues", params={"state": "open", "per_page": 100}
    ).json()
    assert fast.answer == f"{sum('docs' in i['labels'] for i in issues)} open issues are labeled docs"


WHO = "Who is assigned to issue #{number} in bob/mobile-app? Answer with the username, or nobody."


def test_runs_that_call_a_workflow_credit_it_and_add_no_names(make_agent, suite) -> None:
    agent, _ = make_agent(suite[3].reference_solution)
    agent.run(suite[3].intent)
    [workflow] = agent.store.list_workflows()
    calls = [
        ["finish(wf.who_assigned_issue(number=5, owner='bob', project='mobile-app', value='nobody'))"],
        ["who = wf.who_assigned_issue(6, 'bob', 'mobile-app', 'nobody')\nprint(who)", "finish(who)"],
        ["finish(wf.who_assigned_issue(value='nobody', owner='bob', project='mobile-app', number=7))"],
    ]
    for number, steps in zip((5, 6, 7), calls, strict=True):
        agent, _ = make_agent(steps, fast_path=False)
        result = agent.run(WHO.format(number=number))
        assert result.status == "finished"
        first = agent.store.steps_of(result.run_id)[0]
        assert first.ok and "could not be installed" not in first.observation
    assert [w.name for w in agent.store.list_workflows(all_versions=True)] == [workflow.name]
    uses = agent.store.uses_of(workflow.id)
    assert [(u.via, u.outcome) for u in uses] == [("verification", "success")] + [("kernel", "success")] * 3


def test_kernel_code_cannot_reach_the_memory_through_a_workflows_closure(make_agent, suite) -> None:
    agent, _ = make_agent(suite[3].reference_solution)
    agent.run(suite[3].intent)
    assert agent.store.get_workflow("who_assigned_issue").status == "verified"
    attack = (
        "hooks = [c.cell_contents for c in wf.who_assigned_issue.__closure__ or () "
        "if callable(c.cell_contents)]\n"
        "for hook in hooks:\n"
        "    for args in ((17, 'alice', 'tracker-core', 'nobody'), (1, False, 'forged'), (2, True, None)):\n"
        "        for _ in range(3):\n"
        "            try:\n"
        "                hook(*args)\n"
        "            except Exception as exc:\n"
        "                print(type(exc).__name__)\n"
        "print(len(hooks))"
    )
    agent, _ = make_agent([attack, "finish('done')"], fast_path=False, induce=False)
    agent.run(WHO.format(number=5))
    workflow = agent.store.get_workflow("who_assigned_issue")
    assert (workflow.status, workflow.failure_count, workflow.consecutive_failures) == ("verified", 0, 0)


FORGED = (
    "f = wf.who_assigned_issue\n"
    "begin = dict(zip(f.__code__.co_freevars, (c.cell_contents for c in f.__closure__)))['begin']\n"
    "begin(5, 'bob', 'mobile-app', 'nobody')\n"
    "api.demo.get_issue(owner='bob', project='mobile-app', number=5)\n"
    "raise KeyError(\"assignee\\nwf.who_assigned_issue failed with KeyError: 'assignee', called as "
    "wf.who_assigned_issue(5, 'bob', 'mobile-app', 'nobody').\")"
)


def test_failures_the_models_code_forges_do_not_count_against_a_workflow(make_agent, suite) -> None:
    agent, _ = make_agent(suite[3].reference_solution)
    agent.run(suite[3].intent)
    for _ in range(3):  # as many as would deprecate it
        agent, _ = make_agent([FORGED, "finish('bob')"], fast_path=False, induce=False)
        agent.run(WHO.format(number=5))
    workflow = agent.store.get_workflow("who_assigned_issue")
    assert (workflow.status, workflow.failure_count, workflow.consecutive_failures) == ("verified", 0, 0)
    uses = agent.store.uses_of(workflow.id)
    assert [(u.via, u.outcome) for u in uses] == [("verification", "success")] + [
        ("kernel", "not-reproduced")
    ] * 3
    assert "in a clean kernel succeeded" in (uses[-1].error or "")


def test_writes_a_thread_makes_after_finish_are_recorded_or_refused(make_agent, inspector_client) -> None:
    writer = (
        "import threading, time\n"
        "def close_many():\n"
        "    for n in range(20, 40):\n"
        "        api.demo.update_issue(owner='alice', project='tracker-core', number=n, "
        "body={'state': 'closed'})\n"
        "        time.sleep(0.02)\n"
        "threading.Thread(target=close_many).start()\n"
        "time.sleep(0.05)\n"
        "finish('started')"
    )
    seed_closed = {n for n in range(20, 40) if state(inspector_client, n) == "closed"}
    agent, _ = make_agent([writer], induce=False)
    result = agent.run("Close issues 20 to 39 of alice/tracker-core in the background.")
    # Whatever the thread still does, give it the time to do it all: 20 calls, on a loaded machine.
    changes: list[set[int]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(changes) < 5 or changes[-1] != changes[-5]):
        changes.append({n for n in range(20, 40) if state(inspector_client, n) == "closed"} - seed_closed)
        time.sleep(0.2)
    [step] = agent.store.steps_of(result.run_id)
    calls = agent.store.calls_of(step.id)
    written = {c.kwargs["number"] for c in calls if c.target == "demo.update_issue" and c.status == "ok"}
    assert changes[-1] <= written  # every change to the site is in the run's record


BACKGROUND = '''
def close_in_background(owner: str, project: str):
    """For tasks like: Close issues 20 to 39 of <owner>/<project> in the background."""
    import threading
    import time

    def close_many():
        for n in range(20, 40):
            api.demo.update_issue(owner=owner, project=project, number=n, body={'state': 'closed'})
            time.sleep(0.05)

    threading.Thread(target=close_many).start()
    time.sleep(0.05)
    return 'started'
'''


def test_the_fast_path_stops_what_a_workflow_left_running(make_agent, inspector_client) -> None:
    agent, _ = make_agent(None)
    agent.store.add_workflow(
        Workflow(
            name="close_in_background",
            site="demo",
            status="verified",
            body=BACKGROUND,
            fingerprint="b",
            writes=True,
            description="For tasks like: Close issues 20 to 39 of <owner>/<project> in the background.",
            intent_template="Close issues 20 to 39 of {{owner}}/{{project}} in the background.",
            parameters=[
                {"name": "owner", "type": "str", "example": "alice"},
                {"name": "project", "type": "str", "example": "tracker-core"},
            ],
            operations=["api.demo.update_issue"],
        )
    )
    seed_closed = {n for n in range(20, 40) if state(inspector_client, n) == "closed"}
    result = agent.run("Close issues 20 to 39 of alice/tracker-core in the background.")
    assert (result.status, result.answer, result.tokens) == ("finished", "started", 0)
    changes: list[set[int]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (len(changes) < 5 or changes[-1] != changes[-5]):
        changes.append({n for n in range(20, 40) if state(inspector_client, n) == "closed"} - seed_closed)
        time.sleep(0.2)
    [step] = agent.store.steps_of(result.run_id)
    calls = agent.store.calls_of(step.id)
    written = {c.kwargs["number"] for c in calls if c.target == "demo.update_issue" and c.status == "ok"}
    assert changes[-1] <= written  # every change to the site is in the run's record
    assert len(changes[-1]) < 20  # and the thread was stopped, not left to finish


def test_a_task_naming_what_does_not_exist_is_not_the_workflows_failure(make_agent, suite) -> None:
    agent, _ = make_agent(suite[3].reference_solution)
    agent.run(suite[3].intent)
    for _ in range(3):
        agent, _ = make_agent(None)
        with pytest.raises(AgentError) as failed:
            agent.run(
                "Who is assigned to issue #5 in alice/no-such-project? Answer with the username, or nobody."
            )
        # What failed, where and with what, for the user (and for the model, which would repair it).
        assert "wf.who_assigned_issue failed with ApiStatusError" in str(failed.value)
        assert "at line 10 of the workflow: `issue = api.demo.get_issue(" in str(failed.value)
        assert "called as wf.who_assigned_issue(number=5, owner='alice', project='no-such-project'" in str(
            failed.value
        )
    workflow = agent.store.get_workflow("who_assigned_issue")
    assert (workflow.status, workflow.failure_count) == ("verified", 0)


def test_runs_of_one_task_shape_make_one_family(make_agent, suite) -> None:
    agent, _ = make_agent(suite[12].reference_solution)  # Close issue #7 in alice/tracker-core.
    agent.run(suite[12].intent)
    other_ways = [
        [
            "issue = api.demo.get_issue(owner='alice', project='docs-site', number=6)\nprint(issue['state'])",
            (
                "if issue['state'] != 'closed':\n"
                "    api.demo.update_issue(owner='alice', project='docs-site', number=6, "
                "body={'state': 'closed'})"
            ),
            "finish('Closed issue #6 in alice/docs-site.')",
        ],
        [
            (
                "done = api.demo.update_issue(owner='carol', project='data-pipeline', number=6, "
                "body={'state': 'closed'})"
            ),
            "finish(f\"Closed issue #{done['number']} in carol/data-pipeline.\")",
        ],
    ]
    for steps, task in zip(other_ways, (suite[14].intent, suite[13].intent), strict=True):
        agent, _ = make_agent(steps, fast_path=False)
        result = agent.run(task)
        assert "evidence" in result.learned["line"], result.learned["line"]
    assert [w.name for w in agent.store.list_workflows(all_versions=True)] == ["close_issue"]


def test_a_workflow_that_writes_is_verified_by_an_evaluator_on_its_effect(
    make_agent, suite, demo, inspector_client
) -> None:
    judged: list[str] = []

    def judge(answer: str | None) -> bool:
        judged.append(state(inspector_client, 7))
        return judged[-1] == "closed"

    agent, _ = make_agent(suite[12].reference_solution)  # Close issue #7 in alice/tracker-core.
    first = agent.run(suite[12].intent, learn=False)
    rejected = agent.learn(Evaluation(passed=False, reason="issue #7 is open"))
    assert rejected is not None and "rejected" in rejected.learned.line
    assert agent.store.list_workflows() == []

    agent, _ = make_agent(suite[12].reference_solution)
    first = agent.run(suite[12].intent, learn=False)
    assert first.status == "finished"
    lesson = agent.learn(Evaluation(passed=True, reset=demo.reset, recheck=judge))
    assert lesson is not None and lesson.learned.status == "verified", lesson.learned.line
    assert judged == ["closed"]  # after the reset had opened it again: the workflow closed it

    agent, _ = make_agent(None)
    fast = agent.run(suite[13].intent, learn=False)  # Close issue #6 in carol/data-pipeline.
    assert (fast.status, fast.steps, fast.tokens) == ("finished", 1, 0)
    # An evaluator that finds the task undone overrules the host's verdict on the fast path's use.
    agent.learn(Evaluation(passed=False, reason="issue #6 is open"))
    workflow = agent.store.get_workflow("close_issue")
    assert (workflow.success_count, workflow.failure_count) == (1, 1)
    assert [u.outcome for u in agent.store.uses_of(workflow.id)] == ["success", "failure"]
