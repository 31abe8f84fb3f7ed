"""The benchmark runner: task selection, judging, the report, resuming, and each executor."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hybrid.bench.report import Report, ReportError
from hybrid.bench.runner import BenchError, BenchOptions, parse_task_ids, run_benchmark, select_tasks
from hybrid.bench.sites import SiteSetupError, parse_setups
from hybrid.bench.suite import load_suite
from hybrid.cli import cli
from hybrid.config import Settings
from workflows.store import RunStore

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

SUITE = load_suite()


def write_suite(path: Path, *tasks: dict) -> Path:
    path.write_text("".join(json.dumps(task) + "\n" for task in tasks))
    return path


def test_task_ids_and_ranges_select_tasks() -> None:
    assert parse_task_ids("0-2, 9") == {0, 1, 2, 9}
    assert [t.task_id for t in select_tasks(SUITE, "0-40", ("mixed",))] == [35, 36, 37, 38, 39, 40]
    with pytest.raises(BenchError, match="no task"):
        select_tasks(SUITE, "500", ())
    with pytest.raises(BenchError, match="'x' is not a task id"):
        parse_task_ids("1,x")


def test_site_setups_are_named_module_function() -> None:
    assert parse_setups(["gitea=my.sites:gitea"])["gitea"] == "my.sites:gitea"
    with pytest.raises(SiteSetupError, match="NAME=module:function"):
        parse_setups(["gitea"])


def test_tasks_are_run_judged_and_recorded(settings: Settings) -> None:
    seen = []
    report = run_benchmark(settings, BenchOptions(model="reference", tasks="0,3,27"), on_result=seen.append)
    assert sorted(r.task_id for r in report.results) == [0, 3, 27] and len(seen) == 3
    assert all(r.passed and r.status == "finished" and r.steps >= 2 and r.tokens > 0 for r in report.results)
    assert [(row.category, row.tasks, row.success_rate) for row in report.summary] == [
        ("api", 2, 1.0),
        ("ui", 1, 1.0),
        ("all", 3, 1.0),
    ]
    saved = Report.load(settings.data_dir / "bench" / "demo-reference.json")
    assert saved.done() == {0, 3, 27} and saved.wall_seconds > 0
    runs = RunStore(settings.effective_database_url).list_runs(10)
    assert sorted(run.source for run in runs) == ["bench:demo:0", "bench:demo:27", "bench:demo:3"]
    assert {run.id for run in runs} == {r.run_id for r in report.results}


def test_a_broken_task_is_an_error_result_and_the_benchmark_goes_on(settings: Settings, tmp_path) -> None:
    broken = SUITE[3].model_dump() | {"task_id": 100, "reference_solution": ["x = 1"]}  # never calls finish()
    suite = write_suite(tmp_path / "mine.jsonl", broken, SUITE[3].model_dump())
    report = run_benchmark(settings, BenchOptions(model="reference", suite=str(suite)))
    results = {r.task_id: r for r in report.results}
    assert results[3].passed and not results[100].passed
    assert results[100].status == "error" and "no reply left" in results[100].error


def test_an_interrupted_benchmark_resumes_where_it_stopped(settings: Settings) -> None:
    options = BenchOptions(model="reference", tasks="0-2")

    def stop_after_first(_result) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_benchmark(settings, options, on_result=stop_after_first)
    [first] = Report.load(settings.data_dir / "bench" / "demo-reference.json").results
    todo_counts = []
    resumed = run_benchmark(
        settings,
        BenchOptions(model="reference", tasks="0-2", resume=True),
        on_start=lambda report, todo: todo_counts.append(len(todo)),
    )
    assert todo_counts == [2] and resumed.done() == {0, 1, 2}
    assert next(r for r in resumed.results if r.task_id == first.task_id).run_id == first.run_id
    with pytest.raises(ReportError, match="not demo with openai"):
        run_benchmark(
            settings,
            BenchOptions(
                model="openai:gpt-4o-mini",
                resume=True,
                report=settings.data_dir / "bench" / "demo-reference.json",
            ),
        )


def test_a_suite_with_a_site_nobody_sets_up_says_how_to_add_one(settings: Settings, tmp_path) -> None:
    suite = write_suite(tmp_path / "other.jsonl", SUITE[0].model_dump() | {"sites": ["gitea"]})
    with pytest.raises(SiteSetupError, match="--site-setup gitea=module:function"):
        run_benchmark(settings, BenchOptions(model="reference", suite=str(suite)))


@pytest.mark.slow
def test_parallel_workers_are_processes_with_their_own_sites(settings: Settings) -> None:
    report = run_benchmark(settings, BenchOptions(model="reference", tasks="0-3", parallel=2))
    assert report.done() == {0, 1, 2, 3} and all(r.passed for r in report.results)
    assert all(r.worker.startswith("process-") for r in report.results)
    runs = RunStore(settings.effective_database_url).list_runs(10)
    assert {run.id for run in runs} == {r.run_id for r in report.results}


def test_the_bench_command_prints_a_table_by_category(settings: Settings) -> None:
    result = CliRunner().invoke(cli, ["bench", "--model", "reference", "--tasks", "0,35"])
    assert result.exit_code == 0, result.output
    assert "API-only" in result.output and "mixed" in result.output and "100%" in result.output
    assert "demo-reference.json" in result.output
    bad = CliRunner().invoke(cli, ["bench", "--model", "reference", "--tasks", "0-x"])
    assert bad.exit_code == 2 and "is not a task id" in bad.output
