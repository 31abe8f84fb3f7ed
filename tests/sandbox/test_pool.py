"""The warm pool: fresh, isolated sessions, concurrency without cross-talk, nothing left behind."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import psutil
import pytest

import sandbox.pool as pools
from sandbox import ExecutionResult, HostFunction, KernelPool, Namespace
from sandbox.kernel import Kernel

pytestmark = pytest.mark.kernel


def kernel_pids() -> set[int]:
    """This process's live kernel processes (zombies count as gone)."""
    pids = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "ipykernel_launcher" in " ".join(child.cmdline()):
                pids.add(child.pid)
        except psutil.NoSuchProcess:
            continue
    return pids


def test_each_session_gets_a_fresh_kernel(pool: KernelPool) -> None:
    with pool.acquire() as first, pool.acquire() as second:
        first.execute("x = 1")
        assert second.execute("x").error is not None
        assert first.kernel_pid != second.kernel_pid


def test_four_concurrent_sessions_do_not_cross_talk(pool: KernelPool) -> None:
    def run(label: str) -> tuple[list[ExecutionResult], str]:
        with pool.acquire() as session:
            session.register("me", HostFunction(lambda: label, writes=False))
            results = [
                session.execute(
                    f"mine = me()\nimport time\ntime.sleep(0.2)\nprint(mine, '{label}')\nfinish(mine)"
                )
                for _ in range(3)
            ]
            return results, label

    with ThreadPoolExecutor(4) as workers:
        outcomes = list(workers.map(run, ["s0", "s1", "s2", "s3"]))
    for results, label in outcomes:
        for result in results:
            assert result.stdout == f"{label} {label}\n"
            assert result.answer == label
            assert [(call.capability, call.status) for call in result.calls] == [
                ("me", "ok"),
                ("finish", "ok"),
            ]


@pytest.fixture
def kernels_started(monkeypatch: pytest.MonkeyPatch) -> list[tuple[threading.Thread, Kernel]]:
    """Every kernel a pool starts from now on, with the thread that asked for it (the session-wide pool's
    filler may start some too)."""
    started: list[tuple[threading.Thread, Kernel]] = []
    start = pools.start_kernel

    def recorded(limits):
        kernel = start(limits)
        started.append((threading.current_thread(), kernel))
        return kernel

    monkeypatch.setattr(pools, "start_kernel", recorded)
    return started


def test_close_ends_idle_kernels(kernels_started) -> None:
    others = set(threading.enumerate())
    pool = KernelPool(size=1)
    deadline = time.monotonic() + 30
    while not (mine := [kernel for thread, kernel in kernels_started if thread not in others]):
        assert time.monotonic() < deadline, "the pool started no kernel"
        time.sleep(0.05)
    pool.close()
    assert not {kernel.pid for kernel in mine} & kernel_pids()


def test_sessions_from_a_pool_restart_onto_pool_kernels(pool: KernelPool) -> None:
    with pool.acquire() as session:
        session.register("api", Namespace({"ping": HostFunction(lambda: "pong", writes=False)}))
        before = session.kernel_pid
        session.restart()
        assert session.kernel_pid != before
        assert session.execute("api.ping()").result == "'pong'"


def test_a_session_from_a_pool_just_opened_takes_the_kernel_the_pool_is_starting(kernels_started) -> None:
    others = set(threading.enumerate())
    pool = KernelPool(
        size=1, refill=False
    )  # as a one-run command keeps it: no spare once the kernel is taken
    try:
        with pool.acquire() as session:
            assert session.execute("1 + 1").result == "2"
            used = session.kernel_pid
    finally:
        pool.close()
    mine = [kernel.pid for thread, kernel in kernels_started if thread not in others]
    assert mine == [used]


def test_closing_a_pool_leaves_the_sessions_it_gave_running() -> None:
    own = KernelPool(size=1, refill=False)
    try:
        session = own.acquire()
        session.execute("x = 41")
        pid = session.kernel_pid
    finally:
        own.close()
    with session:
        result = session.execute("x + 1")
        assert (result.result, result.error) == ("42", None)
        assert session.kernel_pid == pid
