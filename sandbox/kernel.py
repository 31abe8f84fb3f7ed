"""One ipykernel process: started over IPC, isolated, with limits and a scrubbed environment, the bridge
stub loaded."""

from __future__ import annotations

import os
import queue
import shutil
import signal
import sys
import time
from pathlib import Path
from typing import Any, cast

from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from jupyter_client.provisioning.local_provisioner import LocalProvisioner

from sandbox import disk, scratch
from sandbox.bridge import kernel_stub
from sandbox.cgroup import KernelBound, make_bound
from sandbox.errors import HybridError
from sandbox.isolation import HOME_SIZE
from sandbox.limits import KernelLimits

START_TIMEOUT = 30.0
# The directory where the kernel makes its sockets: bytes and files for a few of them, no more.
SOCKETS_BOUND = (1024**2, 64)
KERNEL_ARGUMENTS = [
    "--HistoryManager.enabled=False",  # no SQLite write per cell
    "--InteractiveShell.colors=nocolor",
]
_SIGNAL_MEANINGS = {
    signal.SIGSEGV: "crashed (segmentation fault)",
    signal.SIGKILL: "was killed (often: it ran out of memory)",
    signal.SIGXCPU: "used up its CPU time limit",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "crashed (bus error)",
}
_STUB_SOURCE = Path(kernel_stub.__file__).read_text(encoding="utf-8")


class KernelError(HybridError, RuntimeError):
    """The kernel could not be started or did not answer the runtime."""


class Kernel:
    """A running ipykernel, private to one session at a time. Start with `Kernel.start(limits)`."""

    def __init__(
        self,
        manager: KernelManager,
        client: BlockingKernelClient,
        directory: Path,
        limits: KernelLimits,
        cgroup: KernelBound | None = None,
        space: disk.PrivateSpace | None = None,
        bounded: tuple[Path, ...] = (),
        owner: int | None = None,
    ) -> None:
        self.manager = manager
        self.owner = owner  # the host user it runs as, where not the host's own (a root host's kernels)
        self.client = client
        self.directory = directory
        self.limits = limits
        # The kernel's bounded filesystems, where they are in a namespace of their own (see `sandbox.disk`);
        # the host reaches its directory through it.
        self.space = space
        self.host_directory = space.view(directory) if space is not None else directory
        # Where code runs: the limits' shared directory, else a private one the kernel can see. The kernel
        # finds it at `kernel_working_dir`; the host at `working_dir`.
        self.kernel_working_dir = limits.working_dir or directory / "work"
        self.working_dir = limits.working_dir or self.host_directory / "work"
        # The session links its bridge's socket here: the only host socket inside the kernel's walls.
        self.bridge_path = directory / "bridge"
        self.cgroup = cgroup  # memory and processes of the kernel and its children together, where made
        # Its directories on a filesystem of their own that bounds bytes and files (as the host sees them).
        self.bounded = frozenset(space.view(path) if space is not None else path for path in bounded)

    @classmethod
    def start(cls, limits: KernelLimits) -> Kernel:
        """Launch a kernel and wait until it runs code; raises `KernelError` with its log if it cannot,
        and `IsolationUnavailable` if it cannot be isolated as `limits.isolation` asks."""
        directory = scratch.new_directory("k-")  # short: socket paths are limited to 107 bytes
        home, sockets = directory / "home", directory / "s"
        home.mkdir()
        (directory / "work").mkdir()
        sockets.mkdir()  # the kernel's own (its directory is read-only to it: see `Isolation.command`)
        quota, files = limits.isolation.disk_quota, limits.isolation.disk_files
        space = None
        bounded: tuple[Path, ...] = ()
        # Not `directory` itself: the bridge's socket is linked into it, and a link cannot cross filesystems.
        if quota is not None:
            bounds = {
                directory / "work": (quota, files),
                home: (min(quota, HOME_SIZE), files),
                sockets: SOCKETS_BOUND,
            }
            if os.geteuid() == 0:
                bounded = tuple(path for path, bound in bounds.items() if disk.bound(path, *bound))
            elif limits.isolation.isolated:
                space = disk.PrivateSpace.start(bounds)
                bounded = tuple(bounds) if space is not None else ()
        manager = KernelManager(
            kernel_name="python3",
            transport="ipc",
            ip=str(sockets / "ipc"),
            # ipykernel's own spec for this interpreter, not one of the user's kernel directories: those
            # are not ours to run, and finding them imports IPython into the host.
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[]),
        )
        manager.connection_file = str(directory / "connection.json")
        spec = manager.kernel_spec
        assert spec is not None
        shared = (limits.working_dir,) if limits.working_dir is not None else ()
        # Jupyter reads a leading "python" as this interpreter only when it comes first; it will not.
        argv = [sys.executable, *spec.argv[1:]] if spec.argv[0].startswith("python") else spec.argv
        owner = limits.isolation.kernel_owner()
        writable = (directory / "work", home, sockets, *shared)
        spec.argv = limits.isolation.command(limits.command(argv), directory, writable, owner)
        if space is not None:
            spec.argv = space.enter(spec.argv)
        isolation = limits.isolation
        cgroup = make_bound(isolation.memory, isolation.processes) if isolation.memory else None
        if cgroup is not None:
            spec.argv = cgroup.command(spec.argv)
        # Signals cannot cross into the kernel's PID namespace: it interrupts itself when asked to.
        spec.interrupt_mode = "message"
        if owner is not None:
            manager.write_connection_file()
            for path in (directory, home, directory / "work", sockets, manager.connection_file, *shared):
                os.chown(path, owner, owner)
        log = open(directory / "kernel.log", "wb")  # noqa: SIM115 - the kernel process keeps writing to it
        try:
            manager.start_kernel(
                env=limits.kernel_environment(home=home),
                cwd=str(directory),
                stdout=log,
                stderr=log,
                extra_arguments=KERNEL_ARGUMENTS,
            )
        except BaseException:
            if cgroup is not None:
                cgroup.remove()
            if space is not None:
                space.close()
            raise
        finally:
            log.close()
        if space is not None:  # its sockets are in its namespace: the host reaches them through it
            manager.ip = str(space.view(sockets / "ipc"))
        kernel = cls(manager, manager.client(), directory, limits, cgroup, space, bounded, owner)
        try:
            kernel.client.start_channels()
            kernel.client.wait_for_ready(timeout=START_TIMEOUT)
            if cgroup is not None:  # running by now, so in its cgroup however that was made
                cgroup.started(kernel.pid)
            kernel.run_quietly(
                f"__import__('sys').modules[{kernel_stub.MODULE_NAME!r}] = "
                f"__import__('types').ModuleType({kernel_stub.MODULE_NAME!r})\n"
                f"exec(compile({_STUB_SOURCE!r}, {kernel_stub.SOURCE_NAME!r}, 'exec'), "
                f"__import__('sys').modules[{kernel_stub.MODULE_NAME!r}].__dict__)\n"
                f"__import__('sys').modules[{kernel_stub.MODULE_NAME!r}].setup(get_ipython())\n"
            )
        except Exception as exc:
            log_tail = kernel.log_tail()
            kernel.kill()
            raise KernelError(f"the kernel did not start: {exc}\nIts last output:\n{log_tail}") from exc
        return kernel

    @property
    def pid(self) -> int:
        pid = self._provisioner.pid
        if pid is None:
            raise KernelError("the kernel has no process: it was not started, or it has ended")
        return pid

    @property
    def _provisioner(self) -> LocalProvisioner:
        # KernelManager starts kernels through the local provisioner unless a kernel spec names another.
        return cast(LocalProvisioner, self.manager.provisioner)

    def alive(self) -> bool:
        return self.manager.is_alive()

    def interrupt(self) -> None:
        """Ask the kernel to SIGINT itself: Python code stops with KeyboardInterrupt."""
        self.manager.interrupt_kernel()

    def run_quietly(self, code: str, timeout: float = 10.0) -> None:
        """Run runtime code without output or history; raises `KernelError` if it fails."""
        msg_id = self.client.execute(code, silent=True, store_history=False, allow_stdin=False)
        reply = self.reply_to(msg_id, timeout)
        if reply is None:
            raise KernelError(f"the kernel did not answer within {timeout} s")
        if reply["status"] != "ok":
            raise KernelError(
                f"runtime code failed in the kernel: {reply.get('ename')}: {reply.get('evalue')}"
            )

    def reply_to(self, msg_id: str, timeout: float) -> dict[str, Any] | None:
        """The shell reply to request `msg_id`, or None if it does not come within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                message = self.client.get_shell_msg(timeout=remaining)
            except queue.Empty:
                return None
            if message["parent_header"].get("msg_id") == msg_id:
                content: dict[str, Any] = message["content"]
                return content
        return None

    def exit_description(self) -> str:
        """How the kernel ended, in words, e.g. 'crashed (segmentation fault)'."""
        process = self._provisioner.process if self.manager.provisioner else None
        code = process.poll() if process else None
        if code is None:
            return "stopped responding"
        if self.oom_kills():
            return f"was ended for using more than its memory limit ({self.limits.describe_memory()})"
        if self.limits.isolation.isolated and code > 128:
            code = 128 - code  # bubblewrap exits with 128 + the signal that ended the kernel
        if code < 0:
            try:
                number = signal.Signals(-code)
            except ValueError:
                return f"was ended by signal {-code}"
            return _SIGNAL_MEANINGS.get(number, f"was ended by signal {number.name}")
        return f"exited with code {code}"

    def log_tail(self, lines: int = 20) -> str:
        try:
            text = (self.directory / "kernel.log").read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def over_disk_quota(self) -> bool:
        """Whether the kernel's own files (its work dir and home, not a shared working dir) are over the
        isolation's disk quota in bytes, or in number: a million empty files fill a disk's inodes. What a
        filesystem of its own bounds (see `sandbox.disk`) is left to it: a write past that failed at once."""
        quota = self.limits.isolation.disk_quota
        if quota is None:
            return False
        used, files = 0, 0
        pending = [self.host_directory]
        while pending:
            try:
                entries = list(os.scandir(pending.pop()))
            except OSError:
                continue
            for entry in entries:
                if Path(entry.path) in self.bounded:
                    continue
                files += 1
                if entry.is_dir(follow_symlinks=False):
                    pending.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    used += entry.stat(follow_symlinks=False).st_blocks * 512
                if used > quota or files > self.limits.isolation.disk_files:
                    return True
        return False

    def full_directories(self) -> list[str]:
        """Which of its bounded directories ("work dir", "home") are full, in bytes or files (as the kernel
        sees them): a write there now fails with ENOSPC until something is removed."""
        full = []
        for path in sorted(self.bounded):
            try:
                usage = os.statvfs(path)
            except OSError:
                continue
            if usage.f_bavail == 0 or usage.f_favail == 0:
                full.append("home" if path.name == "home" else "work dir")
        return full

    def stop(self) -> None:
        """End the kernel and every process it started, at once; its files stay until `kill()`."""
        self.client.stop_channels()
        if self.manager.has_kernel:
            self.manager.shutdown_kernel(now=True)

    def oom_kills(self) -> int:
        """How many of the kernel's processes (itself or its children) were ended for breaking its memory
        limit."""
        return self.cgroup.oom_kills() if self.cgroup is not None else 0

    def enforce_memory(self) -> None:
        """Where nothing else bounds the kernel's memory as a whole (see `sandbox.cgroup.MemoryWatch`), end
        the largest of its processes while together they are past the limit."""
        if self.cgroup is not None:
            self.cgroup.enforce()

    def kill(self) -> None:
        """End the kernel and every process it started, at once, and remove its files."""
        self.stop()
        if self.space is not None:
            self.space.close()
        disk.release(self.directory)
        shutil.rmtree(self.directory, ignore_errors=True)
        if self.cgroup is not None:
            self.cgroup.remove()
