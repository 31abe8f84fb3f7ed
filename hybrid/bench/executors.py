"""Where a benchmark's workers run: in this process, in worker processes, or as actors on a Ray cluster.

Each executor yields results as tasks finish, in any order. Parallel workers are processes (not
threads) because every worker serves its own site and drives its own agent: the host-side work of
each needs a core of its own, as its kernels do.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
import tempfile
from collections import deque
from collections.abc import Iterator
from multiprocessing.util import Finalize
from pathlib import Path
from typing import Any, Literal, Protocol

from hybrid.bench.raynode import RayNode, start_node
from hybrid.bench.report import TaskResult
from hybrid.bench.worker import BenchTask, Worker, WorkerConfig
from sandbox.errors import HybridError

ExecutorKind = Literal["local", "ray"]
# A Ray instance started here: no dashboard, a small object store (results are small), no usage report.
LOCAL_RAY_OBJECT_STORE_BYTES = 128 * 1024 * 1024
ACTOR_CLOSE_SECONDS = 30
ACTOR_PREFIX = "hybrid-bench-worker-"  # named, so an operator can find (or stop) one with ray.get_actor


class ExecutorError(HybridError):
    """The executor cannot start; the message says what to install or configure."""


class Executor(Protocol):
    def results(self, tasks: list[BenchTask]) -> Iterator[TaskResult]:
        """Run every task; yield each result as soon as it is judged."""
        ...

    def close(self) -> None:
        """Stop the workers (at once, if tasks are still running)."""
        ...


class InProcess:
    """One worker in this process: the simplest to debug, and what `--parallel 1` uses."""

    def __init__(self, config: WorkerConfig) -> None:
        self.worker = Worker(config, "main")

    def results(self, tasks: list[BenchTask]) -> Iterator[TaskResult]:
        for task in tasks:
            yield self.worker.run(task)

    def close(self) -> None:
        self.worker.close()


_process_worker: Worker | None = None


def _start_process_worker(config: WorkerConfig) -> None:
    global _process_worker
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle: it ends the workers
    _process_worker = Worker(config, f"process-{os.getpid()}")
    Finalize(_process_worker, _process_worker.close, exitpriority=10)


def _run_in_process_worker(task: BenchTask) -> TaskResult:
    assert _process_worker is not None, "the pool's initializer starts the worker"
    return _process_worker.run(task)


class Processes:
    """`parallel` worker processes, each with its own sites, data dir and kernels."""

    def __init__(self, config: WorkerConfig, parallel: int) -> None:
        # spawn, not fork: the parent has threads (the progress display, the database pool).
        self.pool = multiprocessing.get_context("spawn").Pool(
            parallel, initializer=_start_process_worker, initargs=(config,)
        )
        self._finished = False

    def results(self, tasks: list[BenchTask]) -> Iterator[TaskResult]:
        yield from self.pool.imap_unordered(_run_in_process_worker, tasks)
        self._finished = True

    def close(self) -> None:
        if self._finished:
            self.pool.close()
        else:
            self.pool.terminate()  # interrupted: the workers' kernels go with them
        self.pool.join()


class RayCluster:
    """`parallel` Ray actors, each a worker. Without an address, a local Ray instance is started and
    stopped here; with one (`ray://host:10001` or `auto`), the tasks spread over that cluster."""

    def __init__(self, config: WorkerConfig, parallel: int, address: str | None) -> None:
        try:
            import ray
        except ImportError as exc:
            raise ExecutorError(
                "--executor ray needs Ray: .venv/bin/pip install 'hybrid-agent[ray]'"
            ) from exc
        self._ray = ray
        self._owns_instance = address is None
        self._temp_dir: str | None = None
        self._node: RayNode | None = None
        if self._owns_instance:
            os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
            self._start_local(parallel)
        else:
            ray.init(address=address, log_to_driver=False, configure_logging=False)
        # SPREAD: workers go to different nodes while there are nodes free, so a lost node costs fewer of
        # them.
        remote_worker: Any = ray.remote(num_cpus=1, scheduling_strategy="SPREAD")(Worker)
        self.actors: list[Any] = []
        self._finished = False
        try:
            for index in range(parallel):
                named = remote_worker.options(name=f"{ACTOR_PREFIX}{index}")
                self.actors.append(named.remote(config, f"ray-{index}"))
        except BaseException:
            self.close()
            raise

    def _start_local(self, parallel: int) -> None:
        """A Ray instance of this benchmark's own: a head node in a directory of its own (see
        `hybrid.bench.raynode`, which starts it so that a loaded machine does not abort it), joined by
        address, since without one Ray joins any instance `ray start` left on this machine (or RAY_ADDRESS
        names)."""
        self._temp_dir = tempfile.mkdtemp(prefix="hybrid-ray-", dir="/tmp")  # short: socket paths
        try:
            self._node = start_node(
                Path(self._temp_dir), cpus=parallel, object_store_bytes=LOCAL_RAY_OBJECT_STORE_BYTES
            )
            self._ray.init(address=self._node.address, log_to_driver=False, configure_logging=False)
        except BaseException as exc:
            self._stop_local()
            if not isinstance(exc, Exception):
                raise  # Ctrl-C while it started
            raise ExecutorError(
                f"The local Ray instance did not start ({exc}); start one with `ray start --head` and "
                "pass --ray-address auto."
            ) from exc

    def _stop_local(self) -> None:
        """Disconnect, then end the local instance's every process and remove its directory."""
        self._ray.shutdown()
        if self._node is not None:
            self._node.stop()
            self._node = None
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def results(self, tasks: list[BenchTask]) -> Iterator[TaskResult]:
        """Each task to an idle worker; a worker lost with its node (or its process) is dropped and the task
        it was running goes to another: finished results are never lost, unfinished tasks are rerun."""
        queue, idle = deque(tasks), list(self.actors)
        running: dict[Any, tuple[Any, BenchTask]] = {}
        while queue or running:
            while queue and idle:
                actor, task = idle.pop(), queue.popleft()
                running[actor.run.remote(task)] = (actor, task)
            if not running:
                raise ExecutorError(
                    "Every Ray worker was lost (their nodes or processes ended); the report keeps the tasks "
                    "that finished: run the same command with --resume for the rest."
                )
            [done], _ = self._ray.wait(list(running), num_returns=1)
            actor, task = running.pop(done)
            try:
                result = self._ray.get(done)
            except self._ray.exceptions.RayActorError:
                self.actors.remove(actor)
                queue.appendleft(task)
                continue
            idle.append(actor)
            yield result
        self._finished = True

    def close(self) -> None:
        try:
            if self._finished:  # let each worker stop its sites; interrupted ones are killed as they are
                closing = [actor.close.remote() for actor in self.actors]
                for ref in closing:
                    try:
                        self._ray.get(ref, timeout=ACTOR_CLOSE_SECONDS)
                    except (self._ray.exceptions.RayActorError, self._ray.exceptions.GetTimeoutError):
                        pass  # lost with its node after its last task (every result is in): nothing to stop
            for actor in self.actors:
                self._ray.kill(actor)  # ends its process, its site and its kernels
        finally:
            if self._owns_instance:
                self._stop_local()
            else:
                self._ray.shutdown()  # on a cluster, only disconnects this driver


def make_executor(
    kind: ExecutorKind, config: WorkerConfig, parallel: int, address: str | None = None
) -> Executor:
    if kind == "ray":
        return RayCluster(config, parallel, address)
    if address is not None:
        raise ExecutorError("--ray-address is for --executor ray.")
    return InProcess(config) if parallel == 1 else Processes(config, parallel)
