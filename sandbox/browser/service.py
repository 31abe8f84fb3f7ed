"""`BrowserService`: the host-side browser that kernel code drives as `browser.*` through the bridge.

Every public method takes and returns JSON-serialisable values, so the capability bridge can call it
by name. Methods that show a page return text written for the model: after an action, what changed
(the URL, dialogs, messages, and either a diff of the page or the new page in full).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

from sandbox.browser.config import BrowserConfig, CredentialProvider, Timeouts, WriteCheck
from sandbox.browser.errors import WriteRefused
from sandbox.browser.observe import Limits
from sandbox.browser.origins import Origins
from sandbox.browser.session import BrowserSession
from sandbox.browser.thread import OwnerThread

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


class BrowserService:
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

    KERNEL_METHODS = frozenset({
        "observe", "text", "screenshot", "goto", "click", "fill", "select", "check", "press", "scroll",
        "back", "forward", "wait_for", "tabs", "switch", "find", "login", "answer_dialogs",
    })

    def __init__(self, executable: str | Path, *, args: tuple[str, ...] = DEFAULT_ARGS, headless: bool = True,
                 credentials: CredentialProvider | None = None, before_write: WriteCheck | None = None,
                 origins: Iterable[str] | None = None, screenshot_dir: str | Path | None = None,
                 timeouts: Timeouts = DEFAULT_TIMEOUTS, limits: Limits = DEFAULT_LIMITS) -> None:
        shots = Path(screenshot_dir) if screenshot_dir else Path(tempfile.mkdtemp(prefix="hybrid-screenshots-"))
        config = BrowserConfig(executable=str(executable), args=tuple(args), headless=headless,
                               timeouts=timeouts, limits=limits, screenshot_dir=shots,
                               check_writes=before_write is not None)
        self._timeouts = timeouts
        self._before_write = before_write
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

    def _run(self, method: str, *args: Any, waits: float = 0.0) -> Any:
        """Run an action on the browser's thread; between its steps, ask `before_write` here (see `Step`)."""
        t = self._timeouts
        budget = t.navigation + 2 * t.settle + t.action + waits + CALL_MARGIN_SECONDS
        step = self._thread.call(self._session.run, method, args, None, timeout=budget)
        if step.ask is not None:
            if not self._before_write(step.ask):
                raise WriteRefused(f"The session's policy refused to {step.ask['description']}. Nothing was "
                                   "submitted; finish without this change, or ask the user to allow it.")
            step = self._thread.call(self._session.run, method, args, step.ask["description"], timeout=budget)
            if step.ask is not None:  # the page changed under the question: what was allowed is not this
                raise WriteRefused(f"The page changed while the policy was asked; {step.ask['description']} "
                                   "was not done. Observe the page and try again.")
        result = step.result
        while step.held:
            verdicts = [self._before_write(write) for write in step.held]
            step = self._thread.call(self._session.release, verdicts, isinstance(result, str), timeout=budget)
            if isinstance(result, str):
                result = f"{result}\n{step.result}"
        return result

    # Looking ---------------------------------------------------------------------------------

    def observe(self) -> str:
        """The current page as a compact accessibility tree, with an id for each element to act on."""
        return self._run("observe")

    def text(self) -> str:
        """The page's readable text (frames included), after its URL."""
        return self._run("text")

    def screenshot(self, full_page: bool = False) -> str:
        """Save a PNG of the current tab and return its path on the host."""
        return self._run("screenshot", full_page)

    def find(self, role: str, name: str) -> int:
        """The id of the one element with this role and accessible name, e.g. find("button", "Save")."""
        return self._run("find", role, name)

    # Acting ----------------------------------------------------------------------------------

    def goto(self, url: str) -> str:
        """Open a URL, or a path resolved against the current page's URL."""
        return self._run("goto", url)

    def click(self, element_id: int) -> str:
        return self._run("click", element_id)

    def fill(self, element_id: int, text: str) -> str:
        """Replace the text in a textbox."""
        return self._run("fill", element_id, text)

    def select(self, element_id: int, option: str) -> str:
        """Choose a drop-down's option by its label (or value)."""
        return self._run("select", element_id, option)

    def check(self, element_id: int, checked: bool = True) -> str:
        """Tick (or with checked=False, untick) a checkbox or radio button."""
        return self._run("check", element_id, checked)

    def press(self, key: str, element_id: int | None = None) -> str:
        """Press a key (Enter, Tab, Escape, Control+A...) in the focused element or in `element_id`."""
        return self._run("press", key, element_id)

    def scroll(self, direction: str = "down") -> str:
        """Scroll the page down, up, to the top or to the bottom."""
        return self._run("scroll", direction)

    def back(self) -> str:
        return self._run("back")

    def forward(self) -> str:
        return self._run("forward")

    def wait_for(self, text_or_id: str | int, timeout: float | None = None) -> str:
        """Wait until a text appears on the page, or an observed element becomes visible and enabled."""
        return self._run("wait_for", text_or_id, timeout, waits=timeout or self._timeouts.wait)

    def answer_dialogs(self, accept: bool = True, text: str | None = None) -> str:
        """How to answer the page's alert/confirm/prompt dialogs from now on (default: accept)."""
        return self._run("answer_dialogs", accept, text)

    # Tabs ------------------------------------------------------------------------------------

    def tabs(self) -> list[dict]:
        """The open tabs: index, url, title, and which is current."""
        return self._run("tabs")

    def switch(self, index: int) -> str:
        """Make tab `index` current and show it."""
        return self._run("switch", index)

    # Sessions --------------------------------------------------------------------------------

    def login(self, site: str) -> str:
        """Sign in to a site's web UI with the credentials configured on the host."""
        return self._run("login", site)

    # Host only -------------------------------------------------------------------------------

    def classify(self, method: str, args: list | tuple) -> dict:
        """Whether `method(*args)` would write, and the domain it touches, for the policy to decide first.

        Returns {"method", "args", "writes": bool, "domain": host or None, "description": str}.
        """
        return self._thread.call(self._session.classify, method, tuple(args), timeout=CALL_MARGIN_SECONDS)

    def restrict(self, origins: Iterable[str]) -> None:
        """From now on, reach only the origins of these URLs (a run's sites' web and API URLs)."""
        allowed = Origins(origins)
        self._thread.call(self._session.restrict, allowed, timeout=CALL_MARGIN_SECONDS)

    def cookies(self, url: str) -> list[dict]:
        """The browser's cookies for `url`, to share its web session with the site's API client."""
        return self._run("cookies", url)

    def process_id(self) -> int:
        """The browser process's id, for the host's resource monitoring."""
        return self._run("process_id")
