"""Kernels started ahead of time, so a session starts in milliseconds instead of half a second."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from types import TracebackType
from typing import Any, Self

from sandbox.bridge import Policy
from sandbox.kernel import Kernel
from sandbox.limits import KernelLimits
from sandbox.session import KernelSession

log = logging.getLogger(__name__)
RETRY_SECONDS = 1.0
LAUNCHERS = 8  # kernels being started at once, over every pool of the process
LAUNCHER_PREFIX = "kernel-launcher"


@cache
def _launcher() -> ThreadPoolExecutor:
    """Threads that live as long as the process. An isolated kernel ends when the thread that started it
    does (bubblewrap's --die-with-parent is the kernel's parent-death signal, which Linux sends when the
    forking *thread* exits), so kernels must not be started on a pool's filler thread, which ends when the
    pool closes, nor on a caller's thread, which may end before the session it was given."""
    return ThreadPoolExecutor(max_workers=LAUNCHERS, thread_name_prefix=LAUNCHER_PREFIX)


def start_kernel(limits: KernelLimits) -> Kernel:
    """A new kernel, started on a thread that outlives whoever asked for it (see `_launcher`)."""
    return _launcher().submit(Kernel.start, limits).result()


class KernelPool:
    """Keeps `size` idle kernels ready. Every session gets fresh kernels; none is ever reused.

    >>> with KernelPool(size=2) as pool:
    ...     with pool.acquire(policy=Policy(mode="read-only")) as session:
    ...         session.execute("x = 1")
    """

    def __init__(self, size: int = 2, limits: KernelLimits | None = None, *, refill: bool = True) -> None:
        """Starts `size` kernels in the background now. With `refill`, each kernel taken is replaced;
        without, the pool only gets a process's first sessions going early (a one-run command, whose
        later kernels are started when needed). Raises `IsolationUnavailable` if kernels cannot be
        isolated as `limits.isolation` asks."""
        if size < 1:
            raise ValueError(f"a kernel pool needs a size of at least 1, not {size}")
        self.size = size
        self.limits = limits or KernelLimits()
        self.limits.isolation.check()  # say so now, not in the filler thread's log
        self._refill = refill
        self._ready: queue.SimpleQueue[Kernel] = queue.SimpleQueue()
        # Guards the counts below; notified when a kernel is wanted, ready, or the pool closes.
        self._wanted = threading.Condition()
        self._started = 0  # by the filler, ever
        self._starting = 0  # by the filler, right now
        self._waiting = 0  # takers waiting for a kernel the filler is starting
        self._closed = False
        self._filler = threading.Thread(target=self._fill, name="kernel-pool", daemon=True)
        self._filler.start()

    def acquire(
        self, *, policy: Policy | None = None, secrets: Iterable[str] = (), **options: Any
    ) -> KernelSession:
        """A session on a warm kernel; its restarts take warm kernels too. Options as for `KernelSession`."""
        return KernelSession(
            limits=self.limits, policy=policy, secrets=secrets, kernels=self.take_kernel, **options
        )

    def take_kernel(self) -> Kernel:
        """A ready kernel; else the one the filler is starting, if no other taker waits for it; else a
        newly started one (so a pool that has just opened never starts two kernels for one session)."""
        if self._closed:
            raise RuntimeError("this kernel pool is closed")
        with self._wanted:
            if self._ready.empty() and self._starting > self._waiting:
                self._waiting += 1
                try:
                    self._wanted.wait_for(
                        lambda: not self._ready.empty() or not self._starting or self._closed
                    )
                finally:
                    self._waiting -= 1
        while True:
            try:
                kernel = self._ready.get_nowait()
            except queue.Empty:
                return start_kernel(self.limits)
            finally:
                with self._wanted:
                    self._wanted.notify_all()  # the filler replaces what was taken
            if kernel.alive():
                return kernel
            kernel.kill()

    def close(self) -> None:
        """Stop refilling and end every idle kernel. Sessions already acquired are not affected."""
        with self._wanted:
            self._closed = True
            self._wanted.notify_all()
        self._filler.join()
        while True:
            try:
                self._ready.get_nowait().kill()
            except queue.Empty:
                return

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def _fill(self) -> None:
        while True:
            with self._wanted:
                self._wanted.wait_for(
                    lambda: (
                        self._closed
                        or (self._ready.qsize() < self.size and (self._refill or self._started < self.size))
                    )
                )
                if self._closed:
                    return
                self._starting += 1
            try:
                kernel = start_kernel(self.limits)
            except Exception:
                log.exception("the kernel pool could not start a kernel; retrying in %s s", RETRY_SECONDS)
                with self._wanted:
                    self._starting -= 1
                    self._wanted.notify_all()  # a taker waiting for this kernel starts its own
                    self._wanted.wait_for(lambda: self._closed, timeout=RETRY_SECONDS)
                continue
            with self._wanted:
                self._ready.put(
                    kernel
                )  # if the pool closed meanwhile, close() ends it after joining this thread
                self._started += 1
                self._starting -= 1
                self._wanted.notify_all()
