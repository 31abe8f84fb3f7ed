"""Temporary directories of this host process, and the sweeping of those that dead hosts left behind.

Every kernel directory, bridge socket and output directory of a process lives under one directory of its
own, `<tmp>/hybrid-host-*`, which the process marks as alive by holding an exclusive lock on a file in it
for as long as it runs. A host killed with SIGKILL cannot remove its directories; the next host that
starts finds them unlocked and removes them. The lock file is outside every directory a kernel sees, so
no kernel can release its host's lock.

A later host may have another TMPDIR: each host also notes its directory in a registry at a fixed place of
its user's (`registry()`, /tmp/hybrid-hosts-UID, 0700), and every sweep goes through it as well, so what a
killed host left (its directories and the filesystems mounted in them) goes wherever it was.
"""

from __future__ import annotations

import atexit
import fcntl
import os
import secrets
import shutil
import stat
import tempfile
import threading
from contextlib import suppress
from pathlib import Path

from sandbox import cgroup, disk

PREFIX = "hybrid-host-"
LOCK_NAME = ".alive"
REGISTRY_ROOT = Path("/tmp")  # not TMPDIR: the one place every host of a user looks

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
            _register(directory)
            atexit.register(_remove_at_exit, directory, os.getpid())
        return _host_dir


def _remove_at_exit(directory: Path, owner: int) -> None:
    # A process ending normally removes its directory itself; forks that exit leave it to their parent.
    # A kernel not closed by then leaves its bounded filesystems mounted (a root host mounts them in its
    # own mount namespace, where they outlive it): they are released first, or rmtree could not remove
    # their mount points and, with the lock file gone, no later sweep would know the directory.
    if os.getpid() == owner:
        disk.release(directory)
        shutil.rmtree(directory, ignore_errors=True)
        entries = registry()
        if entries is not None:
            (entries / directory.name).unlink(missing_ok=True)


def registry() -> Path | None:
    """The directory where this user's hosts note theirs, made on first use; None if the place is taken by
    something not this user's own private directory (then each host sweeps its own TMPDIR only)."""
    path = REGISTRY_ROOT / f"hybrid-hosts-{os.geteuid()}"
    with suppress(FileExistsError):
        path.mkdir(mode=0o700)
    try:
        status = path.lstat()
    except OSError:
        return None
    if not stat.S_ISDIR(status.st_mode) or status.st_uid != os.geteuid() or status.st_mode & 0o077:
        return None
    return path


def _register(directory: Path) -> None:
    entries = registry()
    if entries is not None:
        with suppress(OSError):
            (entries / directory.name).write_text(str(directory))


def sweep_dead_hosts(root: Path | None = None) -> list[Path]:
    """Remove the directories of hosts that are no longer running, and their kernels' cgroups; returns the
    directories removed."""
    cgroup.sweep_left_behind()
    root = Path(tempfile.gettempdir()) if root is None else root
    removed = [directory for directory in root.glob(f"{PREFIX}*") if _remove_if_dead(directory)]
    entries = registry()
    for entry in entries.iterdir() if entries is not None else ():
        try:
            directory = Path(entry.read_text())
        except (OSError, UnicodeDecodeError):
            continue
        if not directory.is_absolute() or not directory.name.startswith(PREFIX) or directory == _host_dir:
            continue
        if not directory.exists() and not directory.is_symlink():
            entry.unlink(missing_ok=True)  # removed already (by a sweep of its own TMPDIR)
        elif _remove_if_dead(directory):
            entry.unlink(missing_ok=True)
            removed.append(directory)
    return removed


def _remove_if_dead(directory: Path) -> bool:
    """Remove a host's directory (and the filesystems mounted in it) if no host holds its lock."""
    if directory == _host_dir or not directory.is_dir() or directory.is_symlink():
        return False
    try:
        lock = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False  # not one of ours, or being created right now
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False  # its host is alive
    finally:
        os.close(lock)
    disk.release(directory)  # its kernels' and outputs' size-bounded filesystems
    shutil.rmtree(directory, ignore_errors=True)
    return True
