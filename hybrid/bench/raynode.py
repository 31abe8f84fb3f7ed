"""A Ray node started with `ray start` on 127.0.0.1, in a session directory and process group of its own, and
stopped by ending every process it started (`ray stop` would stop every Ray instance on the machine).

Ray 2.60's raylet gives its dashboard agent a fixed 15 s (not configurable: agent_register_timeout_ms does
not apply to it) to write the file naming the port it listens on, and aborts the node after that
(ray-project/ray#65983). The agent needs about 2 s of CPU to import Ray, which on a machine at load ~15 is
more than 15 s of wall time. The agent's port is given on `ray start`'s command line here, so it is known:
the file is written for it (with Ray's own `persist_port`, as the agent writes it) as soon as the raylet
names its node, and the agent writes the same file once it is up. `ray start` itself waits a fixed 30 s for
its raylet to register and then gives up while the node goes on: the node is waited for in the cluster's
own table instead.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from sandbox.errors import HybridError

# On an idle machine a node is up in well under 30 s.
START_SECONDS = 180.0
# Workers start Python and import Ray before they register: minutes, on a loaded machine.
WORKER_REGISTER_SECONDS = 300
STOP_SECONDS = 30.0


class RayNodeError(HybridError):
    """A Ray node did not start (the message ends with the last lines of its log)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class RayNode:
    """A node of a Ray cluster on this machine; `address` is its cluster's (the head's GCS), `starter` its
    `ray start`, whose process group every process of the node but its workers is in."""

    address: str
    node_id: str
    starter: subprocess.Popen[bytes]
    log: Path
    began: float  # when its `ray start` began (psutil's time): a group id is a pid, and pids are reused
    stopped: bool = False

    @property
    def group(self) -> int:
        return self.starter.pid

    def stop(self) -> None:
        """End the node, once: its processes and every process descended from them (the raylet puts each
        worker in a group of its own), stopped first so none starts another, then killed."""
        if self.stopped:
            return  # its group's id may since name another's processes
        self.stopped = True
        seen: set[int] = set()
        while (tree := self.processes()) - seen:
            for pid in tree - seen:
                _signal(pid, signal.SIGSTOP)
            seen |= tree
        for pid in seen:
            _signal(pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self.starter.wait(timeout=STOP_SECONDS)
        deadline = time.monotonic() + STOP_SECONDS
        while any(_running(pid) for pid in seen) and time.monotonic() < deadline:
            time.sleep(0.05)

    def processes(self) -> set[int]:
        """The running processes of its `ray start`'s group and every process descended from one of them."""
        return _tree(self.group, self.began)

    def tail(self, lines: int = 5) -> str:
        """The last lines of its `ray start`'s output, on one line."""
        return " | ".join(self.log.read_text(errors="replace").strip().splitlines()[-lines:])


def start_node(
    temp_dir: Path,
    *,
    cpus: int,
    object_store_bytes: int,
    address: str | None = None,
    resources: dict[str, float] | None = None,
    start_seconds: float = START_SECONDS,
) -> RayNode:
    """Start a head node (no `address`) or a node joining the cluster at `address`, its session under
    `temp_dir` (keep the path short: Ray's socket paths must fit in 107 bytes); returns once the node is
    alive in the cluster's table. Raises `RayNodeError`, having stopped what was started, if it is not alive
    within `start_seconds`."""
    import ray

    head_port = free_port() if address is None else None
    cluster = address or f"127.0.0.1:{head_port}"
    agent_port = free_port()
    temp_dir.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).with_name("ray")),
        "start",
        *(["--head", f"--port={head_port}", "--include-dashboard=false"] if address is None else []),
        *([f"--address={address}"] if address is not None else []),
        "--node-ip-address=127.0.0.1",
        f"--num-cpus={cpus}",
        f"--object-store-memory={object_store_bytes}",
        f"--resources={json.dumps(resources or {})}",
        f"--temp-dir={temp_dir}",
        f"--dashboard-agent-listen-port={agent_port}",
        f"--dashboard-agent-grpc-port={free_port()}",
        f"--metrics-export-port={free_port()}",
        f"--runtime-env-agent-port={free_port()}",
        "--include-log-monitor=false",
        "--disable-usage-stats",
    ]
    environment = {
        **os.environ,
        "RAY_USAGE_STATS_ENABLED": "0",
        "RAY_worker_register_timeout_seconds": str(WORKER_REGISTER_SECONDS),
    }
    log = temp_dir / "ray-start.log"
    with log.open("wb") as out:
        starter = subprocess.Popen(
            command,
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    node = RayNode(cluster, "", starter, log, psutil.Process(starter.pid).create_time())
    deadline = time.monotonic() + start_seconds
    try:
        node.node_id = _write_agent_port(node, agent_port, deadline, ray)
        with suppress(subprocess.TimeoutExpired):
            starter.wait(timeout=max(0.0, deadline - time.monotonic()))
        _wait_alive(node, deadline, ray)
    except BaseException:
        node.stop()
        raise
    return node


def _write_agent_port(node: RayNode, port: int, deadline: float, ray: Any) -> str:
    """Once the node's raylet runs: its node id, with the dashboard agent's port file written."""
    while time.monotonic() < deadline:
        starter_ended = node.starter.poll() is not None
        for pid in node.processes():
            with suppress(psutil.Error):
                arguments = psutil.Process(pid).cmdline()
                if arguments and arguments[0].endswith("/raylet"):
                    flags = dict(re.findall(r"^--([a-z_]+)=(.*)$", "\n".join(arguments), re.MULTILINE))
                    ray._raylet.persist_port(
                        flags["session_dir"],
                        flags["node_id"],
                        ray._raylet.DASHBOARD_AGENT_LISTEN_PORT_NAME,
                        port,
                    )
                    return flags["node_id"]
        if starter_ended:
            raise RayNodeError(f"`ray start` ended before its raylet started: {node.tail()}")
        time.sleep(0.25)
    raise RayNodeError(f"No raylet started: {node.tail()}")


def _wait_alive(node: RayNode, deadline: float, ray: Any) -> None:
    while time.monotonic() < deadline:
        with suppress(RuntimeError, ConnectionError):
            info = ray._private.services.get_node(node.address, node.node_id)
            if info.get("state", "ALIVE") == "ALIVE":  # the default value, left out of the record
                return
        time.sleep(0.5)
    raise RayNodeError(f"Ray node {node.node_id} did not join its cluster: {node.tail()}")


def _tree(group: int, since: float) -> set[int]:
    """The running processes of `group` and every process descended from one of them, begun no earlier than
    `since` (a time as psutil gives it)."""
    parents: dict[int, int] = {}
    tree: set[int] = set()
    for process in psutil.process_iter(["ppid", "create_time", "status"]):
        if process.info["status"] == psutil.STATUS_ZOMBIE:
            continue
        if (process.info["create_time"] or 0) < since:
            continue
        parents[process.pid] = process.info["ppid"]
        with suppress(OSError):
            if os.getpgid(process.pid) == group:
                tree.add(process.pid)
    while more := {pid for pid, parent in parents.items() if parent in tree} - tree:
        tree |= more
    return tree


def _running(pid: int) -> bool:
    """Whether `pid` names a process that has not ended (a zombie has: it only waits for its parent)."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _signal(pid: int, number: signal.Signals) -> None:
    with suppress(ProcessLookupError):
        os.kill(pid, number)
