"""A kernel session: run code actions with time limits, recover from hangs and crashes, serve capabilities."""

from __future__ import annotations

import errno
import os
import queue
import shutil
import stat
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from sandbox import disk, scratch
from sandbox.bridge import BridgeServer, Capability, Dispatcher, HostFunction, Policy
from sandbox.bridge.kernel_stub import MODULE_NAME
from sandbox.cgroup import WATCH_SECONDS
from sandbox.collect import OutputCollector
from sandbox.isolation import HOME_SIZE
from sandbox.kernel import Kernel
from sandbox.limits import KernelLimits
from sandbox.names import FINISH
from sandbox.results import ExecutionResult

LOST_STATE = (
    "A fresh kernel was started: all variables, imports and definitions are gone; "
    "run again whatever your code needs."
)
# How often a silent kernel is checked for death; also bounds how late a time limit is noticed.
POLL_SECONDS = 0.2
# How often a running action's disk use is measured against the quota.
DISK_CHECK_SECONDS = 1.0


class _OverQuota(str):
    """Why a kernel was replaced, when it was for writing too much: its files go with it."""


def _over_quota(kernel: Kernel) -> _OverQuota:
    isolation = kernel.limits.isolation
    return _OverQuota(
        "Your code wrote more to its working directory and home than "
        f"{(isolation.disk_quota or 0) / 2**20:,.0f} "
        f"MiB or {isolation.disk_files:,} files, the limit; it was stopped and its files were removed"
    )


def _full(kernel: Kernel, directory: str) -> str:
    isolation = kernel.limits.isolation
    size = isolation.disk_quota or 0
    size = min(size, HOME_SIZE) if directory == "home" else size
    return (
        f"The kernel's {directory} is full ({size / 2**20:,.0f} MiB or "
        f"{isolation.disk_files:,} files at most): writing more there fails with 'No space left on device' "
        "until you remove files. Nothing else was lost."
    )


class _Answer:
    """What `finish(answer)` received in the kernel."""

    def __init__(self) -> None:
        self.given = False
        self.value: Any = None

    def finish(self, answer: Any = None) -> str:
        """Give the final answer to the task and end the run. Call it once, as the last thing you do."""
        self.given, self.value = True, answer
        return "Answer recorded."


class KernelSession:
    """A kernel for one run, with its own capability bridge, policy and record.

    Use as a context manager, or call `shutdown()`. `KernelPool.acquire()` makes one in milliseconds;
    constructing one directly starts a kernel (about half a second).

    >>> with KernelSession(policy=Policy(mode="read-only")) as session:
    ...     session.register("api", Namespace({"demo": {"ping": HostFunction(ping, writes=False)}}))
    ...     result = session.execute("api.demo.ping()", timeout=10)
    """

    def __init__(
        self,
        *,
        limits: KernelLimits | None = None,
        policy: Policy | None = None,
        secrets: Iterable[str] = (),
        max_output_chars: int = 20_000,
        interrupt_grace: float = 3.0,
        output_dir: Path | None = None,
        kernels: Callable[[], Kernel] | None = None,
    ) -> None:
        """`secrets` are values redacted everywhere (tokens the host's capabilities use); `kernels`
        supplies fresh kernels, for the first one and each restart (a pool passes its own)."""
        self.limits = limits or KernelLimits()
        self.max_output_chars = max_output_chars
        self.interrupt_grace = interrupt_grace
        self._new_kernel = kernels or partial(Kernel.start, self.limits)
        self._owns_output_dir = output_dir is None
        self.output_dir = output_dir or scratch.new_directory("outputs-")
        quota = self.limits.isolation.disk_quota
        if self._owns_output_dir and quota is not None:  # what code displays is bounded like what it writes
            disk.bound(self.output_dir, quota, self.limits.isolation.disk_files)
        self.dispatcher = Dispatcher(policy, secrets)
        self.dispatcher.working_dir = lambda: self.working_dir
        self._answer = _Answer()
        self._images_written = 0  # bytes of images kept from this session's displays
        self._left_behind: list[str] = []  # what a kernel replaced meanwhile could not pass on, to be told
        self.dispatcher.register(FINISH, HostFunction(self._answer.finish, writes=False))
        self._lock = threading.Lock()
        self._actions = 0
        self._interrupt_requested = False
        self._bridge = BridgeServer(self.dispatcher)
        self._kernel: Kernel | None = None
        try:
            self._kernel = self._start_kernel()
        except BaseException:
            self.shutdown()
            raise

    @property
    def kernel_pid(self) -> int:
        return self._live_kernel().pid

    @property
    def working_dir(self) -> Path:
        """Where code runs: files written there stay across restarts, and are removed at shutdown
        unless the limits named the directory."""
        return self._live_kernel().working_dir

    def register(self, name: str, capability: Capability) -> None:
        """Offer `capability` to the kernel as the global `name` (replacing one of that name)."""
        self.dispatcher.register(name, capability)
        self._live_kernel().run_quietly(
            f"__import__('sys').modules[{MODULE_NAME!r}].refresh(get_ipython().user_ns)"
        )

    def execute(self, code: str, timeout: float = 30.0) -> ExecutionResult:
        """Run `code` as one action. Never raises for anything the code does; returns what happened.

        At `timeout` seconds (not counting time a person spends answering a confirm prompt) the code is
        interrupted, keeping its variables; if the kernel does not stop within `interrupt_grace`
        seconds, or dies, it is replaced by a fresh one and the result says the state is gone.
        """
        with self._lock:
            kernel = self._live_kernel()
            self._actions += 1
            self._interrupt_requested = False
            notices: list[str] = []
            restarted = not kernel.alive()
            if restarted:
                notices.append(f"The kernel {kernel.exit_description()} between actions. {LOST_STATE}")
                kernel = self._replace_kernel()
            quota = self.limits.isolation.disk_quota
            collector = OutputCollector(
                self.output_dir,
                f"action-{self._actions}",
                self.max_output_chars,
                self.dispatcher.redactor,
                # Where no filesystem bounds the outputs (a host that is not root), counted here.
                None if quota is None else max(0, quota - self._images_written),
            )
            started = time.monotonic()
            oom_kills = kernel.oom_kills()
            timed_out, failure = self._run(kernel, code, timeout, collector)
            if failure is None and kernel.oom_kills() > oom_kills:
                notices.append(
                    "A process your code started was ended for using more memory than the kernel may use "
                    f"({self.limits.describe_memory()}); the kernel itself goes on. "
                    "Use less memory at once, or fewer processes."
                )
            if failure is None:
                notices += [_full(kernel, directory) for directory in kernel.full_directories()]
            over_quota = failure is None and kernel.over_disk_quota()  # what was written at the very end
            if over_quota:
                failure = _over_quota(kernel)
            if failure is not None:
                notices.append(f"{failure}. {LOST_STATE}")
                self._replace_kernel(keep_files=not isinstance(failure, _OverQuota))
                restarted = True
            result = collector.finish()
            self._images_written += collector.written
        result.duration = time.monotonic() - started
        result.restarted = restarted
        result.timed_out = timed_out
        result.interrupted = (timed_out or self._interrupt_requested) and failure is None
        if timed_out and failure is None:
            notices.insert(
                0,
                f"Your code was interrupted after {timeout:g} s, the time limit for one action. Variables "
                "and imports are kept; whatever came after the point shown did not run.",
            )
        notices += self._left_behind
        self._left_behind.clear()
        result.notices = notices
        result.calls = self.dispatcher.recorder.take()
        result.finished, result.answer = self._answer.given, self._answer.value
        return result

    def complete(self, code: str, timeout: float = 5.0) -> list[str]:
        """What tab completion offers at the end of `code`, e.g. `api.demo.li` -> `['list_issues']`."""
        with self._lock:
            kernel = self._live_kernel()
            reply = kernel.reply_to(kernel.client.complete(code), timeout)
        return list(reply["matches"]) if reply and reply.get("status") == "ok" else []

    def interrupt(self) -> None:
        """Stop the running code (from another thread) as if by Ctrl-C; variables are kept."""
        self._interrupt_requested = True
        self._live_kernel().interrupt()

    def restart(self) -> None:
        """Replace the kernel with a fresh one: all variables are lost; capabilities stay."""
        with self._lock:
            self._live_kernel()
            self._replace_kernel()

    def shutdown(self) -> None:
        """End the kernel and the bridge, and remove the working and output directories the session made."""
        kernel, self._kernel = self._kernel, None
        if kernel is not None:
            kernel.kill()
        self._bridge.close()
        if self._owns_output_dir:
            disk.release(self.output_dir)
            shutil.rmtree(self.output_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.shutdown()

    def _run(
        self, kernel: Kernel, code: str, timeout: float, collector: OutputCollector
    ) -> tuple[bool, str | None]:
        """Run `code`, feeding its output to `collector`, until the kernel is idle again.

        Returns whether the time limit was reached, and why the kernel must be replaced (None if not).
        """
        started = time.monotonic()
        decided_before = self.dispatcher.deciding_seconds()
        msg_id = kernel.client.execute(code, store_history=True, allow_stdin=False)
        interrupted_at: float | None = None
        next_disk_check = started + DISK_CHECK_SECONDS
        next_memory_check = started  # at once: what processes left by earlier actions hold counts too
        while True:
            now = time.monotonic()
            if now >= next_memory_check:
                kernel.enforce_memory()
                next_memory_check = now + WATCH_SECONDS
            if now >= next_disk_check:
                if kernel.over_disk_quota():
                    return interrupted_at is not None, _over_quota(kernel)
                next_disk_check = now + DISK_CHECK_SECONDS
            if interrupted_at is None:
                deadline = started + timeout + (self.dispatcher.deciding_seconds() - decided_before)
                if now >= deadline:
                    kernel.interrupt()
                    interrupted_at = now
                    continue
                wait = min(POLL_SECONDS, deadline - now)
            else:
                if now >= interrupted_at + self.interrupt_grace:
                    return True, f"Your code did not stop within {self.interrupt_grace:g} s of an interrupt"
                wait = min(POLL_SECONDS, interrupted_at + self.interrupt_grace - now)
            try:
                message = kernel.client.get_iopub_msg(timeout=wait)
            except queue.Empty:
                if not kernel.alive():
                    return (
                        interrupted_at is not None,
                        f"The kernel {kernel.exit_description()} while running your code",
                    )
                continue
            if message["parent_header"].get("msg_id") != msg_id:
                continue
            if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
                kernel.reply_to(msg_id, timeout=1.0)  # consume it, so replies never pile up
                return interrupted_at is not None, None
            collector.add(message)

    def _live_kernel(self) -> Kernel:
        if self._kernel is None:
            raise RuntimeError("this kernel session was shut down; acquire a new one")
        return self._kernel

    def _start_kernel(self) -> Kernel:
        kernel = self._new_kernel()
        try:
            # A second name for the bridge's socket inside the kernel's directory, the one host path
            # an isolated kernel can see; connecting through it reaches the same socket.
            os.link(self._bridge.path, kernel.bridge_path)
            kernel.run_quietly(
                f"__import__('os').chdir({str(kernel.kernel_working_dir)!r})\n"
                f"__import__('sys').modules[{MODULE_NAME!r}].connect("
                f"get_ipython().user_ns, {str(kernel.bridge_path)!r}, {self._bridge.token!r})"
            )
        except BaseException:
            kernel.kill()
            raise
        return kernel

    def _replace_kernel(self, keep_files: bool = True) -> Kernel:
        """A fresh kernel for the lost one, with the lost one's files (unless they broke the disk quota)."""
        old, self._kernel = self._kernel, None
        assert old is not None
        old.stop()
        try:
            self._kernel = self._start_kernel()
            if keep_files and old.working_dir != self._kernel.working_dir:
                left = _move_entries(old.working_dir, self._kernel.working_dir, self._kernel.owner)
                if left:
                    shown = ", ".join(sorted(left)[:10]) + (", ..." if len(left) > 10 else "")
                    self._left_behind.append(
                        f"{len(left)} entries of the working directory were not carried over to the fresh "
                        f"kernel (named pipes, sockets and devices are not, nor what does not fit): {shown}."
                    )
        finally:
            old.kill()
        return self._kernel


def _move_entries(source: Path, destination: Path, owner: int | None = None) -> list[str]:
    """Move what `source` holds into `destination`, never following a link the kernel may have put there
    (its directory could have been swapped for a link to the host's files); returns what could not be moved
    (a named pipe, a socket or a device is not carried over, nor what does not fit). What is copied is
    given to `owner` (the new kernel's user, where not the host's)."""
    try:
        directory = os.open(source, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
    except OSError:
        return []
    left: list[str] = []
    try:
        for name in os.listdir(directory):
            try:
                os.rename(name, destination / name, src_dir_fd=directory)
                if owner is not None:
                    _give(destination / name, owner)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    left.append(name)
                    continue
                # Each kernel's directory is a filesystem of its own (see `sandbox.disk`): copied, links as
                # links, through the directory opened above.
                _copy(Path(f"/proc/self/fd/{directory}/{name}"), destination / name, name, left, owner)
    finally:
        os.close(directory)
    return left


def _give(path: Path, owner: int) -> None:
    """Give `path` and all under it (no link followed) to `owner`."""
    os.lchown(path, owner, owner)
    if path.is_dir() and not path.is_symlink():
        for top, directories, files in os.walk(path):
            for name in directories + files:
                os.lchown(os.path.join(top, name), owner, owner)


def _copy(source: Path, destination: Path, shown: str, left: list[str], owner: int | None) -> None:
    """Copy `source` (not followed if a link) to `destination`: regular files, directories and links only;
    what cannot be copied is added to `left` by `shown`, its path in the working directory."""
    try:
        mode = os.lstat(source).st_mode
        if stat.S_ISLNK(mode):
            os.symlink(os.readlink(source), destination)
        elif stat.S_ISDIR(mode):
            os.mkdir(destination, stat.S_IMODE(mode) | 0o700)
            for name in os.listdir(source):
                _copy(source / name, destination / name, f"{shown}/{name}", left, owner)
        elif stat.S_ISREG(mode):
            shutil.copy2(source, destination, follow_symlinks=False)
        else:
            left.append(shown)
            return
        if owner is not None:
            os.lchown(destination, owner, owner)
    except OSError:
        left.append(shown)
