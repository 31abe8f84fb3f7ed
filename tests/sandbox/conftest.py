"""Shared fixtures: one warm pool for the whole test run, a fresh session per test."""

from __future__ import annotations

from collections.abc import Iterator

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
