"""What a kernel may use: memory, CPU time, open files, processes, a working directory, its environment
and how it is isolated from the host."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sandbox.isolation import Isolation

GIB = 1024**3
SECRET_LOOKING_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.IGNORECASE)


@dataclass(frozen=True)
class KernelLimits:
    """Resource limits and environment for kernels; None means no limit.

    - `address_space`: bytes of virtual memory; an allocation past it raises MemoryError in the kernel.
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

    def command(self, argv: list[str]) -> list[str]:
        """`argv` run under these limits, set before its first instruction (and inherited by its children)."""
        prlimit = shutil.which("prlimit")
        if prlimit is None:
            raise RuntimeError(
                "prlimit (from util-linux) is needed to limit kernels and was not found on PATH"
            )
        options = []
        if self.address_space is not None:
            options.append(f"--as={self.address_space}")
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
