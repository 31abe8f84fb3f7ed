"""What a kernel may use: memory, CPU time, open files, a working directory, and which environment."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psutil

GIB = 1024**3
SECRET_LOOKING_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH|COOKIE|SESSION", re.IGNORECASE)


@dataclass(frozen=True)
class KernelLimits:
    """Resource limits and environment for kernels; None means no limit.

    - `address_space`: bytes of virtual memory; an allocation past it raises MemoryError in the kernel.
    - `cpu_seconds`: CPU time over the kernel's whole life; past it the kernel is killed and restarted.
    - `open_files`: file descriptors, counting the kernel's own sockets (about 30).
    - `working_dir`: where code runs; default: a fresh temporary directory per session, removed after.
    - `environment`: names of host variables passed on. Nothing else is; names that look like
      secrets are refused, because secrets never enter the kernel.
    """

    address_space: int | None = 4 * GIB
    cpu_seconds: int | None = 3600
    open_files: int | None = 512
    working_dir: Path | None = None
    environment: tuple[str, ...] = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ")

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

    def apply(self, pid: int) -> None:
        """Set the limits on a running process (the kernel, right after launch, before any user code)."""
        process = psutil.Process(pid)
        if self.address_space is not None:
            process.rlimit(psutil.RLIMIT_AS, (self.address_space, self.address_space))
        if self.cpu_seconds is not None:
            # A second between soft and hard limit, so the kernel ends by SIGXCPU (which says why)
            # rather than by the SIGKILL that the hard limit sends.
            process.rlimit(psutil.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + 1))
        if self.open_files is not None:
            process.rlimit(psutil.RLIMIT_NOFILE, (self.open_files, self.open_files))
