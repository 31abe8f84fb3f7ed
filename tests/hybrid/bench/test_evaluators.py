"""Evaluators: a right answer or state passes, a wrong one fails, and the failure says why."""

from __future__ import annotations

import httpx
import pytest

from hybrid.bench.evaluators import check_answer, check_state, evaluate
from hybrid.bench.suite import AnswerCheck, StateCheck, load_suite


@pytest.mark.parametrize(
    ("check", "answer", "passes"),
    [
        (AnswerCheck(exact="alice"), "Alice.", True),
        (AnswerCheck(exact="alice"), "  alice  ", True),
        (AnswerCheck(exact="alice"), "alice and bob", False),
        (AnswerCheck(number=17), "17", True),
        (AnswerCheck(number=17), "There are 17 open bugs.", True),
        (AnswerCheck(number=17), "1,017", False),
        (AnswerCheck(number=17), "18", False),
        (AnswerCheck(number=2), "v2.0 has none", False),
        (AnswerCheck(number=12), "issue #12", False),
        (AnswerCheck(must_include=["bob", "closed"]), "Bob closed it", True),
        (AnswerCheck(must_include=["bob", "closed"]), "Bob opened it", False),
        (AnswerCheck(exact="nobody", must_exclude=["alice"]), "nobody", True),
        (AnswerCheck(must_include=["alice"], must_exclude=["bob"]), "alice, not bob", False),
        (AnswerCheck(exact="x"), None, False),
        (AnswerCheck(exact="x"), "", False),
    ],
)
def test_answer_checks(check: AnswerCheck, answer: str | None, passes: bool) -> None:
    assert (not check_answer(check, answer)) is passes


def test_an_answer_check_needs_exactly_one_kind() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        AnswerCheck(exact="a", number=1)
    with pytest.raises(ValueError, match="exactly one"):
        AnswerCheck(must_exclude=["a"])


@pytest.fixture
def api(demo) -> httpx.Client:
    with httpx.Client(
        base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('alice')}"}
    ) as c:
        yield c


def test_state_checks_read_the_site_through_its_api(api: httpx.Client) -> None:
    issue = api.get("/projects/alice/tracker-core/issues/1").json()
    assert not check_state(
        StateCheck(get="/projects/alice/tracker-core/issues/1", select="state", equals=issue["state"]), api
    )
    wrong = check_state(
        StateCheck(get="/projects/alice/tracker-core/issues/1", select="title", equals="nope"), api
    )
    assert wrong and "expected 'nope'" in wrong[0]
    assert not check_state(
        StateCheck(
            get="/projects/alice/tracker-core/members",
            where={"username": "bob"},
            select="role",
            contains="maintainer",
        ),
        api,
    )
    assert check_state(
        StateCheck(
            get="/projects/alice/tracker-core/members",
            where={"username": "bob"},
            select="role",
            contains="guest",
        ),
        api,
    )
    assert not check_state(StateCheck(get="/projects/nobody/none", status=404), api)
    assert check_state(StateCheck(get="/projects/alice/tracker-core", status=404), api)


def test_count_follows_every_page(api: httpx.Client) -> None:
    total = int(
        api.get("/projects/alice/tracker-core/issues", params={"state": "all"}).headers["X-Total-Count"]
    )
    assert total > 100
    assert not check_state(
        StateCheck(get="/projects/alice/tracker-core/issues", params={"state": "all"}, count=total), api
    )
    failures = check_state(
        StateCheck(get="/projects/alice/tracker-core/issues", params={"state": "all"}, count=total - 1), api
    )
    assert failures and f"{total} item(s)" in failures[0]


@pytest.mark.parametrize(
    "task", [t for t in load_suite() if t.eval.answer and not t.eval.state], ids=lambda t: str(t.task_id)
)
def test_suite_answers_right_and_wrong(task, api: httpx.Client) -> None:
    check = task.eval.answer
    right = check.exact if check.exact is not None else str(int(check.number))
    wrong = "zed" if check.exact is not None else str(int(check.number) + 1)
    assert evaluate(task, right, api).passed
    outcome = evaluate(task, wrong, api)
    assert not outcome.passed and outcome.failures
