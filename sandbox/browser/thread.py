"""One thread that owns the Playwright objects and runs every call made to them, from any thread.

Playwright's sync API binds its objects to the thread (greenlet) that created them, and a browser
has one current page anyway, so the service serialises calls onto this thread instead of locking.
Playwright's events (dialogs, new tabs, crashes) are dispatched on it too, inside those calls.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future, TimeoutError as FutureTimeout
from typing import Any, TypeVar

from sandbox.browser.errors import BrowserError

T = TypeVar("T")


class OwnerThread:
    def __init__(self, name: str) -> None:
        self._queue: queue.SimpleQueue[tuple[Callable[..., Any], tuple[Any, ...], Future[Any]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    def call(self, fn: Callable[..., T], *args: Any, timeout: float) -> T:
        """Run `fn(*args)` on the owner thread and return its result or raise its exception."""
        if threading.current_thread() is self._thread:  # e.g. a policy hook calling back in
            return fn(*args)
        if not self._thread.is_alive():
            raise BrowserError("The browser service has been closed; the host must create a new one.")
        future: Future[T] = Future()
        self._queue.put((fn, args, future))
        try:
            return future.result(timeout)
        except FutureTimeout:
            future.cancel()  # if it has not started yet, it never will
            raise BrowserError(
                f"The browser did not answer within {timeout:g} s; it may be hung. "
                "Later calls wait until it answers."
            ) from None

    def stop(self, timeout: float) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _loop(self) -> None:
        while (item := self._queue.get()) is not None:
            fn, args, future = item
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(*args))
            except BaseException as exc:  # noqa: BLE001 -- handed to the caller, which re-raises it
                future.set_exception(exc)
