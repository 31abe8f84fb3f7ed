"""The warm pool: fresh, isolated sessions, concurrency without cross-talk, nothing left behind."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import psutil

from sandbox import ExecutionResult, HostFunction, KernelPool, Namespace


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


def test_close_ends_idle_kernels() -> None:
    before = kernel_pids()
    pool = KernelPool(size=1)
    deadline = time.monotonic() + 30
    while not kernel_pids() - before and time.monotonic() < deadline:
        time.sleep(0.05)
    started = kernel_pids() - before
    assert started
    pool.close()
    assert not started & kernel_pids()


def test_sessions_from_a_pool_restart_onto_pool_kernels(pool: KernelPool) -> None:
    with pool.acquire() as session:
        session.register("api", Namespace({"ping": HostFunction(lambda: "pong", writes=False)}))
        before = session.kernel_pid
        session.restart()
        assert session.kernel_pid != before
        assert session.execute("api.ping()").result == "'pong'"
