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

from sandbox import cgroup, disk, scratch
from tests.waits import scaled

HOST = """
import time
import psutil
from sandbox import HostFunction, KernelPool

def command(process):
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # ended meanwhile (a short-lived helper of a kernel's start)
        return ""

pool = KernelPool(size=1)
session = pool.acquire()
deadline = time.monotonic() + 30
while time.monotonic() < deadline:
    kernels = [p.pid for p in psutil.Process().children() if "ipykernel_launcher" in command(p)]
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


CGROUP_HOST = """
import time
from sandbox import KernelSession
session = KernelSession()
print(*session._live_kernel().cgroup.directories, flush=True)
time.sleep(600)
"""


def test_the_cgroups_of_a_killed_host_go_with_it_however_young(tmp_path: Path) -> None:
    """A sweep removes a killed host's kernel cgroups as soon as the host is gone (its pid is in their names),
    not a minute later; a live host's are kept."""
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    hosts = [
        subprocess.Popen(
            [sys.executable, "-c", CGROUP_HOST], stdout=subprocess.PIPE, text=True, env=environment
        )
        for _ in range(2)
    ]
    made: list[list[Path]] = []
    try:
        for host in hosts:
            assert host.stdout is not None
            made.append([Path(directory) for directory in host.stdout.readline().split()])
        assert all(made) and all(directory.is_dir() for directories in made for directory in directories)
        hosts[0].send_signal(signal.SIGKILL)
        hosts[0].wait(timeout=10)
        deadline = time.monotonic() + 30  # its kernel ends with it; its cgroup is empty once it has
        while any(directory.exists() for directory in made[0]) and time.monotonic() < deadline:
            cgroup.sweep_left_behind()
            time.sleep(0.2)
        assert not [directory for directory in made[0] if directory.exists()]
        assert all(directory.is_dir() for directory in made[1])  # its host lives
    finally:
        for host in hosts:
            host.kill()
            host.wait(timeout=10)
        scratch.sweep_dead_hosts(tmp_path)
        deadline = time.monotonic() + 15
        while (
            cgroup.sweep_left_behind()
            or time.monotonic() < deadline
            and any(directory.exists() for directories in made for directory in directories)
        ):
            time.sleep(0.2)


EXITING_HOST = """
from sandbox import disk, scratch
kernel_dir = scratch.new_path("k-")
kernel_dir.mkdir()
assert disk.bound(kernel_dir, 1024 * 1024, 64)
print(scratch.host_directory(), flush=True)
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="only a root host mounts in its own mount namespace")
def test_a_host_ending_with_a_kernels_filesystem_still_mounted_releases_it(tmp_path: Path) -> None:
    """A root host's bounded filesystems outlive it unless released: one its kernel did not release is
    unmounted as the host ends normally, and its directory goes."""
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    ended = subprocess.run(
        [sys.executable, "-c", EXITING_HOST],
        env=environment,
        capture_output=True,
        text=True,
        timeout=scaled(60),
        check=True,
    )
    host = Path(ended.stdout.strip())
    assert host.parent == tmp_path
    assert disk.mounts_under(host) == []
    assert not host.exists()
