"""Limits that hold for a host that is not root: code actions written as an attacker would, in a kernel whose
host runs as an ordinary user (uid 65534 here, when the tests run as root), where no cgroup and no mount of
the host's own is to be had. A fork bomb stops at the process cap, and a write past the disk quota fails at
once with ENOSPC, in the work dir and in the home, whatever the writer tries (fallocate, many files, one file
too many). Memory: with no cgroup, each process may reserve no more than the kernel's memory, and all of them
together are measured while code runs, the largest ended past it, as the run header says; where the user's
systemd makes scopes, the kernel runs in one."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.sandbox.test_escape import THREE_CHILDREN_OF_300_MIB

pytestmark = pytest.mark.kernel

UNPRIVILEGED_UID = 65534
PROCESSES = 48
MIB = 1024**2
QUOTA = 64 * MIB

FORK_BOMB = """
import os, time
born = 0
try:
    while True:
        if os.fork() == 0:  # every child forks on as well, until the system says no
            try:
                while True:
                    os.fork()
            except OSError:
                time.sleep(30)
            os._exit(0)
        born += 1
except OSError as exc:
    refused = exc.errno
time.sleep(1)
alive = [int(p) for p in os.listdir('/proc') if p.isdigit()]
for pid in alive:
    if pid not in (1, os.getpid()):
        try:
            os.kill(pid, 9)
        except OSError:
            pass
print(len(alive), refused)
"""

FILES = 2000

FILL = f"""
import errno, os
FILES = {FILES}
def attempt(write):
    try:
        write()
        return 'written'
    except OSError as exc:
        return errno.errorcode[exc.errno]
def allocate(path, size):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        os.posix_fallocate(fd, 0, size)
    finally:
        os.close(fd)
def many(directory, count, size):
    for n in range(count):
        with open(os.path.join(directory, f'part{{n}}'), 'wb') as file:
            file.write(b'x' * size)
def count(directory, most):
    os.mkdir(directory)
    try:
        for n in range(most):
            open(os.path.join(directory, str(n)), 'w').close()
    finally:
        __import__('shutil').rmtree(directory)
home = os.path.expanduser('~')
outcomes = {{
    'file count': attempt(lambda: count('empty', 3 * FILES)),
    'beside the work dir': attempt(lambda: allocate('../big', 256 * 2**20)),
    'fallocate': attempt(lambda: allocate('big', 256 * 2**20)),
    'many files': attempt(lambda: many('.', 8, 16 * 2**20)),
    'home': attempt(lambda: allocate(os.path.join(home, 'big'), 256 * 2**20)),
}}
for name in os.listdir('.'):
    os.remove(name)
os.remove(os.path.join(home, 'big'))
open('kept.txt', 'w').write('still here')
print(__import__('json').dumps(outcomes))
"""

# A user namespace of the kernel's own would let it mount a tmpfs of half the RAM that no limit counts.
OWN_NAMESPACE = (
    "__import__('subprocess').run(['unshare', '--user', '--map-root-user', '--mount', 'true']).returncode"
)

# Images displayed: the host keeps them on its own disk, which no filesystem of the kernel's bounds here.
DISPLAYS = """
from IPython.display import Image, display
for _ in range(8):
    display(Image(data=b'\\x89PNG\\r\\n\\x1a\\n' + bytes(10 * 2**20), format='png'))
"""

HOST = f"""
import json, sys
from sandbox import Isolation, KernelLimits, KernelSession
from sandbox.browser.files import read_upload
limits = KernelLimits(isolation=Isolation(processes={PROCESSES}, disk_quota={QUOTA}, disk_files={FILES}))
report = {{'uid': __import__('os').geteuid()}}
with KernelSession(limits=limits) as session:
    bomb = session.execute({FORK_BOMB!r}, timeout=120)
    report['bomb'] = bomb.stdout.split() if bomb.error is None else repr(bomb.error)
    report['bomb restarted'] = bomb.restarted
    report['after bomb'] = session.execute('1 + 1').result
    fill = session.execute({FILL!r}, timeout=120)
    report['fill'] = json.loads(fill.stdout) if fill.error is None else repr(fill.error)
    report['fill notices'] = fill.notices
    report['host sees'] = (session.working_dir / 'kept.txt').read_text()
    report['upload reads'] = read_upload('kept.txt', session.working_dir).data.decode()
    shown = session.execute({DISPLAYS!r}, timeout=120)
    report['images kept'] = sum(path.stat().st_size for path in session.output_dir.iterdir())
    report['image notes'] = [output.text for output in shown.outputs]
    report['own namespace'] = session.execute({OWN_NAMESPACE!r}).result
    (session.working_dir / 'from host.txt').write_text('given')
    report['kernel sees'] = session.execute("open('from host.txt').read()").result
    session.restart()
    report['after restart'] = session.execute("open('kept.txt').read()").result
print(json.dumps(report))
"""


CHILD_PAST_MEMORY = """
import os
pid = os.fork()
if pid == 0:
    try:
        block = bytearray(600 * 2**20)
        os._exit(0)
    except MemoryError:
        os._exit(3)
print(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""

MEMORY_FILES = """
import ctypes, errno, os
def attempt(make):
    try:
        make()
        return 'made'
    except OSError as exc:
        return errno.errorcode[exc.errno]
def shm():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.shmget(0, 2**20, 0o1600) < 0:  # IPC_PRIVATE, IPC_CREAT | 0600
        raise OSError(ctypes.get_errno(), 'shmget')
def fill(path):
    with open(path, 'wb') as file:
        for _ in range(300):
            file.write(b'x' * 2**20)
outcomes = {
    'memfd': attempt(lambda: os.memfd_create('m')),
    'shm': attempt(shm),
    'dev shm': attempt(lambda: fill('/dev/shm/big')),
    'dev': attempt(lambda: open('/dev/big', 'w')),
}
os.remove('/dev/shm/big')
outcomes
"""

MEMORY_HOST = f"""
import json
from sandbox import Isolation, KernelLimits, KernelSession
limits = KernelLimits(isolation=Isolation(processes={PROCESSES}, memory=512 * 2**20))
report = {{'header': limits.describe_memory()}}
with KernelSession(limits=limits) as session:
    child = session.execute({CHILD_PAST_MEMORY!r}, timeout=120)
    report['child'] = child.stdout.strip() or repr(child.error)
    children = session.execute({THREE_CHILDREN_OF_300_MIB!r}, timeout=120)
    report['children'] = children.stdout.strip() or repr(children.error)
    report['children notices'] = children.notices
    report['after children'] = session.execute('1 + 1').result
    report['memory files'] = eval(session.execute({MEMORY_FILES!r}).result)
print(json.dumps(report))
"""

# A stand-in for systemd-run in a user session with systemd (none here): it notes what it was asked and runs
# the command, as `systemd-run --user --scope` does once the scope is made.
FAKE_SYSTEMD_RUN = """#!/bin/sh
printf '%s\\n' "$@" >> "$(dirname "$0")/asked"
while [ "$1" != "--" ]; do shift; done
shift
exec "$@"
"""

SCOPE_HOST = f"""
import json, os, pathlib, tempfile
bin = pathlib.Path(tempfile.mkdtemp())
(bin / 'systemd-run').write_text({FAKE_SYSTEMD_RUN!r})
(bin / 'systemd-run').chmod(0o755)
os.environ['PATH'] = f"{{bin}}:{{os.environ['PATH']}}"
from sandbox import Isolation, KernelLimits, KernelSession
limits = KernelLimits(isolation=Isolation(processes={PROCESSES}, memory=512 * 2**20))
report = {{'header': limits.describe_memory()}}
with KernelSession(limits=limits) as session:
    report['kernel'] = session.execute('1 + 1').result
    report['address space'] = session.execute(
        "__import__('resource').getrlimit(__import__('resource').RLIMIT_AS)[0]"
    ).result
report['asked'] = (bin / 'asked').read_text().split(chr(10))
print(json.dumps(report))
"""


def run_unprivileged(code: str) -> dict[str, Any]:
    """Run `code` as a host that is not root (as uid 65534 when the tests run as root), with a home and
    temporary directory of its own; returns the JSON it printed last."""
    place = Path(tempfile.mkdtemp(prefix="unprivileged-"))
    try:
        command = [sys.executable, "-c", code]
        if os.geteuid() == 0:
            os.chown(place, UNPRIVILEGED_UID, UNPRIVILEGED_UID)
            setpriv = shutil.which("setpriv")
            assert setpriv is not None
            command = [
                *_python_reachable(),
                setpriv,
                f"--reuid={UNPRIVILEGED_UID}",
                f"--regid={UNPRIVILEGED_UID}",
                "--clear-groups",
                "--",
                *command,
            ]
        environment = {"PATH": os.environ["PATH"], "HOME": str(place), "TMPDIR": str(place)}
        done = subprocess.run(
            command, capture_output=True, text=True, env=environment, timeout=600, cwd=place, check=False
        )
        assert done.returncode == 0, done.stderr[-3000:]
        report: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
        return report
    finally:
        shutil.rmtree(place, ignore_errors=True)


def _python_reachable() -> list[str]:
    """A mount namespace (bubblewrap, as root) where another user can reach this Python: one installed under
    a private directory (pyenv's under /root, 0700) is shown there through an empty directory in its place."""
    options = []
    for prefix in {Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()}:
        closed = [parent for parent in reversed(prefix.parents) if not os.stat(parent).st_mode & 0o001]
        if closed:  # bubblewrap would make the directories on the way 0700: bind from the first one inside
            shown = closed[0] / prefix.relative_to(closed[0]).parts[0]
            options += ["--perms", "0755", "--tmpfs", str(closed[0]), "--ro-bind", str(shown), str(shown)]
    bwrap = shutil.which("bwrap")
    assert bwrap is not None
    return [bwrap, "--dev-bind", "/", "/", *options, "--"] if options else []


def test_a_host_that_is_not_root_holds_processes_and_disk() -> None:
    report = run_unprivileged(HOST)
    assert report["uid"] != 0
    # The fork bomb: stopped at the cap (EAGAIN), the kernel's processes never past it, the kernel goes on.
    processes, refused = (int(value) for value in report["bomb"])
    assert refused == 11 and processes <= PROCESSES
    assert not report["bomb restarted"] and report["after bomb"] == "2"
    # Past the quota: refused at once by the filesystem, however written, with nothing measured and undone.
    # One file too many fails as well (once measured a second later, by then thousands past).
    assert report["fill"] == {
        "file count": "ENOSPC",
        "beside the work dir": "EROFS",  # the kernel's directory is on the host's disk: read-only to it
        "fallocate": "ENOSPC",
        "many files": "ENOSPC",
        "home": "ENOSPC",
    }
    assert report["fill notices"] == []
    # The host reaches the kernel's files both ways, and they outlive the kernel.
    assert report["host sees"] == "still here" and report["kernel sees"] == "'given'"
    assert report["images kept"] <= QUOTA
    assert "not kept: the session keeps no more images than its disk quota" in report["image notes"][-1]
    assert report["upload reads"] == "still here"  # browser.upload() finds the kernel's files too
    assert report["own namespace"] != "0"
    assert report["after restart"] == "'still here'"


def test_without_a_cgroup_the_kernels_processes_are_measured_together_and_the_largest_ended() -> None:
    report = run_unprivileged(MEMORY_HOST)
    # 512 MiB for the kernel; per process it was 4 GiB (the address-space default), so a child took 600 MiB.
    assert report["child"] == "3"  # MemoryError in the child
    # Three children of 300 MiB, each within its address space: together past 512 MiB, so the largest are
    # ended (SIGKILL) until the rest fit; the kernel says why and goes on.
    ended = json.loads(report["children"])
    assert ended.count(-9) in (1, 2) and ended.count(0) == 3 - ended.count(-9), report
    assert any(
        "more memory than the kernel may use (512 MiB of memory" in n for n in report["children notices"]
    )
    assert report["after children"] == "2"
    # The header says how: measured while code runs, not a hard bound; 2.56 GiB of in-memory files besides
    # (/tmp, /dev/shm, the work dir and home).
    assert report["header"] == (
        "512 MiB of memory for the kernel and all its processes together, measured every 0.2 s while code "
        "runs (this host makes no cgroup: between measurements, each process may reach 512 MiB), and up to "
        "2.56 GiB of in-memory files"
    )
    # Memory outside any address space: memory files refused, /dev/shm as bounded as /tmp.
    assert report["memory files"] == {"memfd": "EPERM", "shm": "EPERM", "dev shm": "ENOSPC", "dev": "EROFS"}


def test_where_the_users_systemd_makes_scopes_the_kernel_runs_in_one() -> None:
    report = run_unprivileged(SCOPE_HOST)
    assert report["header"] == (
        "512 MiB of memory for the kernel and all its processes together (systemd user scope)"
    )
    assert report["kernel"] == "2"
    asked = report["asked"]
    # The trial, then the kernel's own scope: the limits as properties of a scope of the user's manager.
    assert asked.count("--scope") == 2 and asked[:2] == ["--user", "--scope"]
    assert f"--property=MemoryMax={512 * MIB}" in asked and f"--property=TasksMax={PROCESSES}" in asked
    assert "--property=OOMPolicy=continue" in asked and "--property=MemorySwapMax=0" in asked
    # The scope holds the kernel as a whole, so each process keeps the full address space.
    assert report["address space"] == str(4 * 1024**3)
