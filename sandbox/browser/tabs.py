"""Chromium and its tabs: launching it, noticing crashes and restarting, and the events pages raise."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, cast

from playwright.sync_api import (
    Browser,
    BrowserContext,
    Cookie,
    Dialog,
    Error as PlaywrightError,
    Page,
    Playwright,
    Request,
    Response,
    sync_playwright,
)

from sandbox.browser.config import BrowserConfig
from sandbox.browser.errors import BrowserError, playwright_reason
from sandbox.browser.guard import RequestGuard
from sandbox.browser.observe import Observation
from sandbox.browser.readiness import MUTATION_CLOCK_JS, answered

if TYPE_CHECKING:
    from playwright._impl._api_structures import SetCookieParam

# Requests that stay open by design; waiting for them would make every action time out.
LONG_LIVED = frozenset({"eventsource", "websocket"})


@dataclass(eq=False)
class Tab:
    page: Page
    url: str = "about:blank"  # last known, to reopen after a crash
    status: int | None = None  # HTTP status of the current document
    observation: Observation | None = None  # the baseline for the next action's diff
    inflight: dict[Request, float] = field(default_factory=dict)  # each with when it was sent (monotonic)
    # Requests the page holds open by design (a long poll), by `request_key`: not waited for.
    long_polls: set[str] = field(default_factory=set)
    crashed: bool = False
    closed: bool = False


class Chromium:
    """One Chromium, one context, and its tabs; restarted with its tabs and cookies when it dies.

    What happened on its own (a dialog answered, a tab closed, a restart) is told in `events`. `settle(tab)`
    waits for a reopened page, as after any action."""

    def __init__(
        self,
        config: BrowserConfig,
        guard: RequestGuard,
        events: list[str],
        settle: Callable[[Tab], str | None],
    ) -> None:
        self._config = config
        self._guard = guard
        self._events = events
        self._settle = settle
        self._playwright: Playwright | None = None
        self.browser: Browser | None = None
        self.context: BrowserContext | None = None
        self.tabs: list[Tab] = []
        self.current: Tab | None = None
        self.opened: list[Tab] = []  # tabs the page opened during the current action
        self._creating_tab = False
        self._cookies: list[Cookie] = []  # last known, restored after a crash
        self.dialog_answer: tuple[bool, str | None] = (True, None)

    def tab(self) -> Tab:
        """The current tab (`ensure_running` opens one)."""
        assert self.current is not None
        return self.current

    def ensure_running(self) -> None:
        if self.browser is None:
            self._launch()
            return
        self.remember_cookies()  # also a round trip that notices a dead browser process
        notice = self.recover()
        if notice:
            self._events.append(notice)
        self._forget_closed_tabs()
        if self.current is None:
            self.current = self._open_tab()

    def recover(self) -> str | None:
        """Restart a dead browser or reload crashed pages; the notice says what was lost."""
        if self.died():
            return self._restart()
        notices = [
            self._reopen_crashed(index, tab) for index, tab in enumerate(list(self.tabs)) if tab.crashed
        ]
        return " ".join(notices) or None

    def died(self) -> bool:
        return self.browser is not None and not self.browser.is_connected()

    def live_browser(self) -> Browser:
        if self.browser is None:
            raise BrowserError("The browser is not running: it was closed, or it did not start.")
        return self.browser

    def live_context(self) -> BrowserContext:
        if self.context is None:
            raise BrowserError("The browser is not running: it was closed, or it did not start.")
        return self.context

    def remember_cookies(self) -> None:
        with suppress(PlaywrightError):
            self._cookies = self.live_context().cookies()

    def close(self) -> None:
        with suppress(PlaywrightError):
            if self.browser is not None:
                self.browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self._playwright = self.browser = self.context = None

    def _launch(self) -> None:
        if self._playwright is None:
            self._playwright = sync_playwright().start()
        try:
            self.browser = self._playwright.chromium.launch(
                executable_path=self._config.executable,
                args=list(self._config.args),
                headless=self._config.headless,
            )
        except PlaywrightError as exc:
            raise BrowserError(
                f"Could not start Chromium at {self._config.executable}: {playwright_reason(exc)}. "
                "Install Debian's chromium package or configure browser_executable."
            ) from None
        # Service workers would fetch past the guard's routes.
        self.context = self.browser.new_context(service_workers="block")
        self.context.set_default_timeout(self._config.timeouts.action * 1000)
        self.context.set_default_navigation_timeout(self._config.timeouts.navigation * 1000)
        self.context.on("page", self._adopt)
        self.context.add_init_script(MUTATION_CLOCK_JS)
        self._guard.attach(self.browser, self.context)
        self.tabs = []
        self.current = self._open_tab()

    def _restart(self) -> str:
        urls = [tab.url for tab in self.tabs] or ["about:blank"]
        current = self.tabs.index(self.current) if self.current in self.tabs else 0
        with suppress(PlaywrightError):
            self.live_browser().close()
        self._launch()
        if self._cookies:
            # The cookies read back are the fields of the cookies to set, and more.
            self.live_context().add_cookies(cast("list[SetCookieParam]", self._cookies))
        for index, url in enumerate(urls):
            tab = self._open_tab() if index or self.current is None else self.current
            self._load_quietly(tab, url)
        self.current = self.tabs[min(current, len(self.tabs) - 1)]
        return (
            f"Notice: the browser process had died (crashed or was killed) and was restarted; {len(urls)} "
            "tab(s) were reopened at their last URLs and the session's cookies restored. Element ids issued "
            "before the restart no longer work (observe() gives fresh ones), and form input that was not "
            "submitted is lost."
        )

    def _reopen_crashed(self, index: int, tab: Tab) -> str:
        replacement = self._open_tab()
        self.tabs.remove(replacement)
        self.tabs[index] = replacement
        if self.current is tab:
            self.current = replacement
        with suppress(PlaywrightError):
            tab.page.close()
        self._load_quietly(replacement, tab.url)
        return (
            f"Notice: the page in tab {index} crashed and was reloaded from {tab.url}; its element ids no "
            "longer work (observe() gives fresh ones)."
        )

    def _load_quietly(self, tab: Tab, url: str) -> None:
        if url == "about:blank":
            return
        try:
            tab.page.goto(url, wait_until="commit")
            self._settle(tab)
        except PlaywrightError as exc:
            self._events.append(f"Notice: could not reopen {url}: {playwright_reason(exc)}.")

    # Tabs and page events ---------------------------------------------------------------------

    def _open_tab(self) -> Tab:
        self._creating_tab = True
        try:
            page = self.live_context().new_page()
        finally:
            self._creating_tab = False
        return self._tab_of(page)

    def _adopt(self, page: Page) -> None:
        # Playwright may tell of a page this session opened itself before or after new_page() returns.
        if self._creating_tab or any(tab.page is page for tab in self.tabs):
            return
        self.opened.append(self._tab_of(page))

    def _tab_of(self, page: Page) -> Tab:
        for tab in self.tabs:
            if tab.page is page:
                return tab
        tab = Tab(page)
        self.tabs.append(tab)
        page.on("request", lambda request: self._on_request(tab, request))
        page.on("requestfinished", lambda request: self._on_request_ended(tab, request))
        page.on("requestfailed", lambda request: self._on_request_ended(tab, request))
        page.on("response", lambda response: self._on_response(tab, response))
        page.on("dialog", self._on_dialog)
        page.on("crash", lambda _: setattr(tab, "crashed", True))
        page.on("close", lambda _: self._on_close(tab))
        return tab

    @staticmethod
    def _on_request(tab: Tab, request: Request) -> None:
        if request.resource_type not in LONG_LIVED:
            tab.inflight.setdefault(request, time.monotonic())

    @staticmethod
    def _on_request_ended(tab: Tab, request: Request) -> None:
        sent = tab.inflight.pop(request, None)
        if sent is not None and tab.long_polls:
            answered(tab, request, sent)

    @staticmethod
    def _on_response(tab: Tab, response: Response) -> None:
        # An event stream read with fetch() (not EventSource) stays open by design: once its headers are in,
        # it is not waited for.
        with suppress(PlaywrightError):
            if "text/event-stream" in (response.headers.get("content-type") or ""):
                tab.inflight.pop(response.request, None)
        if response.request.is_navigation_request() and response.frame == tab.page.main_frame:
            tab.status = response.status

    def _on_dialog(self, dialog: Dialog) -> None:
        accept, text = self.dialog_answer
        with suppress(PlaywrightError):  # the page may have closed the dialog itself
            if accept:
                dialog.accept(text if dialog.type == "prompt" and text is not None else dialog.default_value)
            else:
                dialog.dismiss()
        self._events.append(
            f'Dialog: {dialog.type} "{dialog.message}" ({"accepted" if accept else "dismissed"})'
        )

    @staticmethod
    def _on_close(tab: Tab) -> None:
        # Only marked: a dying browser closes every page too, and those tabs are to be reopened.
        tab.closed = True

    def _forget_closed_tabs(self) -> None:
        for tab in [t for t in self.tabs if t.closed and not t.crashed]:
            index = self.tabs.index(tab)
            self.tabs.remove(tab)
            if self.current is tab:
                self.current = self.tabs[-1] if self.tabs else None
            self._events.append(f"Tab {index} was closed by the page.")
