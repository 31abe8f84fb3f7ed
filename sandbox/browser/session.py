"""The Playwright side of the browser service: one browser, its tabs, and every action on them.

Everything here runs on the service's owner thread (see `thread.py`); `BrowserService` is the
thread-safe front. Results that describe a page are text for the model that called the action.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import (
    Dialog,
    Frame,
    Locator,
    Page,
    Playwright,
    Request,
    Route,
    WebSocketRoute,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from sandbox.browser.errors import (
    BrowserCrashed,
    BrowserError,
    ElementNotFound,
    ElementNotInteractable,
    LoginFailed,
    StaleElement,
    UnknownElement,
    WaitTimeout,
)
from sandbox.browser.observe import ID_ATTRIBUTE, ElementRecord, Limits, Observation, Observer, diff, matching
from sandbox.browser.origins import WEB_SCHEMES, Origins, origin_of

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SUBMIT_KEYS = frozenset({"Enter", "NumpadEnter"})  # submit the form of the field they are pressed in
ACTIVATE_KEYS = frozenset({"Space", " "})  # press the button they are pressed on, a submit button too
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# What a page may load without any server: its own inline data and blobs.
LOCAL_SCHEMES = frozenset({"data", "blob", "about"})
# Requests that stay open by design; waiting for them would make every action time out.
LONG_LIVED = frozenset({"eventsource", "websocket"})
TEXT_ROLES = frozenset({"textbox", "searchbox", "combobox", "spinbutton"})
CHECK_ROLES = frozenset({"checkbox", "radio", "switch", "menuitemcheckbox", "menuitemradio"})
MAX_RECORDS = 50_000

# One round trip that says whether an issued id still points at a usable element.
_CHECK_JS = """([attr, id]) => {
  const find = (root) => {
    const hit = root.querySelector(`[${attr}="${id}"]`);
    if (hit) return hit;
    for (const el of root.querySelectorAll("*")) {
      const inner = el.shadowRoot && find(el.shadowRoot);
      if (inner) return inner;
    }
    return null;
  };
  const el = find(document);
  return {
    doc: window.__hybridDoc || null,
    found: !!el,
    visible: !!el && el.checkVisibility({ visibilityProperty: true }),
    disabled: !!el && (el.disabled === true || el.getAttribute("aria-disabled") === "true"),
    options: el && el.tagName === "SELECT" ? [...el.options].map((o) => [o.value, o.text.trim()]) : null,
  };
}"""

_FOCUSED_FORM_JS = """() => {
  const el = document.activeElement;
  if (!el || !el.form) return null;
  const form = el.form, submitter = ["submit", "image"].includes(el.type);
  return { tag: el.tagName.toLowerCase(), submits: submitter,
           method: ((submitter && el.getAttribute("formmethod")) || form.getAttribute("method") || "get").toUpperCase(),
           // the prototype's getter, since a control named "action" shadows form.action
           action: submitter && el.hasAttribute("formaction") ? el.formAction
             : Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, "action").get.call(form) };
}"""

# Marks the login form's fields so Playwright can fill them; the values never pass through the page text.
_LOGIN_FIELDS_JS = """(attr) => {
  const password = [...document.querySelectorAll("input[type=password]")].find((e) => e.checkVisibility());
  if (!password) return false;
  const scope = password.form ? [...password.form.elements] : [...document.querySelectorAll("input")];
  const candidates = scope.slice(0, scope.indexOf(password)).filter((e) => e.tagName === "INPUT"
    && ["", "text", "email", "tel"].includes(e.type) && e.checkVisibility());
  const user = scope.find((e) => e.autocomplete === "username") || candidates[candidates.length - 1];
  if (!user) return false;
  password.setAttribute(attr, "password");
  user.setAttribute(attr, "username");
  return true;
}"""

_SCROLL_JS = """(direction) => {
  const step = window.innerHeight * 0.8;
  const moves = { down: () => window.scrollBy(0, step), up: () => window.scrollBy(0, -step),
                  top: () => window.scrollTo(0, 0),
                  bottom: () => window.scrollTo(0, document.documentElement.scrollHeight) };
  moves[direction]();
  return [Math.round(window.scrollY), Math.round(window.innerHeight),
          document.documentElement.scrollHeight];
}"""

_BODY_TEXT_JS = "() => document.body ? document.body.innerText : ''"


@dataclass(frozen=True)
class Timeouts:
    """Seconds to wait, by what is awaited."""

    navigation: float = 15.0  # for a page to start arriving
    settle: float = 5.0  # after an action, for the page to finish loading
    action: float = 5.0  # for an element to accept a click or input
    wait: float = 10.0  # default for wait_for()


@dataclass(frozen=True)
class SiteLogin:
    """How to sign in to a site's web UI; held by the host, never sent to the kernel."""

    url: str
    username: str
    password: str = field(repr=False)


WriteCheck = Callable[[dict], bool]
CredentialProvider = Callable[[str], "SiteLogin | None"]


@dataclass(frozen=True)
class BrowserConfig:
    executable: str
    args: tuple[str, ...]
    headless: bool
    timeouts: Timeouts
    limits: Limits
    screenshot_dir: Path
    check_writes: bool = False  # whether writes wait for the policy (see `Step`)


@dataclass
class Step:
    """How far a call got on the owner thread. The policy is never asked there (a person may take minutes
    to answer, and the browser must not stall meanwhile): the caller asks, then calls again.

    - `ask`: the action would write (it submits a form); run it again with `approved=ask["description"]`.
    - `held`: writes the page sent on its own, held until `BrowserSession.release(verdicts)`.
    """

    result: Any = None
    ask: dict | None = None
    held: list[dict] = field(default_factory=list)


@dataclass(frozen=True)
class HeldWrite:
    """A write request the page sent that waits for the policy: a script's fetch, XHR or beacon is held
    open; a navigation (a form submission) was answered with 204 No Content, which leaves the page as
    it was, and is sent again with the same method, headers and body if allowed."""

    route: Route | None
    request: Request
    frame: Frame  # where a navigation is sent again
    headers: dict[str, str]
    body: bytes | None

    def describe(self) -> dict:
        request = self.request
        return {"method": "request", "args": [request.method, request.url], "writes": True,
                "domain": host_of(request.url),
                "description": f"let the page send {request.method} {request.url} on its own"}


@dataclass(eq=False)
class Tab:
    page: Page
    url: str = "about:blank"  # last known, to reopen after a crash
    status: int | None = None  # HTTP status of the current document
    observation: Observation | None = None  # the baseline for the next action's diff
    inflight: set[Request] = field(default_factory=set)
    crashed: bool = False
    closed: bool = False


class Target(NamedTuple):
    """An element ready to act on: what was issued, how to reach it, and a drop-down's options."""

    record: ElementRecord
    locator: Locator
    options: list[list[str]] | None  # [value, label] pairs


def host_of(url: str) -> str | None:
    return urlsplit(url).hostname


def _without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def playwright_reason(exc: PlaywrightError) -> str:
    """The useful part of a Playwright message, without the API name, call log or stack."""
    message = exc.message or str(exc)
    for line in message.splitlines():
        if "intercepts pointer events" in line:
            return "another element covers it (" + re.sub(r"^\s*-\s*", "", line).strip() + ")"
    first = message.strip().splitlines()[0] if message.strip() else "unknown error"
    return re.sub(r"^[\w.]+: ", "", first).strip()


class BrowserSession:
    """Owns the browser; not thread-safe: only the owner thread calls it."""

    def __init__(self, config: BrowserConfig, credentials: CredentialProvider | None,
                 origins: Origins | None) -> None:
        self._config = config
        self._credentials = credentials
        self._origins = origins  # None: any http(s) origin
        self._guarded = False  # whether the context's requests pass `_guard`
        self._observer = Observer(config.limits)
        self._playwright: Playwright | None = None
        self._browser = None
        self._context = None
        self._tabs: list[Tab] = []
        self._current: Tab | None = None
        self._records: dict[int, tuple[Tab, ElementRecord]] = {}
        self._events: list[str] = []  # told at the top of the next text result
        self._opened: list[Tab] = []  # tabs the page opened during the current action
        self._creating_tab = False
        self._cookies: list[dict] = []  # last known, restored after a crash
        # Lets the one request an approved action announced through (a form's submission), once.
        self._approval: Callable[[Request], bool] | None = None
        self._held: list[HeldWrite] = []
        self._replay: HeldWrite | None = None  # an allowed navigation, being sent again
        self._dialog_answer: tuple[bool, str | None] = (True, None)
        self._screenshots = 0
        self._actions: dict[str, Callable[..., Any]] = {
            "observe": self._observe_page, "text": self._text, "screenshot": self._screenshot,
            "goto": self._goto, "click": self._click, "fill": self._fill, "select": self._select,
            "check": self._check, "press": self._press, "scroll": self._scroll, "back": self._back,
            "forward": self._forward, "wait_for": self._wait_for, "tabs": self._list_tabs,
            "switch": self._switch, "find": self._find, "login": self._login,
            "answer_dialogs": self._answer_dialogs, "cookies": self._cookies_for,
            "process_id": self._process_id,
        }

    # ------------------------------------------------------------------------------------------
    # Running actions
    # ------------------------------------------------------------------------------------------

    def run(self, method: str, args: tuple, approved: str | None = None) -> Step:
        """Do `method(*args)`, unless it writes and `approved` is not its description (then ask first)."""
        action = self._actions.get(method)
        if action is None:
            raise BrowserError(f"The browser has no action {method!r}; actions: {', '.join(self._actions)}.")
        self._ensure_running()
        classification, form = self._classify(method, args)
        if classification["writes"] and self._config.check_writes:
            if approved != classification["description"]:
                return Step(ask=classification)
            self._approval = lambda request: (request.method == form["method"]
                                              and _without_fragment(request.url) == _without_fragment(form["action"]))
        try:
            result = action(*args)
        except PlaywrightError as exc:
            if "Target crashed" in (exc.message or "") and self._current is not None:
                self._current.crashed = True
            notice = self._recover()
            if notice:
                raise BrowserCrashed(f"The browser crashed during {method}. {notice} Whether the {method} took "
                                     "effect is unknown: observe() and check before retrying.") from None
            raise BrowserError(f"{method} failed: {playwright_reason(exc)}.") from None
        finally:
            self._approval = None
        return Step(result=self._with_events(result), held=self._describe_held())

    def release(self, verdicts: list[bool], report: bool = True) -> Step:
        """Send or drop the held writes (`verdicts` in the order `Step.held` listed them), then (with
        `report`) tell what the page did next; else what happened is told with the next page text."""
        held, self._held = self._held[:len(verdicts)], self._held[len(verdicts):]
        for write, allowed in zip(held, verdicts, strict=True):
            request = write.request
            if not allowed:
                if write.route is not None:
                    with suppress(PlaywrightError):
                        write.route.abort("blockedbyclient")
                self._events.append(f"Blocked: the page tried to send {request.method} {request.url}, and the "
                                    "session's policy refused it. Nothing was sent.")
                continue
            self._events.append(f"The page sent {request.method} {request.url} on its own; the session's "
                                "policy allowed it.")
            try:
                if write.route is None:
                    self._send_again(write)
                else:
                    self._pass(write.route, request)
            except PlaywrightError as exc:
                self._events.append(f"Notice: {request.method} {request.url} could not be sent: "
                                    f"{playwright_reason(exc)}.")
        tab = self._tab()
        note = self._settle(tab)
        result = self._with_events(self._report(tab, note)) if report else None
        return Step(result=result, held=self._describe_held())

    def _with_events(self, result: Any) -> Any:
        if isinstance(result, str):
            self._remember_cookies()
            result = "\n".join([*self._events, result]) if self._events else result
            self._events = []
        return result

    def _describe_held(self) -> list[dict]:
        return [write.describe() for write in self._held]

    def classify(self, method: str, args: tuple | list) -> dict:
        """Whether an action would write (submit a non-GET form) and which domain it touches."""
        return self._classify(method, args)[0]

    def _classify(self, method: str, args: tuple | list) -> tuple[dict, dict | None]:
        """The classification, and the {"method", "action"} of the form a writing action submits."""
        here = self._current.page.url if self._current else "about:blank"
        shown = ", ".join(repr(a) for a in args)
        verdict = {"method": method, "args": list(args), "writes": False, "domain": host_of(here),
                   "description": f"{method}({shown})"}
        form = None
        if method == "goto" and args:
            verdict["domain"] = host_of(urljoin(here, str(args[0])))
        elif method == "login" and args and self._credentials is not None:
            with suppress(Exception):  # an unknown site is reported by login() itself
                verdict["domain"] = host_of(self._credentials(str(args[0])).url)
        elif method == "click" and args:
            record = self._record(args[0])
            if record and record.submits:
                verdict["domain"] = host_of(record.submits["action"])
                if record.submits["method"] not in SAFE_METHODS:
                    form = record.submits
                    verdict["writes"] = True
                    verdict["description"] = (f"click {record.describe()}, which submits a form "
                                              f"({form['method']} {form['action']})")
            elif record and record.href:
                verdict["domain"] = host_of(record.href)
        elif method == "press" and args and (args[0] in SUBMIT_KEYS or args[0] in ACTIVATE_KEYS):
            submitted = self._form_submitted_by_key(str(args[0]), args[1] if len(args) > 1 else None)
            if submitted and submitted["method"] not in SAFE_METHODS:
                form = submitted
                verdict.update(writes=True, domain=host_of(form["action"]),
                               description=f"press {args[0]}, which submits a form ({form['method']} "
                                           f"{form['action']})")
        return verdict, form

    def close(self) -> None:
        with suppress(PlaywrightError):
            if self._browser is not None:
                self._browser.close()
        if self._playwright is not None:
            self._playwright.stop()
        self._playwright = self._browser = self._context = None

    # ------------------------------------------------------------------------------------------
    # Browser lifecycle: launch, crash detection, restart
    # ------------------------------------------------------------------------------------------

    def _ensure_running(self) -> None:
        if self._browser is None:
            self._launch()
            return
        self._remember_cookies()  # also a round trip that notices a dead browser process
        notice = self._recover()
        if notice:
            self._events.append(notice)
        self._forget_closed_tabs()
        if self._current is None:
            self._current = self._open_tab()

    def _recover(self) -> str | None:
        """Restart a dead browser or reload crashed pages; the notice says what was lost."""
        if self._died():
            return self._restart()
        notices = [self._reopen_crashed(index, tab) for index, tab in enumerate(list(self._tabs)) if tab.crashed]
        return " ".join(notices) or None

    def _launch(self) -> None:
        if self._playwright is None:
            self._playwright = sync_playwright().start()
        try:
            self._browser = self._playwright.chromium.launch(
                executable_path=self._config.executable, args=list(self._config.args),
                headless=self._config.headless)
        except PlaywrightError as exc:
            raise BrowserError(f"Could not start Chromium at {self._config.executable}: {playwright_reason(exc)}. "
                               "Install Debian's chromium package or configure browser_executable.") from None
        # Service workers would fetch past the routes below.
        self._context = self._browser.new_context(service_workers="block")
        self._context.set_default_timeout(self._config.timeouts.action * 1000)
        self._context.set_default_navigation_timeout(self._config.timeouts.navigation * 1000)
        self._context.on("page", self._adopt)
        self._guarded = False
        if self._origins is not None or self._config.check_writes:
            self._guard_requests()
        self._held, self._replay = [], None  # routes of a dead browser cannot be answered
        self._tabs = []
        self._current = self._open_tab()

    def restrict(self, origins: Origins) -> None:
        """From now on, reach only `origins`."""
        self._origins = origins
        if self._context is not None and not self._guarded:
            self._guard_requests()

    def _guard_requests(self) -> None:
        self._context.route("**/*", self._guard)
        self._context.route_web_socket("**/*", self._guard_socket)
        self._guarded = True

    def _died(self) -> bool:
        return self._browser is not None and not self._browser.is_connected()

    def _restart(self) -> str:
        urls = [tab.url for tab in self._tabs] or ["about:blank"]
        current = self._tabs.index(self._current) if self._current in self._tabs else 0
        with suppress(PlaywrightError):
            self._browser.close()
        self._launch()
        if self._cookies:
            self._context.add_cookies(self._cookies)
        for index, url in enumerate(urls):
            tab = self._current if index == 0 else self._open_tab()
            self._load_quietly(tab, url)
        self._current = self._tabs[min(current, len(self._tabs) - 1)]
        return (f"Notice: the browser process had died (crashed or was killed) and was restarted; {len(urls)} "
                "tab(s) were reopened at their last URLs and the session's cookies restored. Element ids issued "
                "before the restart no longer work (observe() gives fresh ones), and form input that was not "
                "submitted is lost.")

    def _reopen_crashed(self, index: int, tab: Tab) -> str:
        replacement = self._open_tab()
        self._tabs.remove(replacement)
        self._tabs[index] = replacement
        if self._current is tab:
            self._current = replacement
        with suppress(PlaywrightError):
            tab.page.close()
        self._load_quietly(replacement, tab.url)
        return (f"Notice: the page in tab {index} crashed and was reloaded from {tab.url}; its element ids no "
                "longer work (observe() gives fresh ones).")

    def _load_quietly(self, tab: Tab, url: str) -> None:
        if url == "about:blank":
            return
        try:
            tab.page.goto(url, wait_until="commit")
            self._settle(tab)
        except PlaywrightError as exc:
            self._events.append(f"Notice: could not reopen {url}: {playwright_reason(exc)}.")

    def _remember_cookies(self) -> None:
        with suppress(PlaywrightError):
            self._cookies = self._context.cookies()

    # ------------------------------------------------------------------------------------------
    # Tabs and page events
    # ------------------------------------------------------------------------------------------

    def _open_tab(self) -> Tab:
        self._creating_tab = True
        try:
            page = self._context.new_page()
        finally:
            self._creating_tab = False
        return self._tab_of(page)

    def _adopt(self, page: Page) -> None:
        # Playwright may tell of a page this session opened itself before or after new_page() returns.
        if self._creating_tab or any(tab.page is page for tab in self._tabs):
            return
        self._opened.append(self._tab_of(page))

    def _tab_of(self, page: Page) -> Tab:
        for tab in self._tabs:
            if tab.page is page:
                return tab
        tab = Tab(page)
        self._tabs.append(tab)
        page.on("request", lambda request: tab.inflight.add(request)
                if request.resource_type not in LONG_LIVED else None)
        page.on("requestfinished", lambda request: tab.inflight.discard(request))
        page.on("requestfailed", lambda request: tab.inflight.discard(request))
        page.on("response", lambda response: self._on_response(tab, response))
        page.on("dialog", self._on_dialog)
        page.on("crash", lambda _: setattr(tab, "crashed", True))
        page.on("close", lambda _: self._on_close(tab))
        return tab

    def _on_response(self, tab: Tab, response) -> None:
        if response.request.is_navigation_request() and response.frame == tab.page.main_frame:
            tab.status = response.status

    def _on_dialog(self, dialog: Dialog) -> None:
        accept, text = self._dialog_answer
        with suppress(PlaywrightError):  # the page may have closed the dialog itself
            if accept:
                dialog.accept(text if dialog.type == "prompt" and text is not None else dialog.default_value)
            else:
                dialog.dismiss()
        self._events.append(f'Dialog: {dialog.type} "{dialog.message}" ({"accepted" if accept else "dismissed"})')

    def _on_close(self, tab: Tab) -> None:
        # Only marked: a dying browser closes every page too, and those tabs are to be reopened.
        tab.closed = True

    def _forget_closed_tabs(self) -> None:
        for tab in [t for t in self._tabs if t.closed and not t.crashed]:
            index = self._tabs.index(tab)
            self._tabs.remove(tab)
            if self._current is tab:
                self._current = self._tabs[-1] if self._tabs else None
            self._events.append(f"Tab {index} was closed by the page.")

    def _guard(self, route: Route, request: Request) -> None:
        """Every request the browser makes: to the allowed origins only, and writes only with the policy's
        yes (held for it, never asked here: see `Step`)."""
        if not self._reachable(request.url):
            self._refuse(route, request)
            self._events.append(f"Blocked: the page tried to reach {request.url}, which is not one of the run's "
                                f"sites ({self._origins}). Nothing was sent.")
            return
        replay = self._replay
        if replay is not None and request.is_navigation_request() and request.url == replay.request.url:
            self._replay = None
            self._pass(route, request, replay)
            return
        writes = self._config.check_writes and request.method not in SAFE_METHODS
        if writes and self._approval is not None and self._approval(request):
            self._approval, writes = None, False  # one submission per yes
        if not writes:
            self._pass(route, request)
        elif request.is_navigation_request():
            # Held open, a navigation would keep Playwright's own waits running; 204 leaves the page as it is.
            self._held.append(HeldWrite(None, request, request.frame, request.headers, request.post_data_buffer))
            route.fulfill(status=204)
        else:
            self._held.append(HeldWrite(route, request, request.frame, request.headers, None))

    def _pass(self, route: Route, request: Request, replay: HeldWrite | None = None) -> None:
        """Send a request on. Where a navigation is redirected to is checked here, since Playwright routes a
        redirect's next request past the handlers."""
        overrides = {"method": replay.request.method, "headers": replay.headers,
                     "post_data": replay.body} if replay is not None else {}
        if self._origins is None or not request.is_navigation_request():
            route.continue_(**overrides)
            return
        response = route.fetch(max_redirects=0, **overrides)
        location = urljoin(request.url, response.headers.get("location", ""))
        if response.status in REDIRECTS and not self._reachable(location):
            self._refuse(route, request)
            self._events.append(f"Blocked: {request.url} redirected to {location}, which is not one of the run's "
                                f"sites ({self._origins}); the browser stopped there.")
            return
        # Fetching a redirect's target here to check where it leads in turn would load it twice (and, say, use
        # up a flashed message): Chromium follows the first hop on its own.
        route.fulfill(response=response)

    @staticmethod
    def _refuse(route: Route, request: Request) -> None:
        # A navigation answered with 204 leaves the page as it was; aborted, it would load an error page.
        if request.is_navigation_request():
            route.fulfill(status=204)
        else:
            route.abort("blockedbyclient")

    def _send_again(self, write: HeldWrite) -> None:
        """Replay an allowed navigation that was answered with 204 (see `_guard`) in its frame."""
        self._replay = write
        try:
            write.frame.goto(write.request.url, wait_until="commit")
        finally:
            self._replay = None

    def _guard_socket(self, socket: WebSocketRoute) -> None:
        if self._reachable(socket.url):
            socket.connect_to_server()
            return
        socket.close(code=1008, reason="not one of the run's sites")
        self._events.append(f"Blocked: the page tried to open a WebSocket to {socket.url}, which is not one of "
                            f"the run's sites ({self._origins}).")

    def _reachable(self, url: str) -> bool:
        origins = self._origins
        return origins is None or origins.allows(url) or urlsplit(url).scheme in LOCAL_SCHEMES

    # ------------------------------------------------------------------------------------------
    # Observing and reporting
    # ------------------------------------------------------------------------------------------

    def _tab(self) -> Tab:
        assert self._current is not None  # _ensure_running opens one
        return self._current

    def _observe(self, tab: Tab) -> Observation:
        try:
            observation = self._observer.observe(tab.page)
        except PlaywrightError as exc:
            if "context was destroyed" not in (exc.message or "") and "navigat" not in (exc.message or ""):
                raise
            self._settle(tab)  # the page navigated while being read; read the new one
            observation = self._observer.observe(tab.page)
        for element_id, record in observation.elements.items():
            self._records.pop(element_id, None)
            self._records[element_id] = (tab, record)
        while len(self._records) > MAX_RECORDS:
            del self._records[next(iter(self._records))]
        tab.observation, tab.url = observation, observation.url
        return observation

    def _settle(self, tab: Tab) -> str | None:
        """Wait for the page to load and its requests to finish; say what was still going on if not."""
        limit = self._config.timeouts.settle
        deadline = time.monotonic() + limit
        try:
            tab.page.wait_for_load_state("load", timeout=limit * 1000)
        except PlaywrightTimeout:
            return f"the page had not finished loading after {limit:g} s"
        while tab.inflight and not self._held and time.monotonic() < deadline:
            tab.page.wait_for_timeout(20)
        if tab.inflight and not self._held:  # held writes are told of once the policy has decided
            pending = next(iter(tab.inflight))
            return f"{len(tab.inflight)} request(s) still pending after {limit:g} s, e.g. {pending.url}"
        return None

    def _report(self, tab: Tab, note: str | None, full: bool = False) -> str:
        """What an action changed: a diff on the same document, else the new page in full."""
        head: list[str] = []
        if self._opened:
            previous = self._tabs.index(tab) if tab in self._tabs else 0
            tab = self._opened[-1]
            self._current = tab
            head.append(f"A new tab {self._tabs.index(tab)} opened and is now current; "
                        f"browser.switch({previous}) goes back.")
            self._opened = []
            note = self._settle(tab)
        if note:
            head.append(f"Still loading: {note}; what follows may be incomplete "
                        "(browser.wait_for(text) waits for content).")
        before = tab.observation
        after = self._observe(tab)
        if not full and before is not None and before.doc == after.doc and not head:
            changes = diff(before, after)
            lines = [f"URL changed to {after.url}"] if after.url != before.url else []
            lines += ["Changes on the page:", *changes] if changes else ["No visible change on the page."]
            return "\n".join(lines)
        return "\n".join([*head, *self._header(tab, after), "", after.render()])

    def _header(self, tab: Tab, observation: Observation) -> list[str]:
        lines = [f"URL: {observation.url}", f"Title: {observation.title}"]
        if tab.status is not None and tab.status >= 400:
            lines.append(f"HTTP status: {tab.status}")
        messages = [line.strip() for line in observation.lines if line.lstrip().startswith(("alert:", "status:"))]
        if messages:
            lines.append("Messages: " + " ".join(messages))
        return lines

    # ------------------------------------------------------------------------------------------
    # Element ids
    # ------------------------------------------------------------------------------------------

    def _record(self, element_id: Any) -> ElementRecord | None:
        found = self._records.get(element_id) if isinstance(element_id, int) else None
        return found[1] if found else None

    def _resolve(self, element_id: Any, doing: str, must_be_usable: bool = True) -> Target:
        if isinstance(element_id, bool) or not isinstance(element_id, int):
            raise UnknownElement(f"Element ids are integers such as 12 (from browser.observe() or find()); "
                                 f"got {element_id!r}.")
        if element_id not in self._records:
            latest = self._observer.next_id - 1
            raise UnknownElement(f"There is no element [{element_id}]: ids come from browser.observe() or "
                                 f"find(), and the latest issued is [{latest}].")
        tab, record = self._records[element_id]
        if tab not in self._tabs or tab.closed:
            raise StaleElement(f"Element {record.describe()} belonged to a tab that is gone (closed, or the "
                               "browser was restarted); call browser.observe() for fresh ids.")
        if tab is not self._current:
            index = self._tabs.index(tab)
            raise StaleElement(f"Element {record.describe()} is in tab {index}, not the current tab "
                               f"{self._tabs.index(self._tab())}; call browser.switch({index}) first.")
        if record.frame.is_detached():
            raise StaleElement(f"Element {record.describe()} was in a frame that has since been removed or "
                               "replaced; call browser.observe() for fresh ids.")
        try:
            state = record.frame.evaluate(_CHECK_JS, [ID_ATTRIBUTE, element_id])
        except PlaywrightError:
            state = {"doc": None, "found": False}
        if state["doc"] != record.doc:
            raise StaleElement(f"Element {record.describe()} was issued for {record.url}, but the page has since "
                               f"navigated to {record.frame.url}; call browser.observe() (or find()) for fresh ids.")
        if not state["found"]:
            raise StaleElement(f"Element {record.describe()} is no longer on the page ({record.frame.url}): the "
                               "page's scripts removed it. Call browser.observe() for fresh ids.")
        if must_be_usable and not state["visible"]:
            raise ElementNotInteractable(f"Element {record.describe()} is not visible (hidden or collapsed), so "
                                         f"it cannot {doing}; it may appear after another action such as "
                                         "opening a menu. browser.observe() shows what is visible.")
        if must_be_usable and state["disabled"]:
            raise ElementNotInteractable(f"Element {record.describe()} is disabled, so it cannot {doing}; "
                                         "something else must happen first (e.g. filling required fields).")
        return Target(record, record.frame.locator(f'[{ID_ATTRIBUTE}="{element_id}"]'), state.get("options"))

    def _perform(self, step: Callable[[], Any], doing: str) -> None:
        try:
            step()
        except PlaywrightTimeout as exc:
            raise WaitTimeout(f"Could not {doing} within {self._config.timeouts.action:g} s: "
                              f"{playwright_reason(exc)}.") from None

    def _form_submitted_by_key(self, key: str, element_id: Any) -> dict | None:
        """The form a key submits: Enter in a field, Enter or Space on a submit button."""
        if element_id is not None:
            record = self._record(element_id)
            if record is None:
                return None
            return record.submits or (record.form if key in SUBMIT_KEYS and record.tag == "input" else None)
        try:
            focused = self._tab().page.evaluate(_FOCUSED_FORM_JS)
        except PlaywrightError:
            return None
        if focused and (focused["submits"] or (key in SUBMIT_KEYS and focused["tag"] == "input")):
            return focused
        return None

    # ------------------------------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------------------------------

    def _observe_page(self) -> str:
        tab = self._tab()
        return self._report(tab, None, full=True)

    def _text(self) -> str:
        page = self._tab().page
        parts = [f"URL: {page.url}", ""]
        for frame in page.frames:
            try:
                text = frame.evaluate(_BODY_TEXT_JS)
            except PlaywrightError:
                continue
            parts.append(text if frame is page.main_frame else f"\n[iframe {frame.url}]\n{text}")
        return "\n".join(parts)

    def _screenshot(self, full_page: bool = False) -> str:
        self._config.screenshot_dir.mkdir(parents=True, exist_ok=True)
        self._screenshots += 1
        path = self._config.screenshot_dir / f"screenshot-{self._screenshots}.png"
        self._tab().page.screenshot(path=path, full_page=full_page)
        return str(path)

    def _goto(self, url: str) -> str:
        tab = self._tab()
        here = tab.page.url
        if not urlsplit(str(url)).scheme and here == "about:blank":
            raise BrowserError(f"{url!r} is a path, but the tab has no page yet to resolve it against; give a "
                               "full URL such as http://host/path.")
        target = urljoin(here, str(url))
        if urlsplit(target).scheme.lower() not in WEB_SCHEMES:
            raise BrowserError(f"Refused to open {target}: the browser opens only http and https pages (of the "
                               "run's sites).")
        if not self._reachable(target):
            raise BrowserError(f"Refused to open {target}: it is not one of the run's sites "
                               f"({self._origins}), and the browser reaches only those.")
        told = len(self._events)
        try:
            tab.page.goto(target, wait_until="commit")
        except PlaywrightTimeout:
            raise WaitTimeout(f"Timed out after {self._config.timeouts.navigation:g} s waiting for {target} to "
                              "respond; the site may be down or slow. Try again, or check the URL.") from None
        except PlaywrightError as exc:
            if self._died():
                raise
            self._raise_if_redirected_away(target, told)
            raise BrowserError(f"Could not open {target}: {playwright_reason(exc)}. Check the URL and that "
                               "the site is running.") from None
        self._raise_if_redirected_away(target, told)
        return self._report(tab, self._settle(tab), full=True)

    def _raise_if_redirected_away(self, target: str, told: int) -> None:
        stopped = next((event for event in self._events[told:] if " redirected to " in event), None)
        if stopped is not None:
            self._events.remove(stopped)
            raise BrowserError(f"Refused to open {target}. {stopped}")

    def _click(self, element_id: int) -> str:
        tab = self._tab()
        record, locator, _ = self._resolve(element_id, "be clicked")
        if record.new_tab:  # the tab opens after the click returns; wait for it to report it
            with self._context.expect_page(timeout=self._config.timeouts.navigation * 1000):
                self._perform(locator.click, f"click {record.describe()}")
        else:
            self._perform(locator.click, f"click {record.describe()}")
        return self._report(tab, self._settle(tab))

    def _fill(self, element_id: int, text: str) -> str:
        tab = self._tab()
        record, locator, _ = self._resolve(element_id, "be filled in")
        if record.tag == "select":
            raise ElementNotInteractable(f"{record.describe()} is a drop-down; use browser.select({element_id}, "
                                         "option) instead of fill().")
        if record.role not in TEXT_ROLES and record.tag not in ("input", "textarea"):
            raise ElementNotInteractable(f"{record.describe()} is not a text field, so it cannot be filled in; "
                                         "fill() works on textboxes (click() buttons, check() checkboxes).")
        self._perform(lambda: locator.fill(str(text)), f"fill in {record.describe()}")
        return self._report(tab, self._settle(tab))

    def _select(self, element_id: int, option: str) -> str:
        tab = self._tab()
        record, locator, options = self._resolve(element_id, "have an option selected")
        if record.tag != "select" or options is None:
            raise ElementNotInteractable(f"{record.describe()} is not a native drop-down; click() it, then "
                                         "click() the option that appears.")
        wanted = str(option).strip()
        value = next((v for v, label in options if label == wanted), None)
        if value is None:
            value = next((v for v, label in options if v == wanted or label.casefold() == wanted.casefold()),
                         None)
        if value is None:
            labels = ", ".join(label for _, label in options)
            raise ElementNotFound(f'{record.describe()} has no option "{wanted}"; its options are: {labels}.')
        self._perform(lambda: locator.select_option(value=value), f"select {wanted!r} in {record.describe()}")
        return self._report(tab, self._settle(tab))

    def _check(self, element_id: int, checked: bool = True) -> str:
        tab = self._tab()
        record, locator, _ = self._resolve(element_id, "be checked")
        if record.role not in CHECK_ROLES:
            raise ElementNotInteractable(f"{record.describe()} is not a checkbox or radio button; check() works "
                                         "on those (use click() for other elements).")
        self._perform(lambda: locator.set_checked(bool(checked)), f"check {record.describe()}")
        return self._report(tab, self._settle(tab))

    def _press(self, key: str, element_id: int | None = None) -> str:
        tab = self._tab()
        try:
            if element_id is None:
                # A locator's press, unlike the keyboard's, waits for a navigation it starts (a submitted form).
                focused = tab.page.locator(":focus")
                if focused.count() == 1:
                    self._perform(lambda: focused.press(key), f"press {key}")
                else:
                    tab.page.keyboard.press(key)
            else:
                record, locator, _ = self._resolve(element_id, "receive key presses")
                self._perform(lambda: locator.press(key), f"press {key} in {record.describe()}")
        except PlaywrightError as exc:
            if "Unknown key" not in (exc.message or ""):
                raise
            raise BrowserError(f"Unknown key {key!r}; use names like Enter, Tab, Escape, ArrowDown, PageDown or "
                               "Control+A.") from None
        return self._report(tab, self._settle(tab))

    def _scroll(self, direction: str = "down") -> str:
        if direction not in ("down", "up", "top", "bottom"):
            raise BrowserError(f"Cannot scroll {direction!r}; directions are down, up, top and bottom.")
        tab = self._tab()
        top, height, total = tab.page.evaluate(_SCROLL_JS, direction)
        where = f"Scrolled {direction}: showing {top}-{top + height} of {total} px."
        return where + "\n" + self._report(tab, self._settle(tab))

    def _back(self) -> str:
        return self._history("back")

    def _forward(self) -> str:
        return self._history("forward")

    def _history(self, direction: str) -> str:
        tab = self._tab()
        before = tab.page.url
        move = tab.page.go_back if direction == "back" else tab.page.go_forward
        try:
            response = move(wait_until="commit")
        except PlaywrightTimeout:
            raise WaitTimeout(f"Timed out after {self._config.timeouts.navigation:g} s going {direction}: the "
                              "page did not respond.") from None
        if response is None and tab.page.url == before:
            word = "previous" if direction == "back" else "next"
            raise BrowserError(f"There is no {word} page in this tab's history.")
        return self._report(tab, self._settle(tab), full=True)

    def _wait_for(self, target: str | int, timeout: float | None = None) -> str:
        tab = self._tab()
        limit = float(timeout) if timeout is not None else self._config.timeouts.wait
        if isinstance(target, int) and not isinstance(target, bool):
            self._wait_for_element(target, limit)
        else:
            self._wait_for_text(tab, str(target), limit)
        return self._report(tab, self._settle(tab))

    def _wait_for_element(self, element_id: int, limit: float) -> None:
        """Until the element can be used: visible and enabled (it must have been observed already)."""
        deadline = time.monotonic() + limit
        while True:
            try:
                self._resolve(element_id, "be used")
                return
            except ElementNotInteractable as exc:
                if time.monotonic() >= deadline:
                    raise WaitTimeout(f"Timed out after {limit:g} s waiting for an element to become usable: "
                                      f"{exc}") from None
            self._tab().page.wait_for_timeout(100)

    def _wait_for_text(self, tab: Tab, text: str, limit: float) -> None:
        deadline = time.monotonic() + limit
        while True:
            for frame in tab.page.frames:
                with suppress(PlaywrightError):  # a frame that is navigating has no text yet
                    if text in frame.evaluate(_BODY_TEXT_JS):
                        return
            if time.monotonic() >= deadline:
                shown = " ".join(self._text().split())[:300]
                raise WaitTimeout(f'Timed out after {limit:g} s waiting for the text "{text}" (case-sensitive) on '
                                  f"{tab.page.url}; the page shows: {shown}")
            tab.page.wait_for_timeout(100)

    def _list_tabs(self) -> list[dict]:
        return [{"index": index, "url": tab.page.url, "title": tab.page.title(), "current": tab is self._current}
                for index, tab in enumerate(self._tabs)]

    def _switch(self, index: int) -> str:
        if not isinstance(index, int) or not 0 <= index < len(self._tabs):
            raise BrowserError(f"There is no tab {index!r}; open tabs are 0 to {len(self._tabs) - 1} "
                               "(browser.tabs() lists them).")
        self._current = self._tabs[index]
        self._current.page.bring_to_front()
        return self._report(self._current, None, full=True)

    def _find(self, role: str, name: str) -> int:
        tab = self._tab()
        observation = self._observe(tab)
        wanted_role, wanted = str(role).strip().lower(), " ".join(str(name).split())
        matches = matching(list(observation.elements.values()), wanted_role, wanted)
        if len(matches) == 1:
            return matches[0].id
        if matches:
            ids = ", ".join(f"[{r.id}]" for r in matches)
            raise ElementNotFound(f'{len(matches)} elements are {wanted_role} "{wanted}" ({ids}); pick one by id '
                                  "from browser.observe().")
        candidates = [r for r in observation.elements.values() if r.role == wanted_role]
        named = ", ".join(f'[{r.id}] "{r.name}"' for r in candidates[:15]) or "none"
        raise ElementNotFound(f'No {wanted_role} named "{wanted}" on {observation.url}. The {wanted_role} '
                              f"elements there: {named}. browser.observe() shows every element and its name.")

    def _answer_dialogs(self, accept: bool = True, text: str | None = None) -> str:
        self._dialog_answer = (bool(accept), text)
        answer = "accepted" if accept else "dismissed"
        reply = f", prompts answered with {text!r}" if accept and text is not None else ""
        return f"From now on, dialogs (alert, confirm, prompt) will be {answer}{reply}."

    def _login(self, site: str) -> str:
        if self._credentials is None:
            raise LoginFailed("No site credentials are configured on the host, so browser.login() cannot sign "
                              "in; ask the user to configure them.")
        try:
            login = self._credentials(str(site))
        except KeyError:
            login = None
        if login is None:
            raise LoginFailed(f"No browser credentials are configured for site {site!r}; the host must add "
                              "them (the kernel never handles passwords).")
        tab = self._tab()
        self._goto(login.url)
        marker = f"{ID_ATTRIBUTE}-login"
        if not tab.page.evaluate(_LOGIN_FIELDS_JS, marker):
            raise LoginFailed(f"{tab.page.url} shows no username and password fields to sign in to {site!r} "
                              "with; the configured login URL may be wrong.")
        page = tab.page
        page.locator(f'[{marker}="username"]').fill(login.username)
        password = page.locator(f'[{marker}="password"]')
        password.fill(login.password)
        # Signing in changes no site data: let the form's submission through.
        self._approval = lambda request: origin_of(request.url) == origin_of(login.url)
        password.press("Enter")
        report = self._report(tab, self._settle(tab), full=True)
        if page.locator("input[type=password]:visible").count():
            said = [line.strip() for line in tab.observation.lines if line.lstrip().startswith("alert:")]
            raise LoginFailed(f"Signing in to {site!r} as {login.username} failed: the login form is still shown"
                              f"{' (' + ' '.join(said) + ')' if said else ''}. The credentials configured on the "
                              "host may be wrong.")
        return f"Signed in to {site} as {login.username}.\n{report}"

    def _cookies_for(self, url: str) -> list[dict]:
        return [{key: cookie[key] for key in ("name", "value", "domain", "path", "secure", "httpOnly", "expires")}
                for cookie in self._context.cookies([url])]

    def _process_id(self) -> int:
        cdp = self._browser.new_browser_cdp_session()
        try:
            processes = cdp.send("SystemInfo.getProcessInfo")["processInfo"]
        finally:
            cdp.detach()
        return next(p["id"] for p in processes if p["type"] == "browser")
