"""One cgroup per kernel: memory and processes bounded for the kernel and everything it starts, together.

An address-space limit counts each process alone: three forked children of 1.7 GiB each held 4.9 GiB against
a 4 GiB limit. A cgroup counts them together, and the kernel cannot leave it (it has no rights over the
hierarchy). Made where the host can make one (`make_bound`):
- `KernelCgroup`: under the host's own cgroup, in cgroup v1's memory and pids hierarchies or in cgroup v2,
  where the host may write there (root, or a cgroup v2 subtree delegated to the user with the memory and pids
  controllers on);
- `UserScope`: else a transient systemd scope of the user's own service manager (`systemd-run --user
  --scope`), where there is one (a desktop or SSH login with systemd), which delegates just that.
- `MemoryWatch`: elsewhere, the kernel and its processes measured together while code runs, and the largest
  ended past the limit: not a hard bound (between two measurements they may pass it by what they allocate in
  the meantime, each process within its address-space limit), and the run header says so.
"""

from __future__ import annotations

import functools
import os
import secrets
import shlex
import shutil
import subprocess
import time
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

import psutil

CGROUP_ROOT = Path("/sys/fs/cgroup")
PREFIX = "hybrid-kernel-"
MIB = 1024**2
# How often a `MemoryWatch` measures the kernel's processes while its code runs.
WATCH_SECONDS = 0.2


BoundKind = Literal["cgroup", "systemd user scope"]


class KernelBound(Protocol):
    """Memory and processes bounded for a kernel and its children together (a cgroup, however made)."""

    def command(self, argv: list[str]) -> list[str]:
        """`argv` started inside the bound, its children with it."""
        ...

    def started(self, pid: int) -> None:
        """Told the pid `command`'s process got."""
        ...

    def oom_kills(self) -> int:
        """How many of its processes the kernel's OOM killer has ended for breaking the memory limit."""
        ...

    def remove(self) -> None:
        """Undo what was made, once its processes are gone."""
        ...

    def enforce(self) -> None:
        """Bring the kernel back within the bound where nothing else does (called while its code runs)."""
        ...


def make_bound(memory: int, processes: int) -> KernelBound:
    """A bound of `memory` bytes and `processes` tasks for one kernel, made the first way this host allows
    (see `bound_kind`); where it allows none, a `MemoryWatch` of `memory` (processes are then capped per
    user namespace by `sandbox.limits`)."""
    made = KernelCgroup.make(memory, processes)
    if made is not None:
        return made
    if user_scopes_available():
        return UserScope(memory, processes)
    return MemoryWatch(memory)


@functools.cache
def bound_kind() -> BoundKind | None:
    """How kernels here are bounded as a whole (tried once per process), or None: only per process."""
    if cgroups_available():
        return "cgroup"
    if user_scopes_available():
        return "systemd user scope"
    return None


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
        name = f"{PREFIX}{os.getpid()}-{secrets.token_hex(6)}"  # its host named, for `sweep_left_behind`
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

    def started(self, pid: int) -> None:
        """Nothing to learn: the cgroup is known already."""

    def oom_kills(self) -> int:
        """How many of its processes the kernel's OOM killer has ended for breaking the memory limit."""
        return _oom_kills(self.memory_dir / ("memory.events" if self.version == 2 else "memory.oom_control"))

    def enforce(self) -> None:
        """Nothing to do: the kernel's OOM killer keeps the limit."""

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


class UserScope:
    """A transient scope of the user's systemd service manager, made by `systemd-run --user --scope` as the
    kernel starts: systemd makes its cgroup (v2), sets its limits and removes it when its processes are gone.
    A process the OOM killer ends there leaves the rest running (OOMPolicy=continue)."""

    def __init__(self, memory: int, processes: int) -> None:
        self.memory = memory
        self.processes = processes
        self._events: Path | None = None

    def command(self, argv: list[str]) -> list[str]:
        systemd_run = shutil.which("systemd-run")
        assert systemd_run is not None
        return [systemd_run, *_scope_options(self.memory, self.processes), "--", *argv]

    def started(self, pid: int) -> None:
        """Find the scope's cgroup from the process systemd-run became (it runs the command itself)."""
        with suppress(OSError, LookupError):
            self._events = _v2_mount() / _v2_path(Path(f"/proc/{pid}/cgroup")) / "memory.events"

    def oom_kills(self) -> int:
        return _oom_kills(self._events) if self._events is not None else 0

    def remove(self) -> None:
        """Nothing to do: systemd removes the scope (--collect) when its last process ends."""

    def enforce(self) -> None:
        """Nothing to do: the kernel's OOM killer keeps the limit."""


class MemoryWatch:
    """Where no cgroup can be made: the memory of the kernel and every process under it, measured together
    at each `enforce()`; past `memory`, the largest of them is ended (SIGKILL), as an OOM killer would, until
    they are within it. Each process counts its proportional set size (a page shared by a fork counted once
    across them) where /proc lets it be read, else its resident size (shared pages then counted in each)."""

    def __init__(self, memory: int) -> None:
        self.memory = memory
        self._root: psutil.Process | None = None
        self._ended: set[tuple[int, float]] = set()

    def command(self, argv: list[str]) -> list[str]:
        return argv

    def started(self, pid: int) -> None:
        # The Process object, not the pid: it refuses to signal a later process given the same pid.
        with suppress(psutil.Error):
            self._root = psutil.Process(pid)

    def oom_kills(self) -> int:
        """How many of the kernel's processes were ended for passing the memory limit."""
        return len(self._ended)

    def remove(self) -> None:
        """Nothing was made."""

    def enforce(self) -> None:
        if self._root is None:
            return
        sizes = {
            process: size
            for process, size in _memory_by_process(self._root).items()
            if (process.pid, process.create_time()) not in self._ended
        }
        while sizes and sum(sizes.values()) > self.memory:
            largest = max(sizes, key=sizes.__getitem__)
            del sizes[largest]
            with suppress(psutil.Error, OSError):
                largest.kill()
                self._ended.add((largest.pid, largest.create_time()))


def _memory_by_process(root: psutil.Process) -> dict[psutil.Process, int]:
    """Bytes of memory (see `MemoryWatch`) of `root` and every process under it that is still running;
    processes that end, or cannot be read, meanwhile are left out."""
    try:
        tree = [root, *root.children(recursive=True)]
    except psutil.Error:
        return {}
    sizes = {}
    for process in tree:
        with suppress(psutil.Error, OSError, ValueError):
            if process.status() != psutil.STATUS_ZOMBIE:
                sizes[process] = _proportional_size(process)
    return sizes


def _proportional_size(process: psutil.Process) -> int:
    """The process's proportional set size, from the kernel's one-line summary of its mappings (cheap to read,
    unlike every mapping's); its resident size where that cannot be read (another user's, in a namespace)."""
    try:
        for line in Path(f"/proc/{process.pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except OSError:  # unreadable, or a kernel older than 4.14
        pass
    return int(process.memory_info().rss)


def _scope_options(memory: int, processes: int) -> list[str]:
    properties = [f"MemoryMax={memory}", "MemorySwapMax=0", f"TasksMax={processes}", "OOMPolicy=continue"]
    return ["--user", "--scope", "--quiet", "--collect", *(f"--property={p}" for p in properties)]


@functools.cache
def user_scopes_available() -> bool:
    """Whether this user's systemd service manager makes scopes with a memory limit (tried once)."""
    systemd_run = shutil.which("systemd-run")
    if systemd_run is None:
        return False
    try:
        trial = subprocess.run(
            [systemd_run, *_scope_options(64 * MIB, 8), "--", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=20,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return trial.returncode == 0


def _oom_kills(events: Path) -> int:
    with suppress(OSError, ValueError):
        for line in events.read_text().splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill":
                return int(value)
    return 0


def _v2_mount() -> Path:
    """Where cgroup v2 is mounted: the cgroup root itself, or beside v1 in a hybrid layout."""
    for candidate in (CGROUP_ROOT, CGROUP_ROOT / "unified"):
        if (candidate / "cgroup.controllers").exists():  # a file of v2's only
            return candidate
    raise LookupError("cgroup v2 is not mounted")


def _v2_path(cgroup_file: Path) -> str:
    for line in cgroup_file.read_text().splitlines():
        number, controllers, path = line.split(":", 2)
        if number == "0" and controllers == "":
            return path.lstrip("/")
    raise LookupError(f"{cgroup_file} names no cgroup v2")


def sweep_left_behind(older_than: float = 60.0) -> list[Path]:
    """Remove the cgroups of kernels whose host was killed before it could: each is named after its host's
    pid, and goes as soon as that process is gone (`rmdir` fails on any cgroup that still holds a process).
    One named the older way, without a pid, is spared for `older_than` seconds, until its kernel joins.
    Returns the cgroups removed."""
    removed = []
    with suppress(OSError, LookupError):
        roots = (
            [_own_cgroup(CGROUP_ROOT, None)]
            if (CGROUP_ROOT / "cgroup.controllers").exists()
            else [_own_cgroup(CGROUP_ROOT / "memory", "memory"), _own_cgroup(CGROUP_ROOT / "pids", "pids")]
        )
        now = time.time()
        for root in roots:
            for directory in root.glob(f"{PREFIX}*"):
                owner = _owner(directory.name)
                with suppress(OSError):
                    if owner is not None and _alive(owner):
                        continue
                    if owner is None and now - directory.stat().st_ctime <= older_than:
                        continue
                    directory.rmdir()
                    removed.append(directory)
    return removed


def _owner(name: str) -> int | None:
    """The pid of the host that made the cgroup `name` (None: a name of the older kind, without one)."""
    pid, dash, _ = name.removeprefix(PREFIX).partition("-")
    return int(pid) if dash and pid.isdigit() else None


def _alive(pid: int) -> bool:
    """Whether process `pid` runs (a pid used again by another process since keeps its cgroups: only spared
    longer, never removed early)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
