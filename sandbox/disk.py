"""Disk bounded by the filesystem itself: a kernel's directory (its work dir and home) and a session's outputs
live on a tmpfs of the quota's size, so a write past the quota fails at once with ENOSPC (fallocate too),
rather than being measured and undone a second later (`Kernel.over_disk_quota` still counts files, which a
tmpfs made by bubblewrap does not bound).

A host running as root mounts them where they are (`bound`). Any other host has them made by bubblewrap in
a user and mount namespace of their own, held by a process that does nothing else (`PrivateSpace`): the
kernel is started inside that namespace, so it finds them at its directories' paths, and the host reaches
them through the holder's root (/proc/PID/root). They last as long as the holder: across the kernel's
restarts, never past the host (the holder dies with it)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from contextlib import suppress
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


class PrivateSpace:
    """Size-bounded filesystems (tmpfs) at given paths, seen only inside a namespace held by a process of its
    own; for a host that cannot mount (not root). Start with `PrivateSpace.start`."""

    def __init__(self, holder: subprocess.Popen[bytes], pid: int) -> None:
        self._holder = holder  # bubblewrap, waiting on its child
        self.pid = pid  # the child, in the namespace: what the host enters and looks through

    @classmethod
    def start(cls, sizes: Mapping[Path, int]) -> PrivateSpace | None:
        """A namespace where each of `sizes`' (existing) directories is an empty tmpfs of that many bytes,
        private to its owner; None where bubblewrap cannot make one (then only the periodic measure holds)."""
        bwrap, nsenter = shutil.which("bwrap"), shutil.which("nsenter")
        if not sys.platform.startswith("linux") or bwrap is None or nsenter is None:
            return None
        argv = [bwrap, "--unshare-user", "--dev-bind", "/", "/", "--die-with-parent"]
        for directory, size in sizes.items():
            argv += ["--perms", "0700", "--size", str(size), "--tmpfs", str(directory)]
        # Its pid is told once the mounts are made (bubblewrap's --info-fd tells it before); without a PID
        # namespace of its own, the shell's $$ is the pid the host sees.
        argv += ["--", "/bin/sh", "-c", 'echo "$$" && exec sleep infinity']
        try:
            holder = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
            )
        except OSError:
            return None
        assert holder.stdout is not None
        line = holder.stdout.readline()
        holder.stdout.close()
        if not line.strip().isdigit():
            holder.kill()
            holder.wait()
            return None
        return cls(holder, int(line))

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
        if self._holder.poll() is None:  # else its child is gone too, and its pid may be another's by now
            with suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            self._holder.wait(timeout=10)
        if self._holder.poll() is None:
            self._holder.kill()
            self._holder.wait()
