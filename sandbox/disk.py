"""Disk bounded by the filesystem itself: a kernel's directory (its work dir and home) and a session's outputs
live on a tmpfs of the quota's size and file count, so a write past the quota, or one file too many, fails at
once with ENOSPC (fallocate too), rather than being measured and undone a second later
(`Kernel.over_disk_quota` measures only what no such filesystem bounds).

A host running as root mounts them where they are (`bound`). Any other host has them mounted in a user and
mount namespace of their own, held by a process that does nothing else (`PrivateSpace`): the kernel is
started inside that namespace, so it finds them at its directories' paths, and the host reaches them through
the holder's root (/proc/PID/root). They last as long as the holder: across the kernel's restarts, never
past the host (the holder dies with it)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


def bound(directory: Path, size: int, files: int) -> bool:
    """Mount an empty tmpfs of `size` bytes and `files` inodes at `directory`, private to its owner (0700);
    returns whether it was mounted (only root can)."""
    mount = shutil.which("mount")
    if os.geteuid() != 0 or not sys.platform.startswith("linux") or mount is None:
        return False
    options = f"size={size},nr_inodes={files},mode=0700,nosuid,nodev"
    mounted = subprocess.run(
        [mount, "-t", "tmpfs", "-o", options, "hybrid-quota", str(directory)],
        capture_output=True,
        check=False,
    )
    return mounted.returncode == 0


def release(directory: Path) -> None:
    """Unmount what `bound` mounted at `directory` (lazily: a process still holding a file there keeps only
    that file, not the mount point), and any mount left under it."""
    umount = shutil.which("umount")
    if umount is None:
        return
    for point in sorted(mounts_under(directory), key=lambda path: len(path.parts), reverse=True):
        subprocess.run([umount, "-l", str(point)], capture_output=True, check=False)


def mounts_under(directory: Path) -> list[Path]:
    """Mount points at or under `directory` (from /proc/self/mounts)."""
    try:
        lines = Path("/proc/self/mounts").read_text().splitlines()
    except OSError:
        return []
    points = []
    for line in lines:
        fields = line.split()
        if len(fields) > 1:
            # /proc/self/mounts escapes spaces and the like in octal.
            point = Path(fields[1].encode().decode("unicode_escape"))
            if point == directory or point.is_relative_to(directory):
                points.append(point)
    return points


# The holder: made a user and mount namespace of its own (its user mapped to itself), it mounts each tmpfs
# while it still holds the namespace's capabilities, tells its pid, and becomes `sleep`, which keeps the
# namespace and holds no capability (it runs as an ordinary user). It dies with the host.
_HOLDER = """
import ctypes, json, os, signal, sys
libc = ctypes.CDLL(None, use_errno=True)
libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
uid, gid = os.geteuid(), os.getegid()
if libc.unshare(0x10000000 | 0x00020000) != 0:  # CLONE_NEWUSER | CLONE_NEWNS
    sys.exit(2)
for name, text in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1"), ("gid_map", f"{gid} {gid} 1")):
    with open(f"/proc/self/{name}", "w") as file:
        file.write(text)
libc.mount(b"none", b"/", None, 16384 | 262144, None)  # MS_REC | MS_PRIVATE
for path, size, files in json.loads(sys.argv[2]):
    options = f"size={size},nr_inodes={files},mode=0700".encode()
    if libc.mount(b"hybrid-quota", path.encode(), b"tmpfs", 2 | 4, options) != 0:  # MS_NOSUID | MS_NODEV
        sys.exit(3)
print(os.getpid(), flush=True)
os.execv(sys.argv[3], ["sleep", "infinity"])
"""


class PrivateSpace:
    """Filesystems (tmpfs) bounded in bytes and files at given paths, seen only inside a namespace held by a
    process of its own; for a host that cannot mount (not root). Start with `PrivateSpace.start`."""

    def __init__(self, holder: subprocess.Popen[bytes]) -> None:
        self._holder = holder
        self.pid = holder.pid  # in the namespace: what the host enters and looks through

    @classmethod
    def start(cls, bounds: Mapping[Path, tuple[int, int]]) -> PrivateSpace | None:
        """A namespace where each of `bounds`' (existing) directories is an empty tmpfs of (bytes, files),
        private to its owner; None where this host cannot make one (then only the periodic measure holds)."""
        nsenter, sleep = shutil.which("nsenter"), shutil.which("sleep")
        if not sys.platform.startswith("linux") or nsenter is None or sleep is None:
            return None
        table = json.dumps([[str(path), size, files] for path, (size, files) in bounds.items()])
        argv = [sys.executable, "-I", "-S", "-c", _HOLDER, str(os.getpid()), table, sleep]
        try:
            holder = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
        except OSError:
            return None
        assert holder.stdout is not None
        line = holder.stdout.readline()  # its pid once the mounts are made; nothing if it could not
        holder.stdout.close()
        if line.strip() != str(holder.pid).encode():
            holder.kill()
            holder.wait()
            return None
        return cls(holder)

    def view(self, path: Path) -> Path:
        """Where the host reaches `path` as the namespace sees it."""
        return Path(f"/proc/{self.pid}/root") / path.relative_to("/")

    def enter(self, argv: list[str]) -> list[str]:
        """`argv` run inside the namespace, as the same user (its user namespace maps the host's user to
        itself), so it sees the bounded filesystems where they are."""
        nsenter = shutil.which("nsenter")
        assert nsenter is not None
        target = ["--target", str(self.pid), "--user", "--mount", "--preserve-credentials"]
        return [nsenter, *target, "--", *argv]

    def close(self) -> None:
        """End the holder; the filesystems go with the last process inside the namespace."""
        if self._holder.poll() is None:
            self._holder.kill()
        self._holder.wait()
