"""The escape suite: code actions written as an attacker would, run in isolated kernels.

Each test is an attack that worked while kernels ran as the host's own user with its files, processes and
network; each now must fail, and the host must come out of it unharmed.
"""

from __future__ import annotations

import ctypes
import os
import socket
import sqlite3
import struct
import sys
import uuid
from pathlib import Path

import psutil
import pytest

from sandbox import HostFunction, Isolation, KernelLimits, KernelPool, KernelSession, Namespace, disk, scratch
from sandbox.bridge.kernel_stub import MAX_REQUEST_BYTES, recv_frame, send_frame
from sandbox.isolation import PR_SET_DUMPABLE

pytestmark = pytest.mark.kernel

PR_GET_DUMPABLE = PR_SET_DUMPABLE - 1
HOST_PID = os.getpid()


def run(session: KernelSession, code: str, timeout: float = 30) -> str:
    """What the code printed (stdout and stderr), or its error; asserts the kernel was not replaced."""
    result = session.execute(code, timeout=timeout)
    assert not result.restarted, result.notices
    return (
        result.stdout
        + result.stderr
        + (f"{result.error.name}: {result.error.message}" if result.error else "")
    )


def test_host_environment_and_memory_are_out_of_reach(session: KernelSession) -> None:
    output = run(
        session,
        f"""
import os
print(os.path.exists('/proc/{HOST_PID}'), os.getppid())
for name in ('environ', 'mem', 'cmdline'):
    try:
        open('/proc/{HOST_PID}/' + name, 'rb').read(100)
        print(name, 'LEAKED')
    except OSError as exc:
        print(name, type(exc).__name__)
print(sorted(int(p) for p in os.listdir('/proc') if p.isdigit())[:3])
""",
    )
    assert "LEAKED" not in output
    assert output.startswith(
        "False 1\n"
    )  # the host's pid does not exist there; the parent is the sandbox's init
    assert ctypes.CDLL(None).prctl(PR_GET_DUMPABLE, 0, 0, 0, 0) == 0  # nothing of the same user may ptrace it


def test_host_environment_variables_never_reach_the_kernel(monkeypatch: pytest.MonkeyPatch) -> None:
    canary = uuid.uuid4().hex
    monkeypatch.setenv("HYBRID_ESCAPE_CANARY", canary)
    with KernelSession() as session:
        output = run(
            session,
            """
import os
found = []
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        if b'HYBRID_ESCAPE_CANARY' in open(f'/proc/{pid}/environ', 'rb').read():
            found.append(pid)
    except OSError:
        pass
print('HYBRID_ESCAPE_CANARY' in os.environ, found)
""",
        )
    assert output.strip() == "False []"


def test_host_files_secret_store_and_runs_database_are_not_there(
    session: KernelSession, tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    (data_dir / "secrets").mkdir(parents=True)
    (data_dir / "secrets" / "demo.json").write_text('{"token": "s3cret"}')
    database = data_dir / "hybrid.db"
    with sqlite3.connect(database) as connection:
        connection.execute("CREATE TABLE calls (status TEXT)")
        connection.execute("INSERT INTO calls VALUES ('denied')")
    home = Path.home()
    output = run(
        session,
        f"""
import os, sqlite3
for path in [{str(data_dir / "secrets" / "demo.json")!r}, {__file__!r}, {str(home)!r} + '/.bashrc',
             '/etc/shadow', '/etc/hostname']:
    try:
        open(path).read()
        print(path, 'LEAKED')
    except OSError as exc:
        print(path, type(exc).__name__)
try:
    sqlite3.connect({str(database)!r}).execute("UPDATE calls SET status = 'ok'").connection.commit()
    print('database UPDATED')
except sqlite3.Error as exc:
    print('database', exc)
import sys
seen = (os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix), os.path.dirname(os.getcwd()))
print(sorted(path for top, dirs, files in os.walk('/tmp') for path in (os.path.join(top, n) for n in files)
             if not path.startswith(seen)))
home = {str(home)!r}
print(sorted(os.listdir(home)) if os.path.isdir(home) else [], os.path.exists({str(tmp_path)!r}))
""",
    )
    assert "LEAKED" not in output and "UPDATED" not in output
    with sqlite3.connect(database) as connection:
        assert connection.execute("SELECT status FROM calls").fetchall() == [("denied",)]
    # /tmp is private: the only files there are the kernel's own directory and, where Python is installed
    # under /tmp, the Python installation (both mounted inside it).
    assert output.splitlines()[-2] == "[]"
    # Of the home directory, only the Python installation may show (when Python lives there).
    python_dirs = {
        Path(p).relative_to(home).parts[0]
        for p in (sys.prefix, sys.base_prefix)
        if Path(p).is_relative_to(home)
    }
    assert output.splitlines()[-1] == f"{sorted(python_dirs)!r} False"


def test_the_hosts_packages_and_the_projects_code_cannot_be_imported(session: KernelSession) -> None:
    output = run(
        session,
        """
for name in ('apis', 'sandbox', 'hybrid', 'workflows'):
    try:
        __import__(name)
        print(name, 'IMPORTED')
    except ImportError as exc:
        print(name, type(exc).__name__)
""",
    )
    assert "IMPORTED" not in output


def test_no_network_but_the_bridge(session: KernelSession, listener) -> None:
    fetch = f"import urllib.request; print(urllib.request.urlopen({listener.url!r}, timeout=5).status)"
    output = run(
        session,
        f"""
import subprocess, sys
try:
    exec({fetch!r})
except OSError as exc:
    print('urllib', type(exc).__name__)
for command in (['curl', '-s', {listener.url!r}], [sys.executable, '-c', {fetch!r}]):
    try:
        child = subprocess.run(command, capture_output=True, text=True)
        print(command[0], 'exit', child.returncode, child.stdout)
    except OSError as exc:
        print(command[0], type(exc).__name__)
""",
    )
    assert "urllib URLError" in output and f"{sys.executable} exit 1" in output
    assert listener.received == []


def test_kernel_network_when_the_user_allows_it(listener) -> None:
    with KernelSession(limits=KernelLimits(isolation=Isolation(network=True))) as session:
        output = run(
            session, f"import urllib.request; print(urllib.request.urlopen({listener.url!r}).status)"
        )
    assert output.strip() == "200" and listener.received[0].startswith(b"GET / HTTP/1.1")


def test_signalling_the_host_reaches_nothing(session: KernelSession) -> None:
    output = run(
        session,
        f"""
import os, signal
for pid in ({HOST_PID}, os.getppid()):
    try:
        os.kill(pid, signal.SIGKILL)
        print(pid, 'sent')
    except OSError as exc:
        print(pid, type(exc).__name__)
try:
    os.kill(-1, signal.SIGTERM)  # everything this process may signal
except OSError:
    pass
""",
    )
    assert f"{HOST_PID} ProcessLookupError" in output
    assert psutil.pid_exists(HOST_PID)


def _marked(marker: str) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["cmdline"]):
        if marker in " ".join(process.info["cmdline"] or []):
            found.append(process)
    return found


def test_a_fork_storm_stops_at_the_process_limit_and_every_process_ends_with_the_session() -> None:
    marker = f"escape-{uuid.uuid4().hex}"
    limits = KernelLimits(isolation=Isolation(processes=40))
    with KernelSession(limits=limits) as session:
        output = run(
            session,
            f"""
import subprocess
children = []
try:
    for _ in range(200):
        children.append(subprocess.Popen(['sh', '-c', 'sleep 600; :', {marker!r}], start_new_session=True))
except OSError as exc:
    print('stopped', type(exc).__name__)
print('children', len(children))
""",
        )
        started = int(output.split("children ")[1].split()[0])
        assert "stopped BlockingIOError" in output and 0 < started < 40
        assert 0 < len(_marked(marker)) <= started  # orphans in their own sessions, still running
    psutil.wait_procs(_marked(marker), timeout=10)
    assert _marked(marker) == []


def test_disk_use_is_bounded_per_file_and_in_tmp() -> None:
    limits = KernelLimits(isolation=Isolation(file_size=8 * 2**20, tmp_size=16 * 2**20))
    with KernelSession(limits=limits) as session:
        output = run(
            session,
            """
import errno
def fill(path, chunks):
    try:
        with open(path, 'wb') as file:
            for _ in range(chunks):
                file.write(b'x' * 2**20)
                file.flush()
        return 'complete'
    except OSError as exc:
        return errno.errorcode[exc.errno]
print(fill('big', 64), fill('/tmp/a', 7), fill('/tmp/b', 7), fill('/tmp/c', 7))
""",
        )
    assert output.split() == ["EFBIG", "complete", "complete", "ENOSPC"]


def test_an_oversized_call_gets_a_clear_error_in_the_kernel(pool: KernelPool) -> None:
    received = []
    with pool.acquire() as session:
        session.register("api", Namespace({"site": {"upload": HostFunction(received.append, writes=False)}}))
        output = run(session, f"api.site.upload('x' * {MAX_REQUEST_BYTES + 1})")
        assert "FrameTooLarge" in output and "send the data in smaller parts" in output
        assert received == []
        assert run(session, "print(api.site.upload('small'))").strip() == "None"
    assert received == ["small"]


def test_an_oversized_frame_is_refused_without_being_buffered(session: KernelSession) -> None:
    process = psutil.Process()
    before = process.memory_info().rss
    output = run(
        session,
        """
import json, socket, struct, sys
bridge = sys.modules['_hybrid_bridge']._connection
sock = socket.socket(socket.AF_UNIX)
sock.connect(bridge.path)
hello = json.dumps({'token': bridge.token}).encode()
sock.sendall(struct.pack('!I', len(hello)) + hello)
sock.recv(100)
sock.sendall(struct.pack('!I', 1536 * 2**20))  # announce 1.5 GiB
sent = 0
try:
    while sent < 400 * 2**20:
        sock.sendall(b'x' * 2**20)
        sent += 2**20
except OSError as exc:
    print('host closed after', sent // 2**20, 'MiB:', type(exc).__name__)
""",
        timeout=60,
    )
    assert "host closed after" in output
    assert process.memory_info().rss - before < 64 * 2**20


def test_raw_bridge_frames_are_capped_on_the_host(tmp_path: Path) -> None:
    from sandbox.bridge import Dispatcher
    from sandbox.bridge.server import BridgeServer

    with BridgeServer(Dispatcher(None, ())) as server:
        client = socket.socket(socket.AF_UNIX)
        client.connect(server.path)
        send_frame(client, {"token": server.token})
        assert recv_frame(client) == {"ok": True}
        client.sendall(struct.pack("!I", MAX_REQUEST_BYTES + 1))
        reply = recv_frame(client)
        client.close()
    assert reply["ok"] is False and "over the limit" in reply["error"]["message"]


def test_directories_of_a_killed_host_are_swept_at_the_next_start(tmp_path: Path) -> None:
    import subprocess

    host = "from sandbox import KernelSession; KernelSession(); print('ready', flush=True); input()"
    environment = {**os.environ, "TMPDIR": str(tmp_path)}
    dead = subprocess.Popen(
        [sys.executable, "-c", host],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
        env=environment,
    )
    alive = subprocess.Popen(
        [sys.executable, "-c", host],
        stdout=subprocess.PIPE,
        stdin=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert dead.stdout.readline() == "ready\n" and alive.stdout.readline() == "ready\n"
        hosts = set(tmp_path.glob(f"{scratch.PREFIX}*"))
        assert len(hosts) == 2
        dead.kill()
        dead.wait(timeout=10)
        removed = scratch.sweep_dead_hosts(tmp_path)
        assert len(removed) == 1 and set(tmp_path.glob(f"{scratch.PREFIX}*")) == hosts - set(removed)
    finally:
        for process in (dead, alive):
            process.kill()
            process.wait(timeout=10)
        scratch.sweep_dead_hosts(tmp_path)  # and their kernels' bounded filesystems (see sandbox.disk)


FILL_FOREVER = """
import itertools
for number in itertools.count():
    with open(f'fill-{number}', 'wb') as file:
        file.write(b'x' * 2**20)
"""


def test_filling_the_working_directory_fails_at_the_quota_and_the_kernel_goes_on() -> None:
    limits = KernelLimits(isolation=Isolation(disk_quota=32 * 2**20, file_size=16 * 2**20))
    with KernelSession(limits=limits) as session:
        session.execute("x = 'kept'; open('kept.txt', 'w').write('small files are kept')")
        result = session.execute(FILL_FOREVER, timeout=60)
        assert result.error is not None and "No space left on device" in result.error.message
        assert not result.restarted and not result.timed_out
        assert result.notices == [
            (
                "The kernel's work dir is full (32 MiB or 100,000 files at most): writing more there fails "
                "with 'No space left on device' until you remove files. Nothing else was lost."
            )
        ]
        assert (session.working_dir / "kept.txt").read_text() == "small files are kept"
        session.execute("import glob, os; [os.remove(name) for name in glob.glob('fill-*')]")
        assert session.execute("open('again.txt', 'w').write(x)").result == "4"


def test_filling_a_working_directory_no_filesystem_bounds_stops_at_the_quota_and_frees_the_disk(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Where the host can make no bounded filesystem (no mount, no user namespace), the work dir is
    measured once a second: past the quota the kernel is replaced and its files removed."""
    monkeypatch.setattr(disk, "bound", lambda *_: False)
    monkeypatch.setattr(disk.PrivateSpace, "start", lambda *_: None)
    limits = KernelLimits(isolation=Isolation(disk_quota=32 * 2**20, file_size=16 * 2**20))
    with KernelSession(limits=limits) as session:
        session.execute("open('kept.txt', 'w').write('small files are kept')")
        result = session.execute(FILL_FOREVER, timeout=60)
        assert result.restarted and not result.timed_out
        assert "wrote more to its working directory and home than 32 MiB" in " ".join(result.notices)
        assert list(session.working_dir.iterdir()) == []
        assert session.execute("print(sum(1 for _ in __import__('os').scandir('.')))").stdout == "0\n"


def test_a_working_directory_swapped_for_a_link_moves_nothing_of_the_host(
    session: KernelSession, tmp_path: Path
) -> None:
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "id_rsa").write_text("private")
    victim.chmod(0o755)  # reachable by a kernel user, were the host to follow the link
    work = session.working_dir
    session.execute(
        f"import os; os.chdir('/'); os.rename({str(work)!r}, {str(work)!r} + '.old'); "
        f"os.symlink({str(victim)!r}, {str(work)!r})"
    )
    result = session.execute("import os; os.kill(os.getpid(), 9)")  # the kernel dies; its files move on
    assert result.restarted
    assert (victim / "id_rsa").read_text() == "private"
    assert list(session.working_dir.iterdir()) == []


def test_the_kernel_holds_no_capability_and_cannot_gain_one(session: KernelSession) -> None:
    status = dict(
        line.split(":\t", 1)
        for line in run(session, "print(open('/proc/self/status').read())").splitlines()
        if ":\t" in line
    )
    assert {name: status[name].strip() for name in ("CapPrm", "CapEff", "CapAmb", "NoNewPrivs")} == {
        "CapPrm": "0000000000000000",
        "CapEff": "0000000000000000",
        "CapAmb": "0000000000000000",
        "NoNewPrivs": "1",
    }


# Each child holds 300 MiB for 3 s, then ends; the kernel prints how each ended (-9: SIGKILL).
THREE_CHILDREN_OF_300_MIB = """
import os, time
children = []
for _ in range(3):
    pid = os.fork()
    if pid == 0:
        block = bytearray(300 * 1024 * 1024)
        for i in range(0, len(block), 4096):
            block[i] = 1
        time.sleep(3)
        os._exit(0)
    children.append(pid)
print(sorted(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children))
"""


def test_forked_children_share_one_memory_limit_and_the_kernel_survives() -> None:
    """Three children of 300 MiB each, under a 512 MiB limit for the whole kernel and 1 GiB per process: they
    cannot all hold their memory; one is ended, the kernel says why and goes on."""
    mib = 1024**2
    limits = KernelLimits(address_space=1024 * mib, isolation=Isolation(memory=512 * mib))
    with KernelSession(limits=limits) as session:
        result = session.execute(THREE_CHILDREN_OF_300_MIB, timeout=120)
        assert not result.restarted, result.notices
        assert result.stdout.strip().startswith("[-9"), (
            result.stdout + result.stderr
        )  # SIGKILL, by the OOM killer
        assert any(
            "more memory than the kernel may use (512 MiB of memory for the kernel" in n
            for n in result.notices
        )
        assert session.execute("print('still here')").stdout == "still here\n"


def test_the_run_header_says_which_memory_limit_holds() -> None:
    assert KernelLimits().describe() == (
        "bubblewrap, no network, 4 GiB of memory for the kernel and all its processes together (cgroup)"
    )


def test_writing_or_displaying_past_the_disk_quota_fails_at_once() -> None:
    """fallocate past the quota is refused by the filesystem (not found and undone a second later), and what
    code displays is clipped before the host writes it: the host keeps no more than the quota either."""
    mib = 1024**2
    limits = KernelLimits(isolation=Isolation(disk_quota=64 * mib))
    with KernelSession(limits=limits) as session:
        allocated = run(
            session,
            """
import os
fd = os.open('big', os.O_CREAT | os.O_WRONLY)
try:
    os.posix_fallocate(fd, 0, 256 * 1024 * 1024)
    print('allocated', os.fstat(fd).st_blocks * 512 // 2**20, 'MiB')
except OSError as exc:
    print(exc.strerror)
""",
        )
        assert allocated.strip() == "No space left on device"
        shown = session.execute(
            """
from IPython.display import Image, display
for size in (40, 10, 10, 10, 10, 10, 10, 10):
    display(Image(data=b'\\x89PNG\\r\\n\\x1a\\n' + bytes(size * 1024 * 1024), format='png'))
""",
            timeout=120,
        )
        kept = sum(path.stat().st_size for path in session.output_dir.iterdir())
        assert kept <= 64 * mib
        notes = [output.text or "" for output in shown.outputs]
        assert "an image of 40 MiB was not kept" in notes[0]
        assert any("not kept: the session keeps no more images than its disk quota" in n for n in notes[1:])


def test_memory_files_outside_every_address_space_are_refused_or_bounded(session: KernelSession) -> None:
    """memfd_create and System V shared memory hold memory no per-process limit counts: refused (a host that
    is not root has no cgroup to count them). /dev/shm is bounded like /tmp, and /dev takes no files."""
    from tests.sandbox.test_unprivileged import MEMORY_FILES

    outcomes = session.execute(MEMORY_FILES, timeout=60)
    assert outcomes.error is None, outcomes.error
    assert outcomes.result == repr({"memfd": "EPERM", "shm": "EPERM", "dev shm": "ENOSPC", "dev": "EROFS"})


def test_files_a_crashed_kernel_leaves_cannot_break_the_session_and_stay_the_new_kernels(
    session: KernelSession,
) -> None:
    """Named pipes left in the working directory (one in a subdirectory) made carrying the files over to the
    fresh kernel raise in the host; and files it carried over were the host's, which the fresh kernel (a user
    of its own under a root host) could read but not change."""
    session.execute(
        "import os; os.mkfifo('pipe'); os.mkdir('notes'); os.mkfifo('notes/pipe'); "
        "open('notes/kept.txt', 'w').write('kept')"
    )
    crashed = session.execute("import os; os.kill(os.getpid(), 9)")
    assert crashed.restarted
    assert crashed.notices[-1] == (
        "2 entries of the working directory were not carried over to the fresh kernel (named pipes, sockets "
        "and devices are not, nor what does not fit): notes/pipe, pipe."
    )
    after = session.execute(
        "open('notes/kept.txt', 'a').write(' and changed'); import os; os.remove('notes/kept.txt'); "
        "print(sorted(os.listdir('.')))"
    )
    assert after.error is None, after.error
    assert after.stdout == "['notes']\n"


def test_the_kernels_own_directory_takes_no_write_but_where_it_is_bounded(session: KernelSession) -> None:
    """The kernel's directory (its connection file, the bridge's socket, its log) is on the host's disk, and
    writes there were measured only once a second: 256 MiB went in 5 ms. Only the work dir, home and sockets
    take writes, each on a bounded filesystem of its own."""
    result = session.execute(
        "import errno, os\n"
        "try:\n"
        "    fd = os.open('../big', os.O_WRONLY | os.O_CREAT, 0o600)\n"
        "except OSError as exc:\n"
        "    print(errno.errorcode[exc.errno])\n"
        "print(sorted(os.listdir('..')))"
    )
    assert result.error is None, result.error
    assert result.stdout.splitlines()[0] == "EROFS"  # as for a host that is not root (test_unprivileged)
