"""Temporary directories of this host process, and the sweeping of those that dead hosts left behind.

Every kernel directory, bridge socket and output directory of a process lives under one directory of its
own, `<tmp>/hybrid-host-*`, which the process marks as alive by holding an exclusive lock on a file in it
for as long as it runs. A host killed with SIGKILL cannot remove its directories; the next host that
starts finds them unlocked and removes them. The lock file is outside every directory a kernel sees, so
no kernel can release its host's lock.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import secrets
import shutil
import tempfile
import threading
from pathlib import Path

from sandbox import cgroup, disk

PREFIX = "hybrid-host-"
LOCK_NAME = ".alive"

_lock = threading.Lock()
_host_dir: Path | None = None


def new_directory(prefix: str) -> Path:
    """A fresh directory, readable by its owner only, removed with this process's others."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=host_directory()))
    os.chmod(path, 0o700)
    return path


def new_path(prefix: str, suffix: str = "") -> Path:
    """A fresh name in this process's directory, not yet taken (short: socket paths are limited)."""
    return host_directory() / f"{prefix}{secrets.token_hex(4)}{suffix}"


def host_directory() -> Path:
    """This process's own directory; made (sweeping dead hosts' ones first) on first use."""
    global _host_dir
    with _lock:
        # A forked child shares its parent's lock; it keeps using the parent's directory, which stays
        # locked while either of them runs.
        if _host_dir is None or not _host_dir.is_dir():
            sweep_dead_hosts()
            # Locked under a name no sweep looks at, then renamed: never seen unlocked.
            unlocked = Path(tempfile.mkdtemp(prefix=f".{PREFIX}"))
            # A root host's kernels run as users of their own, who must pass through to their directory
            # inside (but may not list it); any other host's directory is its owner's alone.
            os.chmod(unlocked, 0o711 if os.geteuid() == 0 else 0o700)
            lock = os.open(unlocked / LOCK_NAME, os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)  # held until this process (and its forks) end
            directory = unlocked.with_name(unlocked.name[1:])
            unlocked.rename(directory)
            _host_dir = directory
            atexit.register(_remove_at_exit, directory, os.getpid())
        return _host_dir


def _remove_at_exit(directory: Path, owner: int) -> None:
    # A process ending normally removes its directory itself; forks that exit leave it to their parent.
    if os.getpid() == owner:
        shutil.rmtree(directory, ignore_errors=True)


def sweep_dead_hosts(root: Path | None = None) -> list[Path]:
    """Remove the directories of hosts that are no longer running, and their kernels' cgroups; returns the
    directories removed."""
    cgroup.sweep_left_behind()
    root = Path(tempfile.gettempdir()) if root is None else root
    removed = []
    for directory in root.glob(f"{PREFIX}*"):
        if directory == _host_dir or not directory.is_dir() or directory.is_symlink():
            continue
        try:
            lock = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
        except OSError:
            continue  # not one of ours, or being created right now
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue  # its host is alive
        finally:
            os.close(lock)
        disk.release(directory)  # its kernels' and outputs' size-bounded filesystems
        shutil.rmtree(directory, ignore_errors=True)
        removed.append(directory)
    return removed
