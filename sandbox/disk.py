"""Disk bounded by the filesystem itself: a kernel's directory (its work dir and home) and a session's outputs
live on a tmpfs of the quota's size where the host can mount one (root), so a write past the quota fails at
once with ENOSPC (fallocate too), rather than being measured and undone a second later. Elsewhere the
periodic measure (`Kernel.over_disk_quota`) is all that holds."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
