"""The demo task suite: well-formed, current with the seed, and every task solvable by its reference."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from hybrid.bench.evaluators import evaluate
from hybrid.bench.suite import DEMO_SUITE, SuiteError, load_suite
from hybrid.demo.build_tasks import suite_lines

TASKS = load_suite()


def test_suite_is_large_and_covers_every_category() -> None:
    assert len(TASKS) >= 40
    categories = Counter(task.category for task in TASKS)
    assert set(categories) == {"api", "ui", "mixed"} and min(categories.values()) >= 5
    per_template = Counter(task.intent_template_id for task in TASKS)
    assert all(n >= 2 for n in per_template.values())
    assert any(t.eval.answer for t in TASKS) and any(t.eval.state for t in TASKS)


def test_committed_suite_matches_the_seed_data() -> None:
    assert DEMO_SUITE.read_text(encoding="utf-8").splitlines() == list(suite_lines()), (
        "tasks.jsonl is stale: run `python -m hybrid.demo.build_tasks`"
    )


def test_bad_suite_files_are_refused_with_file_and_line(tmp_path) -> None:
    good = json.loads(DEMO_SUITE.read_text(encoding="utf-8").splitlines()[0])
    bad = dict(good, intent="something else")
    path = tmp_path / "suite.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(SuiteError, match=r"suite.jsonl:2: .*intent does not match"):
        load_suite(path)
    path.write_text(json.dumps(good) + "\n" + json.dumps(good) + "\n")
    with pytest.raises(SuiteError, match="duplicate task_id"):
        load_suite(path)
    with pytest.raises(SuiteError, match="no such task suite"):
        load_suite(tmp_path / "missing.jsonl")


@pytest.mark.parametrize("task", TASKS, ids=lambda t: f"{t.task_id}-{t.category}")
def test_reference_solution_passes_and_doing_nothing_fails(
    task, demo, run_reference, inspector_client
) -> None:
    untouched = evaluate(task, None, inspector_client)
    assert not untouched.passed, "a task that passes with no answer and no action checks nothing"
    answer, output = run_reference(task)
    outcome = evaluate(task, answer, inspector_client)
    assert outcome.passed, f"{outcome.failures}\noutput:\n{output}"
