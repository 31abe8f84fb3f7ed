"""OS isolation for kernels: bubblewrap namespaces, so the capability bridge is the kernel's only way out.

A kernel runs model-written code, which is untrusted. Under bubblewrap it gets its own user, PID, IPC,
UTS, cgroup and (by default) network namespaces, and a filesystem made of: the system's programs and
libraries and the Python installation read-only, a few harmless files of /etc, its own kernel directory
(connection file and the bridge socket, read-only; its home, work dir and sockets writable, each bounded)
and size-bounded tmpfs at /tmp and /dev/shm. Nothing
else of the host is there: not the data dir (secrets, site registry, runs database, checkpoints), not
the home directory, not other processes or their temporary files. The kernel dies with its host.
"""

from __future__ import annotations

import ctypes
import functools
import os
import secrets
import shutil
import struct
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sandbox import scratch
from sandbox.errors import HybridError

MIB = 1024**2
# The kernel's home holds IPython's history and caches; the work dir is where code writes (`sandbox.disk`).
HOME_SIZE = 64 * MIB
IsolationMode = Literal["bubblewrap", "none"]
ISOLATION_MODES: tuple[IsolationMode, ...] = ("bubblewrap", "none")

SANDBOX_UID = 1000
SANDBOX_USER = "sandbox"
# A host running as root starts each kernel as a user of its own from this range, with no user namespace:
# in one made by root the kernel would be root on the host's files mounted in, and exempt from the process
# limit, which counts all processes of a user (so kernels sharing one, such as nobody, would share it).
KERNEL_UIDS = range(0x7E000000, 0x7F000000)
# Top-level system directories shown read-only; merged-/usr systems have symlinks for most of them.
SYSTEM_DIRECTORIES = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# Files of /etc that programs need to start and that hold nothing private.
SYSTEM_FILES = (
    "/etc/alternatives",
    "/etc/ld.so.cache",
    "/etc/ld.so.conf",
    "/etc/ld.so.conf.d",
    "/etc/localtime",
    "/etc/mime.types",
    "/etc/nsswitch.conf",
    "/etc/fonts",
    "/etc/ssl/certs",
    "/etc/ca-certificates",
)
NETWORK_FILES = ("/etc/resolv.conf", "/etc/hosts", "/etc/gai.conf", "/etc/host.conf", "/etc/services")
PR_SET_DUMPABLE = 4


class IsolationUnavailable(HybridError, RuntimeError):
    """Kernels cannot be isolated on this machine; the message says why and how to opt out."""


@dataclass(frozen=True)
class Isolation:
    """How kernels are walled off from the host.

    - `mode`: "bubblewrap" (namespaces; the default) or "none" (the kernel runs as the host's user, with
      the host's files and network: only for machines where bubblewrap cannot run, chosen explicitly).
    - `network`: give the kernel the host's network (off: the kernel reaches nothing but the bridge).
    - `tmp_size`: bytes of the kernel's private /tmp.
    - `processes`: processes and threads the kernel may run at once (a fork bomb stops there).
    - `memory`: bytes of memory the kernel and every process it starts may use together, held by a cgroup
      where the host can make one (see `sandbox.cgroup`); elsewhere it caps each process's address space
      (with `KernelLimits.address_space`), and the whole kernel only as that times `processes`. None: no
      such limit.
    - `file_size`: the largest file the kernel may write.
    - `disk_quota`, `disk_files`: bytes and files the kernel's own directory (work dir and home) may
      hold, measured while code runs; past either the kernel is replaced and its files removed. A
      `disk_quota` of None: no quota.
    """

    mode: IsolationMode = "bubblewrap"
    network: bool = False
    tmp_size: int = 256 * MIB
    processes: int = 128
    memory: int | None = 4 * 1024 * MIB
    file_size: int = 512 * MIB
    disk_quota: int | None = 2048 * MIB
    disk_files: int = 100_000

    def __post_init__(self) -> None:
        if self.mode not in ISOLATION_MODES:
            raise ValueError(
                f"unknown isolation mode {self.mode!r}; choose one of {', '.join(ISOLATION_MODES)}"
            )

    @property
    def isolated(self) -> bool:
        return self.mode != "none"

    def memory_filesystems(self) -> int:
        """Bytes the kernel's in-memory filesystems (tmpfs) may hold in all: /tmp, /dev/shm, and its work dir
        and home where they are bounded (see `sandbox.disk`). Pages no per-process limit counts."""
        if not self.isolated:
            return 0
        quota = self.disk_quota or 0
        return 2 * self.tmp_size + quota + min(quota, HOME_SIZE)

    def describe_walls(self) -> str:
        """The walls in a few words, e.g. 'bubblewrap, no network' (`KernelLimits.describe` adds memory)."""
        if not self.isolated:
            return "none (code actions run unisolated, as your own user)"
        return f"bubblewrap, {'host network' if self.network else 'no network'}"

    def check(self) -> None:
        """Raise `IsolationUnavailable` if kernels cannot be isolated here as configured."""
        if self.isolated:
            bubblewrap_problem()

    def kernel_owner(self) -> int | None:
        """A host uid for a new kernel to run as, when not the host's own (then its directories must be
        its)."""
        return secrets.choice(KERNEL_UIDS) if self.isolated and os.geteuid() == 0 else None

    def command(
        self, argv: list[str], kernel_dir: Path, writable: tuple[Path, ...] = (), owner: int | None = None
    ) -> list[str]:
        """`argv` wrapped to run isolated as `owner` (from `kernel_owner()`), seeing `kernel_dir` read-only
        and `writable` (directories in it, or elsewhere) read-write. Read-only, because `kernel_dir` is on the
        host's disk: only directories of their own, bounded (see `sandbox.disk`), take the kernel's writes."""
        if not self.isolated:
            return argv
        self.check()
        protect_host()
        wrapped = [
            str(bubblewrap_path()),
            *_user_options(),
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-cgroup-try",
            *([] if self.network else ["--unshare-net"]),
            "--die-with-parent",
            # Jupyter's "exit when your parent does" cannot see across the PID namespace (the parent
            # is pid 0 there); --die-with-parent does the same job.
            "--unsetenv", "JPY_PARENT_PID",
            "--new-session",
            "--hostname", "sandbox",
            "--proc", "/proc",
            "--dev", "/dev",
            # /dev is a tmpfs of half the RAM that no per-process limit counts: its one writable directory
            # gets a bounded one of its own, and /dev itself is read-only (its devices still work).
            "--perms", "1777", "--size", str(self.tmp_size), "--tmpfs", "/dev/shm",
            "--remount-ro", "/dev",
            "--perms", "1777", "--size", str(self.tmp_size), "--tmpfs", "/tmp",
        ]  # fmt: skip
        memory_files = _memory_files_filter()
        if memory_files is not None:
            wrapped += ["--seccomp", str(SECCOMP_FD)]
        for directory in SYSTEM_DIRECTORIES:
            path = Path(directory)
            if path.is_symlink():
                wrapped += ["--symlink", str(path.readlink()), directory]
            elif path.is_dir():
                wrapped += ["--ro-bind", directory, directory]
        for file in (*SYSTEM_FILES, *(NETWORK_FILES if self.network else ())):
            wrapped += ["--ro-bind-try", file, file]
        identity = _identity_files()
        wrapped += ["--ro-bind", str(identity / "passwd"), "/etc/passwd"]
        wrapped += ["--ro-bind", str(identity / "group"), "/etc/group"]
        for prefix in _python_prefixes():
            wrapped += [*_reachable(prefix), "--ro-bind", str(prefix), str(prefix)]
        wrapped += [*_reachable(kernel_dir), "--ro-bind", str(kernel_dir), str(kernel_dir)]
        for inside in writable:
            wrapped += [*_reachable(inside), "--bind", str(inside), str(inside)]
        wrapped += ["--remount-ro", "/", "--chdir", str(kernel_dir), "--", *_become(owner)]
        if memory_files is not None:  # bubblewrap reads the filter from a descriptor: opened by a shell
            return ["/bin/sh", "-c", f'exec "$@" {SECCOMP_FD}<"$0"', str(memory_files), *wrapped, *argv]
        return wrapped + argv


def bubblewrap_path() -> Path:
    path = shutil.which("bwrap")
    if path is None:
        raise IsolationUnavailable(
            "bubblewrap (bwrap) is not installed, so code actions cannot be isolated; install it "
            "(Debian/Ubuntu: apt-get install bubblewrap), or pass --sandbox none (or set "
            "HYBRID_SANDBOX=none) to run "
            "them unisolated"
        )
    return Path(path)


@functools.cache
def _bubblewrap_trial() -> str | None:
    """Why bubblewrap cannot make namespaces here (None if it can). Tried once per process."""
    if not sys.platform.startswith("linux"):
        return f"bubblewrap needs Linux and this is {sys.platform}"
    try:
        trial = subprocess.run(
            [str(bubblewrap_path()), *_user_options(), "--unshare-pid", "--unshare-net",
             "--ro-bind", "/", "/", "--", "true"],
            check=False, capture_output=True, text=True, timeout=10,
        )  # fmt: skip
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bubblewrap could not run: {exc}"
    if trial.returncode != 0:
        reason = trial.stderr.strip().splitlines()[-1] if trial.stderr.strip() else f"exit {trial.returncode}"
        return f"bubblewrap cannot create namespaces here ({reason}); user namespaces may be disabled"
    return None


def bubblewrap_problem() -> None:
    bubblewrap_path()
    problem = _bubblewrap_trial()
    if problem is not None:
        raise IsolationUnavailable(
            f"{problem}, so code actions cannot be isolated; pass --sandbox none (or set "
            "HYBRID_SANDBOX=none) "
            "to run them unisolated"
        )


def _reachable(path: Path) -> list[str]:
    """Options making the directories on the way to `path` passable: bubblewrap creates them 0700 by
    default, which would lock out a kernel running as another user than the host's."""
    options = []
    for parent in reversed(path.parents[:-1]):
        if str(parent) not in ("/tmp", *SYSTEM_DIRECTORIES):
            options += ["--perms", "0755", "--dir", str(parent)]
    return options


def _user_options() -> list[str]:
    if os.geteuid() != 0:
        # No user namespace of its own for the kernel to make: in one it could mount a tmpfs of half the RAM,
        # which no limit of a host that is not root counts (a root host's cgroup counts its pages).
        nested = ["--disable-userns"] if _bubblewrap_disables_userns() else []
        return ["--unshare-user", *nested, "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID)]
    # Root's bubblewrap mounts what the kernel needs (it may read paths such as /root/.pyenv that others
    # cannot) and keeps only what setpriv needs to become the kernel's own user, which drops every capability.
    return ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--cap-add", "CAP_SETPCAP"]


SECCOMP_FD = 9
# Per architecture: its audit number, then the numbers of memfd_create and shmget. Memory they hold is in no
# process's address space, so per-process limits do not count it.
_MEMORY_FILE_CALLS = {"x86_64": (0xC000003E, 319, 29), "aarch64": (0xC00000B7, 279, 194)}
_X32_CALLS = 0x40000000  # x86_64's other system-call numbering: refused whole


def _memory_files_filter() -> Path | None:
    """The filter's file (see `_make_memory_files_filter`), made again if its directory has gone."""
    path = _make_memory_files_filter()
    if path is not None and not path.exists():
        _make_memory_files_filter.cache_clear()
        path = _make_memory_files_filter()
    return path


@functools.cache
def _make_memory_files_filter() -> Path | None:
    """A seccomp filter (classic BPF, as bubblewrap's --seccomp reads it) refusing with EPERM the system calls
    that make memory files outside /dev/shm (memfd_create, System V shared memory) and any call of another
    ABI; None on an architecture not known here."""
    known = _MEMORY_FILE_CALLS.get(os.uname().machine)
    if known is None:
        return None
    arch, memfd_create, shmget = known
    load, equal, at_least, give = 0x20, 0x15, 0x35, 0x06
    allow, refuse = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW; SECCOMP_RET_ERRNO | EPERM
    program = [
        (load, 0, 0, 4),  # the call's architecture
        (equal, 0, 5, arch),
        (load, 0, 0, 0),  # its number
        (at_least, 3, 0, _X32_CALLS),
        (equal, 2, 0, memfd_create),
        (equal, 1, 0, shmget),
        (give, 0, 0, allow),
        (give, 0, 0, refuse),
    ]
    path = scratch.new_directory("seccomp-") / "memory-files.bpf"
    path.write_bytes(b"".join(struct.pack("=HBBI", *instruction) for instruction in program))
    path.parent.chmod(0o755)  # read by the shell that starts bubblewrap, which may be another user's
    path.chmod(0o644)
    return path


@functools.cache
def _bubblewrap_disables_userns() -> bool:
    """Whether this bubblewrap can keep the kernel from making user namespaces (0.8 and later)."""
    try:
        shown = subprocess.run(
            [str(bubblewrap_path()), "--help"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--disable-userns" in shown.stdout


def _become(owner: int | None) -> list[str]:
    if owner is None:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise IsolationUnavailable(
            "setpriv (from util-linux) is needed to start kernels from a host running as root"
        )
    return [
        setpriv,
        f"--reuid={owner}",
        f"--regid={owner}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


@functools.cache
def _python_prefixes() -> tuple[Path, ...]:
    """The Python installation and virtual environment, where they are not under /usr already."""
    prefixes = {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}
    outside_usr = [p for p in prefixes if not p.is_relative_to("/usr")]
    # The venv's interpreter is a symlink to the base one, so both must be visible; nested ones once.
    return tuple(
        sorted(p for p in outside_usr if not any(p != q and p.is_relative_to(q) for q in outside_usr))
    )


@functools.cache
def _identity_files() -> Path:
    """passwd and group files naming only the sandbox's user, so nothing of the host's users shows."""
    directory = scratch.new_directory("identity-")
    (directory / "passwd").write_text(
        f"{SANDBOX_USER}:x:{SANDBOX_UID}:{SANDBOX_UID}:{SANDBOX_USER}:/tmp:/bin/sh\n"
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
    )
    (directory / "group").write_text(f"{SANDBOX_USER}:x:{SANDBOX_UID}:\nnogroup:x:65534:\n")
    directory.chmod(0o755)  # read by bubblewrap, which may run as another user
    return directory


@functools.cache
def protect_host() -> None:
    """Make this process undumpable: no process of the same user can read its memory or ptrace it."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
