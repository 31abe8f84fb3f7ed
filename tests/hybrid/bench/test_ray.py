"""`--executor ray`: tasks spread over Ray actors (a local Ray instance, started and stopped by the
benchmark itself), results gathered into one report and one database: a shared SQLite file, or
PostgreSQL, as on a cluster where every node reaches it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import ray

from hybrid.bench.executors import ACTOR_PREFIX, RayCluster
from hybrid.bench.runner import BenchOptions, run_benchmark
from hybrid.config import Settings
from tests.waits import scaled
from workflows.store import RunStore

pytestmark = [pytest.mark.kernel, pytest.mark.usefixtures("ray_environment")]


@pytest.mark.slow
@pytest.mark.timeout(scaled(240))
@pytest.mark.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
def test_ray_actors_run_the_tasks_into_one_report_and_database(settings: Settings) -> None:
    report = run_benchmark(settings, BenchOptions(model="reference", tasks="0-3", parallel=2, executor="ray"))
    assert not ray.is_initialized()  # the local instance is stopped again
    assert report.done() == {0, 1, 2, 3} and all(r.passed for r in report.results)
    assert {r.worker for r in report.results} <= {"ray-0", "ray-1"} and report.executor == "ray"
    runs = RunStore(settings.effective_database_url).list_runs(10)
    assert {run.id for run in runs} == {r.run_id for r in report.results}
    assert all(run.status == "finished" and run.steps == 2 for run in runs)


@pytest.mark.slow
@pytest.mark.timeout(scaled(300))
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_lost_worker_loses_no_finished_result_and_its_task_is_rerun(settings: Settings) -> None:
    """A worker ends mid-task (as when its node dies): what finished stays in the report, and the task it
    was running is run again by the other worker."""
    killed: list[str] = []

    def lose_the_other_worker(result) -> None:
        if not killed:  # the worker that did not give this result is busy with its next task: end it
            other = "1" if result.worker == "ray-0" else "0"
            ray.kill(ray.get_actor(f"{ACTOR_PREFIX}{other}"), no_restart=True)
            killed.append(f"ray-{other}")

    report = run_benchmark(
        settings,
        BenchOptions(model="reference", tasks="0-4", parallel=2, executor="ray"),
        on_result=lose_the_other_worker,
    )
    assert report.done() == {0, 1, 2, 3, 4} and all(r.passed for r in report.results)
    # At most one more result from the lost worker: one it had finished as the first came in.
    assert killed and sum(r.worker == killed[0] for r in report.results[1:]) <= 1
    assert all(r.node for r in report.results)  # where each ran
    runs = RunStore(settings.effective_database_url).list_runs(20)
    reported = {r.run_id for r in report.results}
    # The lost task's first run, if it had started, is the one run the report does not hold: it never
    # finished, or it finished as its worker was killed, before its result came back (the task was run again).
    assert reported <= {run.id for run in runs if run.status == "finished"}
    assert len(runs) - len(reported) <= 1


def test_a_worker_lost_after_its_last_task_does_not_fail_the_benchmark_at_its_end() -> None:
    """Every result is in when a node goes with an idle worker on it: closing the workers passes over it."""
    closed: list[object] = []
    killed: list[object] = []

    class Actor:
        def __init__(self, lost: bool) -> None:
            self.lost = lost
            self.close = SimpleNamespace(remote=lambda: self)

    class Ray:
        exceptions = ray.exceptions

        def get(self, actor: Actor, timeout: float) -> None:
            if actor.lost:
                raise ray.exceptions.ActorUnavailableError("the node is gone", None)
            closed.append(actor)

        def kill(self, actor: Actor) -> None:
            killed.append(actor)

        def shutdown(self) -> None:
            closed.append("driver")

    lost, alive = Actor(lost=True), Actor(lost=False)
    executor = object.__new__(RayCluster)
    executor._ray, executor.actors, executor._finished = Ray(), [lost, alive], True
    executor._owns_instance = False  # a cluster's: closing only disconnects the driver
    executor.close()
    assert closed == [alive, "driver"] and killed == [lost, alive]
