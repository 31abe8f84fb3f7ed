"""What a kernel may use: memory, CPU time, open files, processes, a working directory, its environment
and how it is isolated from the host."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.cgroup import WATCH_SECONDS, bound_kind
from sandbox.isolation import Isolation

GIB = 1024**3
MIB = 1024**2
SECRET_LOOKING_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.IGNORECASE)


@dataclass(frozen=True)
class KernelLimits:
    """Resource limits and environment for kernels; None means no limit.

    - `address_space`: bytes of virtual memory per process; an allocation past it raises MemoryError in the
      kernel. Where the kernel as a whole cannot be bounded (no cgroup: see `sandbox.cgroup`), no larger
      than `isolation.memory` either (`memory_per_process`).
    - `cpu_seconds`: CPU time over the kernel's whole life; past it the kernel is killed and restarted.
    - `open_files`: file descriptors, counting the kernel's own sockets (about 30).
    - `working_dir`: where code runs, shared by every kernel with these limits; default: a fresh
      directory per session, removed after. (A host running as root gives it to the kernels' user.)
    - `environment`: names of host variables passed on. Nothing else is; names that look like
      secrets are refused, because secrets never enter the kernel.
    - `isolation`: the kernel's walls (namespaces, network, /tmp size, processes, file size).
    """

    address_space: int | None = 4 * GIB
    cpu_seconds: int | None = 3600
    open_files: int | None = 512
    working_dir: Path | None = None
    environment: tuple[str, ...] = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")
    isolation: Isolation = field(default_factory=Isolation)

    def __post_init__(self) -> None:
        risky = [name for name in self.environment if SECRET_LOOKING_NAME.search(name)]
        if risky:
            raise ValueError(
                f"{', '.join(risky)} look like secrets and cannot be passed to the kernel; "
                "give the host the secret and a capability that uses it instead"
            )

    def kernel_environment(self, home: Path, host: Mapping[str, str] | None = None) -> dict[str, str]:
        """The kernel's whole environment: allowlisted host variables plus a private home."""
        host = os.environ if host is None else host
        environment = {name: host[name] for name in self.environment if name in host}
        environment.update(
            HOME=str(home),
            IPYTHONDIR=str(home / ".ipython"),
            MPLBACKEND="module://matplotlib_inline.backend_inline",
            # glibc reserves address space per thread arena; without a cap the kernel's own threads
            # eat much of an address-space limit before user code allocates anything.
            MALLOC_ARENA_MAX="2",
            PYTHONDONTWRITEBYTECODE="1",
        )
        return environment

    def memory_per_process(self) -> int | None:
        """The address space each of the kernel's processes may reserve: `address_space`, and where nothing
        bounds the kernel as a whole, no more than the memory meant for all of it."""
        whole = None if bound_kind() is not None else self.isolation.memory
        limits = [limit for limit in (self.address_space, whole) if limit is not None]
        return min(limits) if limits else None

    def describe(self) -> str:
        """One line for run headers, e.g. 'bubblewrap, no network, 4 GiB of memory for the kernel ...'."""
        return f"{self.isolation.describe_walls()}, {self.describe_memory()}"

    def describe_memory(self) -> str:
        """What bounds the memory of the kernel and its children, honestly: a cgroup's limit for all of them
        together, else a measurement of all of them together while code runs (`sandbox.cgroup.MemoryWatch`)
        beside the per-process limit."""
        isolation = self.isolation
        kind = bound_kind()
        together = "of memory for the kernel and all its processes together"
        if isolation.memory is not None and kind is not None:
            return f"{_amount(isolation.memory)} {together} ({kind})"
        per_process = self.memory_per_process()
        if per_process is None:
            return "no memory limit"
        if isolation.memory is None:
            return (
                f"{_amount(per_process)} of address space per process, and nothing for the kernel as a whole"
            )
        files = (
            f", and up to {_amount(isolation.memory_filesystems())} of in-memory files"
            if isolation.isolated
            else ""
        )
        return (
            f"{_amount(isolation.memory)} {together}, measured every {WATCH_SECONDS:g} s while code runs "
            f"(this host makes no cgroup: between measurements, each process may reach "
            f"{_amount(per_process)}){files}"
        )

    def command(self, argv: list[str]) -> list[str]:
        """`argv` run under these limits, set before its first instruction (and inherited by its children)."""
        prlimit = shutil.which("prlimit")
        if prlimit is None:
            raise RuntimeError(
                "prlimit (from util-linux) is needed to limit kernels and was not found on PATH"
            )
        options = []
        per_process = self.memory_per_process()
        if per_process is not None:
            options.append(f"--as={per_process}")
        if self.cpu_seconds is not None:
            # A second between soft and hard limit, so the kernel ends by SIGXCPU (which says why)
            # rather than by the SIGKILL that the hard limit sends.
            options.append(f"--cpu={self.cpu_seconds}:{self.cpu_seconds + 1}")
        if self.open_files is not None:
            options.append(f"--nofile={self.open_files}")
        options.append(f"--fsize={self.isolation.file_size}")
        if self.isolation.isolated:
            # Only inside its own user namespace does a process limit count the kernel's processes
            # alone rather than all of the host user's.
            options.append(f"--nproc={self.isolation.processes}")
        return [prlimit, *options, "--", *argv]


def _amount(size: int) -> str:
    return f"{size / GIB:.3g} GiB" if size >= GIB else f"{size // MIB} MiB"
