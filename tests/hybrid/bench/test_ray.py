"""`--executor ray`: tasks spread over Ray actors (a local Ray instance, started and stopped by the
benchmark itself), results gathered into one report and one database: a shared SQLite file, or
PostgreSQL, as on a cluster where every node reaches it."""

from __future__ import annotations

import pytest
import ray

from hybrid.bench.runner import BenchOptions, run_benchmark
from hybrid.config import Settings
from workflows.store import RunStore

pytestmark = pytest.mark.kernel


@pytest.fixture(autouse=True)
def no_ray_usage_stats(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")


@pytest.mark.slow
@pytest.mark.timeout(240)
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_ray_actors_run_the_tasks_into_one_report_and_database(settings: Settings) -> None:
    report = run_benchmark(settings, BenchOptions(model="reference", tasks="0-3", parallel=2, executor="ray"))
    assert not ray.is_initialized()  # the local instance is stopped again
    assert report.done() == {0, 1, 2, 3} and all(r.passed for r in report.results)
    assert {r.worker for r in report.results} <= {"ray-0", "ray-1"} and report.executor == "ray"
    runs = RunStore(settings.effective_database_url).list_runs(10)
    assert {run.id for run in runs} == {r.run_id for r in report.results}
    assert all(run.status == "finished" and run.steps == 2 for run in runs)
