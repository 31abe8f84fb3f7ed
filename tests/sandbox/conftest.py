"""Shared fixtures: one warm pool for the whole test run, a fresh session per test."""

from __future__ import annotations

from collections.abc import Iterator

import psutil
import pytest

from sandbox import KernelPool, KernelSession


@pytest.fixture(scope="session")
def pool() -> Iterator[KernelPool]:
    with KernelPool(size=2) as pool:
        yield pool


@pytest.fixture
def session(pool: KernelPool) -> Iterator[KernelSession]:
    with pool.acquire(interrupt_grace=1.5) as session:
        yield session


def kernel_pids() -> set[int]:
    """The pids of this process's live kernel processes (zombies count as gone)."""
    pids = set()
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "ipykernel_launcher" in " ".join(child.cmdline()):
                pids.add(child.pid)
        except psutil.NoSuchProcess:
            continue
    return pids
