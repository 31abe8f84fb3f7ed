"""A host killed in the middle of an action leaves no kernel process behind."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.kernel

from sandbox import disk, scratch
from tests.waits import scaled

HOST = """
import time
import psutil
from sandbox import HostFunction, KernelPool

pool = KernelPool(size=1)
session = pool.acquire()
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    kernels = [p.pid for p in psutil.Process().children() if "ipykernel_launcher" in " ".join(p.cmdline())]
    if len(kernels) >= 2:  # the session's kernel and the pool's next one
        break
    time.sleep(0.05)
print(*kernels, flush=True)
session.register("busy", HostFunction(lambda: print("busy", flush=True), writes=False))
session.execute("busy()\\nwhile True:\\n    pass", timeout=600)
"""


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_killed_host_leaves_no_orphan_kernels(tmp_path: Path) -> None:
    # A killed host cannot remove its temporary directories; keep them in pytest's tmp_path.
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    host = subprocess.Popen([sys.executable, "-c", HOST], stdout=subprocess.PIPE, text=True, env=environment)
    kernels: list[int] = []
    try:
        assert host.stdout is not None
        kernels = [int(pid) for pid in host.stdout.readline().split()]
        assert len(kernels) == 2, "the host did not start its kernels"
        assert host.stdout.readline() == "busy\n", "the action never started"
        host.send_signal(signal.SIGKILL)
        host.wait(timeout=10)
        deadline = time.monotonic() + scaled(15)
        while any(alive(pid) for pid in kernels) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in kernels if alive(pid)]
    finally:
        host.kill()
        host.wait(timeout=10)
        for pid in kernels:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        scratch.sweep_dead_hosts(tmp_path)  # and its kernels' bounded filesystems (see sandbox.disk)


def test_a_later_host_with_another_tmpdir_sweeps_what_a_killed_host_left() -> None:
    # Short names: socket paths are limited to 107 bytes.
    first, second = Path(tempfile.mkdtemp(prefix="o1-")), Path(tempfile.mkdtemp(prefix="o2-"))
    host = subprocess.Popen(
        [sys.executable, "-c", HOST],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "TMPDIR": str(first)},
    )
    kernels: list[int] = []
    try:
        assert host.stdout is not None
        kernels = [int(pid) for pid in host.stdout.readline().split()]
        assert host.stdout.readline() == "busy\n", "the action never started"
        left = list(first.glob(f"{scratch.PREFIX}*"))
        assert left, "the host made no directory"
        host.send_signal(signal.SIGKILL)
        host.wait(timeout=10)
        # A later host, in another TMPDIR, sweeps on its first use of its own.
        later = "from sandbox import scratch; scratch.host_directory()"
        environment = {**os.environ, "TMPDIR": str(second)}
        subprocess.run([sys.executable, "-c", later], env=environment, check=True, timeout=60)
        assert list(first.glob(f"{scratch.PREFIX}*")) == []
        assert disk.mounts_under(first) == []  # its kernels' size-bounded filesystems (as root) too
    finally:
        host.kill()
        host.wait(timeout=10)
        for pid in kernels:
            if alive(pid):
                os.kill(pid, signal.SIGKILL)
        scratch.sweep_dead_hosts(first)
        shutil.rmtree(first, ignore_errors=True)
        shutil.rmtree(second, ignore_errors=True)
