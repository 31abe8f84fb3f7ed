"""`--executor ray --ray-address` on a real two-node Ray cluster started here: a head and a second node, each
its own `ray start` process (own session dir, own ports on 127.0.0.1), the benchmark's runs in one
PostgreSQL. Tasks run on both nodes; the second node is killed mid-run (every process it started) and no
finished result is lost, its task going to the head's worker.

The nodes are started as the benchmark starts its own local instance (`hybrid.bench.raynode`, which keeps a
loaded machine from aborting them), and torn down by killing every process each started; `ray stop` is never
used, as it would stop other users' clusters.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
import ray

from hybrid.bench.raynode import RayNode, start_node
from hybrid.bench.report import TaskResult
from hybrid.bench.runner import BenchOptions, run_benchmark
from hybrid.config import Settings
from tests.waits import scaled
from workflows.store import RunStore

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

START_SECONDS = 180.0  # idle: a node is up in well under 30 s
OBJECT_STORE_BYTES = 80 * 1024 * 1024  # Ray's least is 75 MiB; results are small
TASKS = 10  # the demo suite's first ten: API tasks of two steps


class Cluster:
    """A head and more nodes on 127.0.0.1, each in a directory of its own under `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.nodes: list[RayNode] = []

    @property
    def address(self) -> str:
        return self.nodes[0].address

    def start(self, name: str, resources: dict[str, float] | None = None) -> RayNode:
        """The head first, then nodes that join it."""
        node = start_node(
            self.root / name,
            cpus=1,
            object_store_bytes=OBJECT_STORE_BYTES,
            address=self.address if self.nodes else None,
            resources=resources,
            start_seconds=scaled(START_SECONDS),
        )
        self.nodes.append(node)
        return node

    def kill(self, node: RayNode) -> None:
        processes = _processes_of(node)
        self.nodes.remove(node)
        node.stop()
        assert not [p.pid for p in processes if _running(p)], "a process of the node outlived SIGKILL"

    def close(self) -> None:
        """Kill every node, the rest too where one outlives its kill."""
        if self.nodes:
            try:
                self.kill(self.nodes[-1])
            finally:
                self.close()


def _running(process: psutil.Process) -> bool:
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _processes_of(node: RayNode) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if any(str(node.log.parent) in part for part in process.info["cmdline"] or ()):
            found.append(process)
    return found


@pytest.fixture
def cluster(ray_environment: dict[str, str]) -> Iterator[Cluster]:
    root = Path(tempfile.mkdtemp(prefix="rc-", dir="/tmp"))  # short: Ray's socket paths must fit 107 bytes
    started = Cluster(root)
    try:
        yield started
    finally:
        started.close()
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.timeout(scaled(900))
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_two_nodes_run_the_tasks_and_a_killed_node_loses_no_finished_result(
    settings: Settings, cluster: Cluster
) -> None:
    head = cluster.start("head")
    second = cluster.start("second", resources={"second": 1})
    killed: list[TaskResult] = []  # the results the second node had given when it was killed
    given: list[TaskResult] = []
    killed_at: list[int] = []  # how many results had come in then

    def kill_the_second_node_mid_run(result: TaskResult) -> None:
        given.append(result)
        # A result of the head's, after one of the second's and before the last: its worker is idle, so the
        # second node's is busy with a task, and the node goes with every process on it.
        mid_run = result.node == head.node_id and len(given) < TASKS
        if not killed and mid_run and any(r.node == second.node_id for r in given):
            killed.extend(r for r in given if r.node == second.node_id)
            killed_at.append(len(given))
            cluster.kill(second)

    report = run_benchmark(
        settings,
        BenchOptions(
            model="reference", tasks=f"0-{TASKS - 1}", parallel=2, executor="ray", ray_address=cluster.address
        ),
        on_result=kill_the_second_node_mid_run,
    )
    assert not ray.is_initialized()  # the driver disconnected; the cluster is not its to stop
    assert killed, "the second node gave no result before the head's last: " + str(
        [(r.task_id, r.node) for r in given]
    )
    assert report.done() == set(range(TASKS)) and all(r.passed for r in report.results)
    assert {r.node for r in report.results} == {head.node_id, second.node_id}
    kept = {r.task_id: r.run_id for r in report.results}
    assert all(kept[r.task_id] == r.run_id for r in killed)  # what the lost node finished is kept
    after = [r for r in given[killed_at[0] :] if r.node == second.node_id]
    assert len(after) <= 1  # at most one, finished as the kill came
    runs = RunStore(settings.effective_database_url).list_runs(50)
    # The killed node's task, if it had begun, is the one run the report does not hold: it never finished, or
    # it finished as the node was killed, before its result came back (the task was run again on the head).
    assert set(kept.values()) <= {run.id for run in runs if run.status == "finished"}
    assert len(runs) - len(kept) <= 1
