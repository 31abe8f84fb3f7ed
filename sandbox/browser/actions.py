"""The actions on a page, as the kernel calls them: each takes the call's arguments and returns its result
(text for the model, mostly what the action changed on the page)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from sandbox.browser.config import BrowserConfig, CredentialProvider
from sandbox.browser.elements import ElementIds
from sandbox.browser.errors import (
    BrowserError,
    ElementNotFound,
    ElementNotInteractable,
    LoginFailed,
    WaitTimeout,
    playwright_reason,
)
from sandbox.browser.guard import RequestGuard
from sandbox.browser.observe import ID_ATTRIBUTE
from sandbox.browser.origins import WEB_SCHEMES, origin_of
from sandbox.browser.report import Reporter
from sandbox.browser.tabs import Chromium, Tab

TEXT_ROLES = frozenset({"textbox", "searchbox", "combobox", "spinbutton"})
CHECK_ROLES = frozenset({"checkbox", "radio", "switch", "menuitemcheckbox", "menuitemradio"})

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

BODY_TEXT_JS = "() => document.body ? document.body.innerText : ''"


class Actions:
    """Every action of the browser, on the current tab of `chromium`."""

    def __init__(self, config: BrowserConfig, chromium: Chromium, guard: RequestGuard, ids: ElementIds,
                 reporter: Reporter, settle: Callable[[Tab], str | None], events: list[str],
                 credentials: CredentialProvider | None) -> None:
        self._config = config
        self._chromium = chromium
        self._guard = guard
        self._ids = ids
        self._reporter = reporter
        self._settle = settle
        self._events = events
        self._credentials = credentials
        self._screenshots = 0

    def _report(self, tab: Tab, note: str | None, full: bool = False) -> str:
        return self._reporter.report(tab, note, full)

    def _perform(self, step: Callable[[], Any], doing: str) -> None:
        try:
            step()
        except PlaywrightTimeout as exc:
            raise WaitTimeout(f"Could not {doing} within {self._config.timeouts.action:g} s: "
                              f"{playwright_reason(exc)}.") from None

    # Looking ---------------------------------------------------------------------------------

    def observe(self) -> str:
        return self._report(self._chromium.tab(), None, full=True)

    def text(self) -> str:
        page = self._chromium.tab().page
        parts = [f"URL: {page.url}", ""]
        for frame in page.frames:
            try:
                text = frame.evaluate(BODY_TEXT_JS)
            except PlaywrightError:
                continue
            parts.append(text if frame is page.main_frame else f"\n[iframe {frame.url}]\n{text}")
        return "\n".join(parts)

    def screenshot(self, full_page: bool = False) -> str:
        self._config.screenshot_dir.mkdir(parents=True, exist_ok=True)
        self._screenshots += 1
        path = self._config.screenshot_dir / f"screenshot-{self._screenshots}.png"
        self._chromium.tab().page.screenshot(path=path, full_page=full_page)
        return str(path)

    def find(self, role: str, name: str) -> int:
        tab = self._chromium.tab()
        observation = self._reporter.observe(tab)
        wanted_role, wanted = str(role).strip().lower(), " ".join(str(name).split())
        candidates = [r for r in observation.elements.values() if r.role == wanted_role]
        matches = [r for r in candidates if r.name == wanted] or [
            r for r in candidates if r.name.casefold() == wanted.casefold()]
        if len(matches) == 1:
            return matches[0].id
        if matches:
            ids = ", ".join(f"[{r.id}]" for r in matches)
            raise ElementNotFound(f'{len(matches)} elements are {wanted_role} "{wanted}" ({ids}); pick one by id '
                                  "from browser.observe().")
        named = ", ".join(f'[{r.id}] "{r.name}"' for r in candidates[:15]) or "none"
        raise ElementNotFound(f'No {wanted_role} named "{wanted}" on {observation.url}. The {wanted_role} '
                              f"elements there: {named}. browser.observe() shows every element and its name.")

    # Moving around ---------------------------------------------------------------------------

    def goto(self, url: str) -> str:
        tab = self._chromium.tab()
        here = tab.page.url
        if not urlsplit(str(url)).scheme and here == "about:blank":
            raise BrowserError(f"{url!r} is a path, but the tab has no page yet to resolve it against; give a "
                               "full URL such as http://host/path.")
        target = urljoin(here, str(url))
        if urlsplit(target).scheme.lower() not in WEB_SCHEMES:
            raise BrowserError(f"Refused to open {target}: the browser opens only http and https pages (of the "
                               "run's sites).")
        if not self._guard.reachable(target):
            raise BrowserError(f"Refused to open {target}: it is not one of the run's sites "
                               f"({self._guard.origins}), and the browser reaches only those.")
        told = len(self._events)
        try:
            tab.page.goto(target, wait_until="commit")
        except PlaywrightTimeout:
            raise WaitTimeout(f"Timed out after {self._config.timeouts.navigation:g} s waiting for {target} to "
                              "respond; the site may be down or slow. Try again, or check the URL.") from None
        except PlaywrightError as exc:
            if self._chromium.died():
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

    def back(self) -> str:
        return self._history("back")

    def forward(self) -> str:
        return self._history("forward")

    def _history(self, direction: str) -> str:
        tab = self._chromium.tab()
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

    def scroll(self, direction: str = "down") -> str:
        if direction not in ("down", "up", "top", "bottom"):
            raise BrowserError(f"Cannot scroll {direction!r}; directions are down, up, top and bottom.")
        tab = self._chromium.tab()
        top, height, total = tab.page.evaluate(_SCROLL_JS, direction)
        where = f"Scrolled {direction}: showing {top}-{top + height} of {total} px."
        return where + "\n" + self._report(tab, self._settle(tab))

    # Acting on elements ----------------------------------------------------------------------

    def click(self, element_id: int) -> str:
        tab = self._chromium.tab()
        record, locator, _ = self._ids.resolve(element_id, "be clicked")
        if record.new_tab:  # the tab opens after the click returns; wait for it to report it
            with self._chromium.context.expect_page(timeout=self._config.timeouts.navigation * 1000):
                self._perform(locator.click, f"click {record.describe()}")
        else:
            self._perform(locator.click, f"click {record.describe()}")
        return self._report(tab, self._settle(tab))

    def fill(self, element_id: int, text: str) -> str:
        tab = self._chromium.tab()
        record, locator, _ = self._ids.resolve(element_id, "be filled in")
        if record.tag == "select":
            raise ElementNotInteractable(f"{record.describe()} is a drop-down; use browser.select({element_id}, "
                                         "option) instead of fill().")
        if record.role not in TEXT_ROLES and record.tag not in ("input", "textarea"):
            raise ElementNotInteractable(f"{record.describe()} is not a text field, so it cannot be filled in; "
                                         "fill() works on textboxes (click() buttons, check() checkboxes).")
        self._perform(lambda: locator.fill(str(text)), f"fill in {record.describe()}")
        return self._report(tab, self._settle(tab))

    def select(self, element_id: int, option: str) -> str:
        tab = self._chromium.tab()
        record, locator, options = self._ids.resolve(element_id, "have an option selected")
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

    def check(self, element_id: int, checked: bool = True) -> str:
        tab = self._chromium.tab()
        record, locator, _ = self._ids.resolve(element_id, "be checked")
        if record.role not in CHECK_ROLES:
            raise ElementNotInteractable(f"{record.describe()} is not a checkbox or radio button; check() works "
                                         "on those (use click() for other elements).")
        self._perform(lambda: locator.set_checked(bool(checked)), f"check {record.describe()}")
        return self._report(tab, self._settle(tab))

    def press(self, key: str, element_id: int | None = None) -> str:
        tab = self._chromium.tab()
        try:
            if element_id is None:
                # A locator's press, unlike the keyboard's, waits for a navigation it starts (a submitted form).
                focused = tab.page.locator(":focus")
                if focused.count() == 1:
                    self._perform(lambda: focused.press(key), f"press {key}")
                else:
                    tab.page.keyboard.press(key)
            else:
                record, locator, _ = self._ids.resolve(element_id, "receive key presses")
                self._perform(lambda: locator.press(key), f"press {key} in {record.describe()}")
        except PlaywrightError as exc:
            if "Unknown key" not in (exc.message or ""):
                raise
            raise BrowserError(f"Unknown key {key!r}; use names like Enter, Tab, Escape, ArrowDown, PageDown or "
                               "Control+A.") from None
        return self._report(tab, self._settle(tab))

    def wait_for(self, target: str | int, timeout: float | None = None) -> str:
        tab = self._chromium.tab()
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
                self._ids.resolve(element_id, "be used")
                return
            except ElementNotInteractable as exc:
                if time.monotonic() >= deadline:
                    raise WaitTimeout(f"Timed out after {limit:g} s waiting for an element to become usable: "
                                      f"{exc}") from None
            self._chromium.tab().page.wait_for_timeout(100)

    def _wait_for_text(self, tab: Tab, text: str, limit: float) -> None:
        deadline = time.monotonic() + limit
        while True:
            for frame in tab.page.frames:
                with suppress(PlaywrightError):  # a frame that is navigating has no text yet
                    if text in frame.evaluate(BODY_TEXT_JS):
                        return
            if time.monotonic() >= deadline:
                shown = " ".join(self.text().split())[:300]
                raise WaitTimeout(f'Timed out after {limit:g} s waiting for the text "{text}" (case-sensitive) on '
                                  f"{tab.page.url}; the page shows: {shown}")
            tab.page.wait_for_timeout(100)

    # Dialogs and tabs ------------------------------------------------------------------------

    def answer_dialogs(self, accept: bool = True, text: str | None = None) -> str:
        self._chromium.dialog_answer = (bool(accept), text)
        answer = "accepted" if accept else "dismissed"
        reply = f", prompts answered with {text!r}" if accept and text is not None else ""
        return f"From now on, dialogs (alert, confirm, prompt) will be {answer}{reply}."

    def tabs(self) -> list[dict]:
        chromium = self._chromium
        return [{"index": index, "url": tab.page.url, "title": tab.page.title(), "current": tab is chromium.current}
                for index, tab in enumerate(chromium.tabs)]

    def switch(self, index: int) -> str:
        chromium = self._chromium
        if not isinstance(index, int) or not 0 <= index < len(chromium.tabs):
            raise BrowserError(f"There is no tab {index!r}; open tabs are 0 to {len(chromium.tabs) - 1} "
                               "(browser.tabs() lists them).")
        chromium.current = chromium.tabs[index]
        chromium.current.page.bring_to_front()
        return self._report(chromium.current, None, full=True)

    # Sessions and the host's own ----------------------------------------------------------------

    def login(self, site: str) -> str:
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
        tab = self._chromium.tab()
        self.goto(login.url)
        marker = f"{ID_ATTRIBUTE}-login"
        if not tab.page.evaluate(_LOGIN_FIELDS_JS, marker):
            raise LoginFailed(f"{tab.page.url} shows no username and password fields to sign in to {site!r} "
                              "with; the configured login URL may be wrong.")
        page = tab.page
        page.locator(f'[{marker}="username"]').fill(login.username)
        password = page.locator(f'[{marker}="password"]')
        password.fill(login.password)
        # Signing in changes no site data: let the form's submission through.
        self._guard.approval = lambda request: origin_of(request.url) == origin_of(login.url)
        password.press("Enter")
        report = self._report(tab, self._settle(tab), full=True)
        if page.locator("input[type=password]:visible").count():
            said = [line.strip() for line in tab.observation.lines if line.lstrip().startswith("alert:")]
            raise LoginFailed(f"Signing in to {site!r} as {login.username} failed: the login form is still shown"
                              f"{' (' + ' '.join(said) + ')' if said else ''}. The credentials configured on the "
                              "host may be wrong.")
        return f"Signed in to {site} as {login.username}.\n{report}"

    def cookies(self, url: str) -> list[dict]:
        return [{key: cookie[key] for key in ("name", "value", "domain", "path", "secure", "httpOnly", "expires")}
                for cookie in self._chromium.context.cookies([url])]

    def process_id(self) -> int:
        cdp = self._chromium.browser.new_browser_cdp_session()
        try:
            processes = cdp.send("SystemInfo.getProcessInfo")["processInfo"]
        finally:
            cdp.detach()
        return next(p["id"] for p in processes if p["type"] == "browser")
