"""`BrowserService`: the host-side browser that kernel code drives as `browser.*` through the bridge.

Every public method takes and returns JSON-serialisable values, so the capability bridge can call it
by name. Methods that show a page return text written for the model: after an action, what changed
(the URL, dialogs, messages, and either a diff of the page or the new page in full).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from sandbox import scratch
from sandbox.bridge import serving_working_dir
from sandbox.browser.config import BrowserConfig, CredentialProvider, Timeouts, WriteCheck
from sandbox.browser.errors import BrowserError, WriteRefused
from sandbox.browser.files import UploadRefused
from sandbox.browser.observe import Limits
from sandbox.browser.origins import Origins
from sandbox.browser.registry import ACTIONS, Action, BrowserCall, kernel_methods, prompt_lines
from sandbox.browser.session import BrowserSession
from sandbox.browser.thread import OwnerThread
from sandbox.reads import ReadRules

if TYPE_CHECKING:
    from playwright.sync_api import Page

    # The actions, typed; at run time they are set from the registry at the end of this module.
    from sandbox.browser.methods import ActionMethods
else:
    ActionMethods = object

T = TypeVar("T")

# Chromium stalls on a closed network without these (background fetches, component updates, sync).
DEFAULT_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
DEFAULT_TIMEOUTS = Timeouts()
DEFAULT_LIMITS = Limits()
# Beyond the Playwright timeouts an action already has: launching or restarting the browser.
CALL_MARGIN_SECONDS = 60.0


class BrowserService(ActionMethods):
    """One Chromium with its tabs, owned by the host and safe to call from any host thread.

    ```python
    with BrowserService("/usr/bin/chromium", credentials=lambda site: SiteLogin(...)) as browser:
        browser.login("demo")
        print(browser.goto("/alice/docs-site/settings"))
        browser.select(browser.find("combobox", "New owner"), "grace")
        print(browser.click(browser.find("button", "Transfer project")))
    ```

    Reach: with `origins` (the run's sites' URLs), the browser opens, loads, submits to and is
    redirected to those origins only (scheme, host and port); every other request is blocked, and
    `goto` refuses anything but http(s) pages of those origins.

    Policy: `before_write(classification) -> bool` is asked before every write (a click or key that
    submits a non-GET form, or a non-GET request a page sends on its own, held meanwhile) and refuses
    it by returning False. It is asked on the thread that called the action, never on the browser's
    own thread, so a person may take their time to answer. `classify(method, args)` tells ahead of
    a call whether it writes. Secrets stay here: `login(site)` reads the credentials from
    `credentials(site)`, and `cookies(url)` is for the host's own API clients; only `KERNEL_METHODS`
    may be exposed to the kernel.
    """

    KERNEL_METHODS = kernel_methods()

    def __init__(
        self,
        executable: str | Path,
        *,
        args: tuple[str, ...] = DEFAULT_ARGS,
        headless: bool = True,
        credentials: CredentialProvider | None = None,
        before_write: WriteCheck | None = None,
        origins: Iterable[str] | None = None,
        screenshot_dir: str | Path | None = None,
        timeouts: Timeouts = DEFAULT_TIMEOUTS,
        limits: Limits = DEFAULT_LIMITS,
        upload_dir: str | Path | None = None,
    ) -> None:
        """`upload_dir`: where `upload(id, path)` reads files when it is not called from a kernel (whose
        call reads from that kernel's working directory)."""
        # By default in this process's scratch directory, made at the first screenshot and removed with it.
        shots = Path(screenshot_dir) if screenshot_dir else scratch.new_path("screenshots-")
        config = BrowserConfig(
            executable=str(executable),
            args=tuple(args),
            headless=headless,
            timeouts=timeouts,
            limits=limits,
            screenshot_dir=shots,
            check_writes=before_write is not None,
        )
        self._timeouts = timeouts
        self._before_write = before_write
        self._upload_dir = Path(upload_dir) if upload_dir is not None else None
        self._session = BrowserSession(config, credentials, Origins(origins) if origins is not None else None)
        self._thread = OwnerThread("browser-service")

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the browser and stop the service's thread."""
        try:
            self._thread.call(self._session.close, timeout=CALL_MARGIN_SECONDS)
        finally:
            self._thread.stop(timeout=CALL_MARGIN_SECONDS)

    def perform(self, call: BrowserCall) -> Any:
        """Do the call `classify` made, which the caller's policy has allowed; it is not classified again
        (the bridge's policy decided on this very effect)."""
        return self._run(call.method, call.args, call)

    def _callers_files(self) -> Path:
        """The directory the caller's files are in: the calling kernel's working directory."""
        work_dir = serving_working_dir() or self._upload_dir
        if work_dir is None:
            raise UploadRefused(
                "upload() reads files from the calling kernel's working directory, and this call "
                "comes from no kernel; give the BrowserService an upload_dir."
            )
        return work_dir

    def _run(self, method: str, args: tuple[Any, ...], approved: BrowserCall | None = None) -> Any:
        """Run an action on the browser's thread; between its steps, ask `before_write` here (see `Step`)."""
        t = self._timeouts
        entry = ACTIONS[method]
        if entry.prepare is not None:
            args = entry.prepare(args, self._callers_files())
        waits = entry.waits
        budget = (
            t.navigation + 2 * t.settle + t.action + (waits(t, args) if waits else 0.0) + CALL_MARGIN_SECONDS
        )
        step = self._thread.call(self._session.run, method, args, approved, timeout=budget)
        if step.ask is not None:
            if not self._allowed(step.ask):
                raise WriteRefused(
                    f"The session's policy refused to {step.ask.description}. Nothing was "
                    "submitted; finish without this change, or ask the user to allow it."
                )
            step = self._thread.call(self._session.run, method, args, step.ask, timeout=budget)
        result = step.result
        while step.held:
            verdicts = [self._allowed(write) for write in step.held]
            step = self._thread.call(self._session.release, verdicts, isinstance(result, str), timeout=budget)
            if isinstance(result, str):
                result = f"{result}\n{step.result}"
        return result

    def _allowed(self, write: BrowserCall) -> bool:
        # The session announces or holds writes only when there is a `before_write` (`check_writes`).
        assert self._before_write is not None
        return self._before_write(write)

    @staticmethod
    def prompt_lines() -> list[str]:
        """What a model is told about `browser.*`: one line (or a few) per action offered to the kernel."""
        return prompt_lines()

    # Host only -------------------------------------------------------------------------------

    def classify(
        self, method: str, args: Sequence[Any], kwargs: Mapping[str, Any] | None = None
    ) -> BrowserCall:
        """`method(*args, **kwargs)` with all its arguments in order and its effect (whether it would write,
        the domain it touches, the form it submits), for the policy to decide first; `perform(call)` then
        does it."""
        entry = ACTIONS.get(method)
        if entry is None or not entry.for_kernel:
            offered = ", ".join(sorted(self.KERNEL_METHODS))
            raise BrowserError(f"The browser has no action {method!r}; actions: {offered}.")
        arguments = entry.arguments(args, kwargs or {})
        return self._thread.call(self._session.classify, method, arguments, timeout=CALL_MARGIN_SECONDS)

    def with_page(self, fn: Callable[[Page], T], *, timeout: float = CALL_MARGIN_SECONDS) -> T:
        """Host only: `fn(page)` with the current tab's Playwright page, on the browser's thread, for what the
        host reads or sets itself (a benchmark's evaluators reading the page a run ended on, the cookies of a
        saved sign-in). Never offered to the kernel."""
        page_result: T = self._thread.call(self._session.with_page, fn, timeout=timeout)
        return page_result

    def restrict(self, origins: Iterable[str]) -> None:
        """From now on, reach only the origins of these URLs (a run's sites' web and API URLs)."""
        allowed = Origins(origins)
        self._thread.call(self._session.restrict, allowed, timeout=CALL_MARGIN_SECONDS)

    def mark_reads(self, marked: Iterable[tuple[str, str]]) -> None:
        """From now on, a request of one of these (method, URL template) pairs reads, as a GET or a POST
        that only queries does (a run's sites' operations that the spec or the user marks read): a page
        that sends one is not held for the policy, and a form that submits one does not write."""
        rules = ReadRules(marked)
        self._thread.call(self._session.mark_reads, rules, timeout=CALL_MARGIN_SECONDS)

    def take_requests(self) -> list[tuple[str, str]]:
        """The (method, URL) of the pages' requests answered with success (below 400) since the last take
        (oldest first, the newest 2,000 kept): what a run's host reads to learn which API operations the
        pages called."""
        requests: list[tuple[str, str]] = self._thread.call(
            self._session.take_sent, timeout=CALL_MARGIN_SECONDS
        )
        return requests


def _method(entry: Action) -> Callable[..., Any]:
    """`BrowserService.<action>`, with the action's signature and docstring (the kernel's stub shows them)."""

    def call(self: BrowserService, *args: Any, **kwargs: Any) -> Any:
        return self._run(entry.name, entry.arguments(args, kwargs))

    call.__name__ = call.__qualname__ = entry.name
    call.__doc__ = entry.doc
    call.__signature__ = entry.signature.replace(  # type: ignore[attr-defined]
        parameters=[
            inspect.Parameter("self", inspect.Parameter.POSITIONAL_ONLY),
            *entry.signature.parameters.values(),
        ]
    )
    return call


# The session imported `actions`, which registered every action.
for _entry in ACTIONS.values():
    setattr(BrowserService, _entry.name, _method(_entry))
