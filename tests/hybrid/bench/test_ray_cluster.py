"""`--executor ray --ray-address` on a real two-node Ray cluster started here: a head and a second node, each
its own `ray start` process (own session dir, own ports on 127.0.0.1), the benchmark's runs in one
PostgreSQL. Tasks run on both nodes; the second node is killed mid-run (every process it started) and no
finished result is lost, its task going to the head's worker.

Ray's raylet gives its dashboard agent a fixed 15 s (not configurable in Ray 2.60: agent_register_timeout_ms
does not apply to it) to write the port file it listens on, and aborts after that. The agent needs about 2 s
of CPU to import Ray; on a machine at load ~20 that is 12-20 s of wall time, so nodes fail to start. The
agent's listen port is given on the command line, and the fixture writes that port file (with Ray's own
`persist_port`, as the agent will) as soon as the raylet names its node: the raylet goes on, and the agent
writes the same file when it is up. Every other wait is scaled for the load (tests/waits.py).

Each node is torn down by killing its process group and every process descended from it (the raylet puts
each worker in a group of its own); `ray stop` is never used, as it would stop other users' clusters.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import ray

from hybrid.bench.report import TaskResult
from hybrid.bench.runner import BenchOptions, run_benchmark
from hybrid.config import Settings
from tests.waits import scaled
from workflows.store import RunStore

pytestmark = [pytest.mark.kernel, pytest.mark.slow]

RAY = Path(sys.executable).parent / "ray"
REGISTER_TIMEOUT = {"RAY_worker_register_timeout_seconds": str(int(scaled(120)))}
START_SECONDS = 120.0  # idle: a node is up in well under 30 s
OBJECT_STORE_BYTES = 80 * 1024 * 1024  # Ray's least is 75 MiB; results are small
TASKS = 10  # the demo suite's first ten: API tasks of two steps


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _processes() -> dict[int, tuple[int, int]]:
    """pid -> (parent pid, process group) of every process now."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue  # it ended
            found[int(entry.name)] = (int(fields[1]), int(fields[2]))
    return found


def _tree(group: int) -> set[int]:
    """The processes of `group` and every process descended from one of them."""
    processes = _processes()
    tree = {pid for pid, (_, pgid) in processes.items() if pgid == group}
    while more := {pid for pid, (ppid, _) in processes.items() if ppid in tree} - tree:
        tree |= more
    return tree


def _kill_tree(group: int) -> None:
    """Stop the group and its descendants (so none starts another), then kill them all and wait."""
    seen: set[int] = set()
    while (tree := _tree(group)) - seen:
        for pid in tree - seen:
            _signal(pid, signal.SIGSTOP)
        seen |= tree
    for pid in seen:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + scaled(30)
    while (left := seen & set(_processes())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not left, f"processes {sorted(left)} outlived SIGKILL"


def _signal(pid: int, number: signal.Signals) -> None:
    try:
        os.kill(pid, number)
    except ProcessLookupError:
        pass


@dataclass
class Node:
    group: int  # its `ray start`'s process group, which every process of the node but its workers is in
    node_id: str
    log: Path


class Cluster:
    """A head and more nodes on 127.0.0.1, each started by `ray start` in a process group of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.nodes: list[Node] = []

    def start(self, name: str, head: bool = False, resources: dict[str, float] | None = None) -> Node:
        listen_port = _free_port()
        command = [
            str(RAY),
            "start",
            *(["--head", f"--port={self.port}", "--include-dashboard=false"] if head else []),
            *([] if head else [f"--address={self.address}"]),
            "--node-ip-address=127.0.0.1",
            "--num-cpus=1",
            f"--object-store-memory={OBJECT_STORE_BYTES}",
            f"--resources={json.dumps(resources or {})}",
            f"--temp-dir={self.root / name}",
            f"--dashboard-agent-listen-port={listen_port}",
            f"--dashboard-agent-grpc-port={_free_port()}",
            f"--metrics-export-port={_free_port()}",
            f"--runtime-env-agent-port={_free_port()}",
            "--include-log-monitor=false",
            "--disable-usage-stats",
        ]
        log = self.root / f"{name}.log"
        with log.open("wb") as out:
            starter = subprocess.Popen(
                command,
                env=os.environ | REGISTER_TIMEOUT,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        node = Node(starter.pid, "", log)
        self.nodes.append(node)
        node.node_id = self._agent_port_written(node, listen_port)
        try:
            starter.wait(timeout=scaled(START_SECONDS))
        except subprocess.TimeoutExpired:
            pytest.fail(f"`ray start` for the {name} node did not end: {self._tail(node)}")
        # `ray start` waits a fixed 30 s for its raylet to register; a loaded machine may need longer, and
        # the node's processes go on without it.
        self._wait_alive(node)
        return node

    def _agent_port_written(self, node: Node, port: int) -> str:
        """Once the node's raylet runs: its node id, with the dashboard agent's port file written."""
        deadline = time.monotonic() + scaled(START_SECONDS)
        while time.monotonic() < deadline:
            for pid in _tree(node.group):
                try:
                    arguments = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
                except OSError:
                    continue
                if not arguments[0].endswith("/raylet"):
                    continue
                flags = dict(re.findall(r"^--([a-z_]+)=(.*)$", "\n".join(arguments), re.MULTILINE))
                ray._raylet.persist_port(
                    flags["session_dir"], flags["node_id"], ray._raylet.DASHBOARD_AGENT_LISTEN_PORT_NAME, port
                )
                return flags["node_id"]
            time.sleep(0.05)
        pytest.fail(f"no raylet started: {self._tail(node)}")

    def _wait_alive(self, node: Node) -> None:
        deadline = time.monotonic() + scaled(START_SECONDS)
        while time.monotonic() < deadline:
            try:
                info = ray._private.services.get_node(self.address, node.node_id)
                if info.get("state", "ALIVE") == "ALIVE":  # the default value, left out of the record
                    return
            except (RuntimeError, ConnectionError):
                pass
            time.sleep(0.5)
        pytest.fail(f"node {node.node_id} did not join the cluster: {self._tail(node)}")

    @staticmethod
    def _tail(node: Node) -> str:
        return " | ".join(node.log.read_text(errors="replace").strip().splitlines()[-5:])

    def kill(self, node: Node) -> None:
        _kill_tree(node.group)
        self.nodes.remove(node)

    def close(self) -> None:
        for node in list(reversed(self.nodes)):
            self.kill(node)


@pytest.fixture
def cluster(monkeypatch: pytest.MonkeyPatch, ray_environment: dict[str, str]) -> Iterator[Cluster]:
    for name, value in REGISTER_TIMEOUT.items():
        monkeypatch.setenv(name, value)  # the benchmark's driver connects with the same settings
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
    head = cluster.start("head", head=True)
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
