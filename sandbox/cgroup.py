"""One cgroup per kernel: memory and processes bounded for the kernel and everything it starts, together.

An address-space limit counts each process alone: three forked children of 1.7 GiB each held 4.9 GiB against
a 4 GiB limit. A cgroup counts them together, and the kernel cannot leave it (it has no rights over the
hierarchy). Made where the host can make one: as root, under the host's own cgroup, in cgroup v1's memory and
pids hierarchies or in cgroup v2. Elsewhere `KernelCgroup.make` returns None and the run header says that only
the per-process limits hold.
"""

from __future__ import annotations

import functools
import secrets
import shlex
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
PREFIX = "hybrid-kernel-"
MIB = 1024**2


@dataclass(frozen=True)
class KernelCgroup:
    """The cgroup (one directory per hierarchy) a kernel runs in; `memory_dir` holds its memory counters."""

    directories: tuple[Path, ...]
    memory_dir: Path
    version: int

    @classmethod
    def make(cls, memory: int, processes: int) -> KernelCgroup | None:
        """A new cgroup that lets its processes use `memory` bytes and run `processes` tasks in all, or None
        where this host cannot make one (not root, no writable hierarchy, controllers not delegated)."""
        name = f"{PREFIX}{secrets.token_hex(6)}"
        made: list[Path] = []
        try:
            if (CGROUP_ROOT / "cgroup.controllers").exists():
                directory = _own_cgroup(CGROUP_ROOT, None) / name
                directory.mkdir()
                made.append(directory)
                (directory / "memory.max").write_text(str(memory))
                with suppress(OSError):  # no swap accounting: nothing to bound
                    (directory / "memory.swap.max").write_text("0")
                (directory / "pids.max").write_text(str(processes))
                return cls((directory,), directory, 2)
            memory_dir = _own_cgroup(CGROUP_ROOT / "memory", "memory") / name
            memory_dir.mkdir()
            made.append(memory_dir)
            (memory_dir / "memory.limit_in_bytes").write_text(str(memory))
            with suppress(OSError):  # swap accounting may be off; then swap cannot be used past it either
                (memory_dir / "memory.memsw.limit_in_bytes").write_text(str(memory))
            pids_dir = _own_cgroup(CGROUP_ROOT / "pids", "pids") / name
            pids_dir.mkdir()
            made.append(pids_dir)
            (pids_dir / "pids.max").write_text(str(processes))
            return cls((memory_dir, pids_dir), memory_dir, 1)
        except (OSError, LookupError):
            for directory in reversed(made):
                with suppress(OSError):
                    directory.rmdir()
            return None

    def command(self, argv: list[str]) -> list[str]:
        """`argv` started inside the cgroup: it joins before its first instruction, and its children with
        it."""
        procs = " ".join(shlex.quote(str(directory / "cgroup.procs")) for directory in self.directories)
        script = f'for procs in {procs}; do echo $$ > "$procs" || exit 125; done; exec "$@"'
        return ["/bin/sh", "-c", script, "sh", *argv]

    def oom_kills(self) -> int:
        """How many of its processes the kernel's OOM killer has ended for breaking the memory limit."""
        name = "memory.events" if self.version == 2 else "memory.oom_control"
        with suppress(OSError):
            for line in (self.memory_dir / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        return 0

    def remove(self) -> None:
        """Remove the cgroup once its processes are gone (their ends may take a moment to be accounted)."""
        for directory in self.directories:
            for _ in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def sweep_left_behind(older_than: float = 60.0) -> None:
    """Remove the cgroups of kernels whose host was killed before it could (`remove` fails on any cgroup
    that still holds a process; a new one is spared for `older_than` seconds, until its kernel joins)."""
    with suppress(OSError, LookupError):
        roots = (
            [_own_cgroup(CGROUP_ROOT, None)]
            if (CGROUP_ROOT / "cgroup.controllers").exists()
            else [_own_cgroup(CGROUP_ROOT / "memory", "memory"), _own_cgroup(CGROUP_ROOT / "pids", "pids")]
        )
        now = time.time()
        for root in roots:
            for directory in root.glob(f"{PREFIX}*"):
                with suppress(OSError):
                    if now - directory.stat().st_ctime > older_than:
                        directory.rmdir()


@functools.cache
def cgroups_available() -> bool:
    """Whether kernels here get a cgroup (tried once per process)."""
    trial = KernelCgroup.make(64 * MIB, 8)
    if trial is None:
        return False
    trial.remove()
    return True


def _own_cgroup(mount: Path, controller: str | None) -> Path:
    """Where this process's cgroup is in the hierarchy mounted at `mount` (None: cgroup v2)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        if (controller is None and controllers == "") or (controller in controllers.split(",")):
            return mount / path.lstrip("/")
    raise LookupError(f"this process is in no {controller or 'v2'} cgroup")
