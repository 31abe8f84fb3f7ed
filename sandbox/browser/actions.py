"""The actions on a page, as the kernel calls them: each takes the call's arguments and returns its result
(text for the model, mostly what the action changed on the page)."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import suppress
from typing import Any, cast
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Error as PlaywrightError, Locator, TimeoutError as PlaywrightTimeout

from sandbox.browser import widgets
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
from sandbox.browser.files import Upload, read_upload
from sandbox.browser.guard import RequestGuard, host_of
from sandbox.browser.observe import ID_ATTRIBUTE, ElementRecord, likeliest, matching
from sandbox.browser.origins import WEB_SCHEMES, origin_of
from sandbox.browser.registry import BrowserEffect, action
from sandbox.browser.report import Reporter
from sandbox.browser.tabs import Chromium, Tab

SUBMIT_KEYS = frozenset({"Enter", "NumpadEnter"})  # submit the form of the field they are pressed in
ACTIVATE_KEYS = frozenset({"Space", " "})  # press the button they are pressed on, a submit button too
SCROLL_DIRECTIONS = ("down", "up", "top", "bottom", "left", "right")
DROP_DOWN_ROLES = frozenset({"combobox", "listbox"})
TEXT_ROLES = frozenset({"textbox", "searchbox", "combobox", "spinbutton"})
CHECK_ROLES = frozenset({"checkbox", "radio", "switch", "menuitemcheckbox", "menuitemradio"})
FIND_CANDIDATES = 30  # named when find() misses
# Whether an element takes the keyboard's focus (press() focuses it first, as Playwright does): a field, a
# button, anything with a tabindex or contenteditable, or a shadow host that hands focus inside.
TAKES_FOCUS_JS = """(el) => {
  el.focus({ preventScroll: true });
  const active = el.getRootNode().activeElement || document.activeElement;
  return Boolean(active) && (active === el || el.contains(active)
    || (el.shadowRoot !== null && el.shadowRoot.activeElement !== null));
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

BODY_TEXT_JS = "() => document.body ? document.body.innerText : ''"

_FOCUSED_FORM_JS = """() => {
  const el = document.activeElement;
  if (!el || !el.form) return null;
  const form = el.form, submitter = ["submit", "image"].includes(el.type);
  return { tag: el.tagName.toLowerCase(), submits: submitter,
           method: ((submitter && el.getAttribute("formmethod")) || form.getAttribute("method") || "get")
             .toUpperCase(),
           // the prototype's getter, since a control named "action" shadows form.action
           action: submitter && el.hasAttribute("formaction") ? el.formAction
             : Object.getOwnPropertyDescriptor(HTMLFormElement.prototype, "action").get.call(form) };
}"""


class Actions:
    """Every action of the browser, on the current tab of `chromium`."""

    def __init__(
        self,
        config: BrowserConfig,
        chromium: Chromium,
        guard: RequestGuard,
        ids: ElementIds,
        reporter: Reporter,
        settle: Callable[[Tab], str | None],
        events: list[str],
        credentials: CredentialProvider | None,
    ) -> None:
        self._config = config
        self._chromium = chromium
        self._guard = guard
        self._ids = ids
        self._reporter = reporter
        self._settle = settle
        self._events = events
        self._credentials = credentials
        self._screenshots = 0

    def here(self) -> str:
        """The current tab's URL (about:blank before the browser has started)."""
        current = self._chromium.current
        return current.page.url if current else "about:blank"

    def _report(self, tab: Tab, note: str | None, full: bool = False) -> str:
        return self._reporter.report(tab, note, full)

    def _perform(self, step: Callable[[], Any], doing: str) -> None:
        try:
            step()
        except PlaywrightTimeout as exc:
            raise WaitTimeout(
                f"Could not {doing} within {self._config.timeouts.action:g} s: {playwright_reason(exc)}."
            ) from None

    def _effect_of_goto(self, url: str) -> BrowserEffect:
        return BrowserEffect(domain=host_of(urljoin(self.here(), str(url))))

    @action("`browser.goto(url_or_path)`: open a URL, or a path on the current site.", effect=_effect_of_goto)
    def goto(self, url: str) -> str:
        """Open a URL, or a path resolved against the current page's URL."""
        tab = self._chromium.tab()
        here = tab.page.url
        if not urlsplit(str(url)).scheme and here == "about:blank":
            raise BrowserError(
                f"{url!r} is a path, but the tab has no page yet to resolve it against; give a "
                "full URL such as http://host/path."
            )
        target = urljoin(here, str(url))
        if urlsplit(target).scheme.lower() not in WEB_SCHEMES:
            raise BrowserError(
                f"Refused to open {target}: the browser opens only http and https pages (of the run's sites)."
            )
        if not self._guard.reachable(target):
            raise BrowserError(
                f"Refused to open {target}: it is not one of the run's sites "
                f"({self._guard.origins}), and the browser reaches only those."
            )
        told = len(self._events)
        try:
            tab.page.goto(target, wait_until="commit")
        except PlaywrightTimeout:
            raise WaitTimeout(
                f"Timed out after {self._config.timeouts.navigation:g} s waiting for {target} to "
                "respond; the site may be down or slow. Try again, or check the URL."
            ) from None
        except PlaywrightError as exc:
            if self._chromium.died():
                raise
            self._raise_if_redirected_away(target, told)
            raise BrowserError(
                f"Could not open {target}: {playwright_reason(exc)}. Check the URL and that "
                "the site is running."
            ) from None
        self._raise_if_redirected_away(target, told)
        return self._report(tab, self._settle(tab), full=True)

    # Looking ---------------------------------------------------------------------------------

    @action("""`browser.observe()`: the page as an accessibility tree; elements read
  `[12] button "Close issue"` and links `[7] link "Next page" -> /issues?page=2`. A checkbox, radio or
  field in a table row may show only its id and state (`[41] checkbox`): its row and column say what it
  is for.""")
    def observe(self) -> str:
        """The current page as a compact accessibility tree, with an id for each element to act on."""
        return self._report(self._chromium.tab(), None, full=True)

    @action("`browser.text()`: the readable text of the page.")
    def text(self) -> str:
        """The page's readable text (frames included), after its URL."""
        page = self._chromium.tab().page
        parts = [f"URL: {page.url}", ""]
        for frame in page.frames:
            try:
                text = frame.evaluate(BODY_TEXT_JS)
            except PlaywrightError:
                continue
            parts.append(text if frame is page.main_frame else f"\n[iframe {frame.url}]\n{text}")
        return "\n".join(parts)

    @action("`browser.screenshot()`: save a PNG of the page; returns its path on the host.")
    def screenshot(self, full_page: bool = False) -> str:
        """Save a PNG of the current tab and return its path on the host."""
        self._config.screenshot_dir.mkdir(parents=True, exist_ok=True)
        self._screenshots += 1
        path = self._config.screenshot_dir / f"screenshot-{self._screenshots}.png"
        self._chromium.tab().page.screenshot(path=path, full_page=full_page)
        return str(path)

    @action("`browser.find(role, name)`: the id of the element with that role and accessible name.")
    def find(self, role: str, name: str) -> int:
        """The id of the one element with this role and accessible name, e.g. find("button", "Save")."""
        tab = self._chromium.tab()
        observation = self._reporter.observe(tab)
        wanted_role, wanted = str(role).strip().lower(), " ".join(str(name).split())
        matches = matching(list(observation.elements.values()), wanted_role, wanted)
        if len(matches) == 1:
            return matches[0].id
        if matches:
            which = ", ".join(r.describe() for r in matches[:FIND_CANDIDATES])
            raise ElementNotFound(
                f'{len(matches)} elements are {wanted_role} "{wanted}" ({which}); pick one by id, or '
                "give more of its name."
            )
        everything = list(observation.elements.values())
        candidates = [r for r in everything if r.role == wanted_role]
        nearest = likeliest(candidates, wanted, FIND_CANDIDATES)
        named = ", ".join(f'[{r.id}] "{r.name or r.row}"' for r in nearest) or "none"
        more = f" ({len(candidates)} in all)" if len(candidates) > len(nearest) else ""
        said = [
            f'No {wanted_role} named "{wanted}" on {observation.url}. The {wanted_role} elements there, '
            + f"nearest first: {named}{more}."
        ]
        others = [r for r in everything if r.role != wanted_role and matching([r], r.role, wanted)]
        if others:
            said.append("With that name: " + ", ".join(r.describe() for r in others[:FIND_CANDIDATES]) + ".")
        raise ElementNotFound(" ".join([*said, "browser.observe() shows every element and its name."]))

    # Moving around ---------------------------------------------------------------------------

    def _raise_if_redirected_away(self, target: str, told: int) -> None:
        stopped = next((event for event in self._events[told:] if " redirected to " in event), None)
        if stopped is not None:
            self._events.remove(stopped)
            raise BrowserError(f"Refused to open {target}. {stopped}")

    @action("`browser.back()`, `browser.forward()`: move in the tab's history.")
    def back(self) -> str:
        """Go back one page in the tab's history."""
        return self._history("back")

    @action()
    def forward(self) -> str:
        """Go forward one page in the tab's history."""
        return self._history("forward")

    def _history(self, direction: str) -> str:
        tab = self._chromium.tab()
        before = tab.page.url
        move = tab.page.go_back if direction == "back" else tab.page.go_forward
        try:
            response = move(wait_until="commit")
        except PlaywrightTimeout:
            raise WaitTimeout(
                f"Timed out after {self._config.timeouts.navigation:g} s going {direction}: the "
                "page did not respond."
            ) from None
        if response is None and tab.page.url == before:
            word = "previous" if direction == "back" else "next"
            raise BrowserError(f"There is no {word} page in this tab's history.")
        return self._report(tab, self._settle(tab), full=True)

    @action("""`browser.scroll("down")` (or up, top, bottom) scrolls the page;
  `browser.scroll(id, "down")` (or up, top, bottom, left, right) scrolls a container such as a grid or
  list, and says which rows it shows.""")
    def scroll(self, target: int | str = "down", direction: str | None = None) -> str:
        """Scroll the page (`scroll("down")`), or the container an element is or is in (`scroll(id, "down")`):
        down, up, top, bottom (and left, right for a container)."""
        element: int | str | None = target
        if isinstance(target, str) and direction is None:
            element, direction = None, target
        direction = direction or "down"
        if direction not in SCROLL_DIRECTIONS or (element is None and direction in ("left", "right")):
            allowed = (
                "down, up, top, bottom, left and right" if element is not None else "down, up, top and bottom"
            )
            raise BrowserError(f"Cannot scroll {direction!r}; directions are {allowed}.")
        tab = self._chromium.tab()
        if element is None and widgets.main_scroller(tab.page):  # an app whose window never scrolls
            scroller = tab.page.locator(f"[{widgets.SCROLLED_ATTRIBUTE}]").first
            widgets.scroll_container(scroller, direction)
            note = self._settle(tab)
            rows = widgets.rows_shown(tab.page)
            return (
                _describe_rows("the page's scrolling area (the window does not scroll)", direction, rows)
                + "\n"
                + self._report(tab, note)
            )
        if element is None:
            top, height, total = tab.page.evaluate(_SCROLL_JS, direction)
            where = f"Scrolled {direction}: showing {top}-{top + height} of {total} px."
            return where + "\n" + self._report(tab, self._settle(tab))
        record, locator, _ = self._ids.resolve(element, "be scrolled")
        if not widgets.scroll_container(locator, direction):
            raise ElementNotInteractable(
                f"Nothing at {record.describe()} scrolls {direction}: neither it, what it "
                'holds nor what holds it; browser.scroll("down") scrolls the page.'
            )
        note = self._settle(tab)  # a virtualised list renders the rows that came into view
        return (
            _describe_rows(record.describe(), direction, widgets.rows_shown(tab.page))
            + "\n"
            + self._report(tab, note)
        )

    # Acting on elements ----------------------------------------------------------------------

    def _effect_of_click(self, element_id: int) -> BrowserEffect:
        record = self._ids.record(element_id)
        here = host_of(self.here())
        if record and record.submits:
            form = record.submits
            if not self._guard.writes(form["method"], form["action"]):
                return BrowserEffect(domain=host_of(form["action"]))
            return BrowserEffect(
                writes=True,
                domain=host_of(form["action"]),
                submits=form,
                description=f"click {record.describe()}, which submits a form ({form['method']} "
                f"{form['action']})",
            )
        return BrowserEffect(domain=host_of(record.href) if record and record.href else here)

    @action(
        "`browser.click(id)`: click an element (a button, link, menu item, row...).", effect=_effect_of_click
    )
    def click(self, element_id: int) -> str:
        """Click an element."""
        tab = self._chromium.tab()
        record, locator, _ = self._ids.resolve(element_id, "be clicked")
        if record.new_tab:  # the tab opens after the click returns; wait for it to report it
            with self._chromium.live_context().expect_page(timeout=self._config.timeouts.navigation * 1000):
                self._perform(widgets.click_target(locator).click, f"click {record.describe()}")
        else:
            self._perform(widgets.click_target(locator).click, f"click {record.describe()}")
        return self._report(tab, self._settle(tab))

    def _effect_of_right_click(self, element_id: int) -> BrowserEffect:
        return BrowserEffect(domain=host_of(self.here()))  # opens the page's menu; submits nothing

    @action(
        """`browser.right_click(id)`, `browser.double_click(id)`: right-click an element (for the menu a page
  opens on it), double-click one (to open it or edit it in place).""",
        effect=_effect_of_right_click,
    )
    def right_click(self, element_id: int) -> str:
        """Right-click an element, as for the menu a page draws on it; says what the page then shows."""
        tab = self._chromium.tab()
        record, locator, _ = self._ids.resolve(element_id, "be right-clicked")
        self._perform(lambda: locator.click(button="right"), f"right-click {record.describe()}")
        return self._report(tab, self._settle(tab))

    @action(effect=_effect_of_click)
    def double_click(self, element_id: int) -> str:
        """Double-click an element, as to open it or edit it in place."""
        tab = self._chromium.tab()
        record, locator, _ = self._ids.resolve(element_id, "be double-clicked")
        self._perform(locator.dblclick, f"double-click {record.describe()}")
        return self._report(tab, self._settle(tab))

    @action("`browser.fill(id, text)`: replace the text in a textbox; says the value the field then holds.")
    def fill(self, element_id: int, text: str) -> str:
        """Replace the text in a textbox. A field that formats what it is given (a date mask, say) and so
        does not take the text whole is cleared and typed into key by key; the value it ends up holding is
        reported."""
        tab = self._chromium.tab()
        record, locator, _ = self._ids.resolve(element_id, "be filled in")
        if record.tag == "select":
            raise ElementNotInteractable(
                f"{record.describe()} is a drop-down; use browser.select({element_id}, "
                "option) instead of fill()."
            )
        if record.role not in TEXT_ROLES and record.tag not in ("input", "textarea"):
            raise ElementNotInteractable(
                f"{record.describe()} is not a text field, so it cannot be filled in; "
                "fill() works on textboxes (click() buttons, check() checkboxes)."
            )
        text = str(text)
        self._perform(lambda: locator.fill(text), f"fill in {record.describe()}")
        value = widgets.field_value(locator)
        if value is not None and value != text:
            self._perform(lambda: self._retype(locator, text), f"type into {record.describe()}")
            value = widgets.field_value(locator)
        note = self._settle(tab)
        if value is None:
            said = f"Filled in {record.describe()}; the page then replaced the field."
        elif locator.get_attribute("type") == "password":  # never echoed, as the observation masks it
            said = f"{record.describe()} now holds {len(value)} characters (a password, not shown)."
        elif value == text:
            said = f'{record.describe()} now holds "{value}".'
        else:
            said = (
                f'{record.describe()} now holds "{value}" (given "{text}": the field formats or limits what '
                "it takes)."
            )
        return said + "\n" + self._report(tab, note)

    @staticmethod
    def _retype(locator: Locator, text: str) -> None:
        """Clear the field and type `text` key by key, as a person would: what input masks listen to."""
        locator.click()
        locator.press("ControlOrMeta+a")
        locator.press("Backspace")
        locator.press_sequentially(text)

    @action("""`browser.select(id, option)`: choose an option by its text, in a native drop-down or a
  custom one (a combobox that opens a list; a searchable one is typed into; in cascading menus give the
  path, "Europe / France / Paris"); says what the drop-down then shows.""")
    def select(self, element_id: int, option: str) -> str:
        """Choose a drop-down's option by its label (or value): a native <select>, or a custom drop-down that
        opens a list of options when clicked (ARIA combobox/listbox, select2, react-select, MUI, antd, web
        components such as Shoelace's), typed into when it is searchable; in a cascading one, a path such as
        "Europe / France / Paris". Says what the drop-down shows afterwards."""
        tab = self._chromium.tab()
        record, locator, options = self._ids.resolve(element_id, "have an option selected")
        wanted = str(option).strip()
        if record.tag == "select" and options is not None:
            chosen = self._select_native(record, locator, options, wanted)
        elif (
            record.role in DROP_DOWN_ROLES
            or (record.role in ("button", "clickable") and widgets.looks_like_drop_down(locator))
            or locator.get_attribute("aria-haspopup") not in (None, "false")
        ):
            chosen = self._select_custom(tab, record, locator, wanted)
        else:
            raise ElementNotInteractable(
                f"{record.describe()} is not a drop-down; select() works on drop-downs "
                "(comboboxes, listboxes, buttons that open a list), so click() this one."
            )
        note = self._settle(tab)
        shown = widgets.shown_value(locator)
        if shown is None:
            said = f'Chose "{chosen}" in {record.describe()}; the page then replaced the drop-down.'
        elif widgets.PATH_SEPARATOR.split(chosen)[-1].casefold() in shown.casefold():
            said = f'Selected "{chosen}" in {record.describe()}; it shows "{shown}".'
        else:
            said = (
                f'Clicked the option "{chosen}" of {record.describe()}, but it shows "{shown}"; observe() to '
                "see what the page did."
            )
        return said + "\n" + self._report(tab, note)

    def _select_native(
        self, record: ElementRecord, locator: Locator, options: list[list[str]], wanted: str
    ) -> str:
        value = next((v for v, label in options if label == wanted), None)
        if value is None:
            value = next(
                (v for v, label in options if v == wanted or label.casefold() == wanted.casefold()), None
            )
        if value is None:
            labels = ", ".join(label for _, label in options)
            raise ElementNotFound(f'{record.describe()} has no option "{wanted}"; its options are: {labels}.')
        self._perform(lambda: locator.select_option(value=value), f"select {wanted!r} in {record.describe()}")
        return next(label for v, label in options if v == value)

    def _select_custom(self, tab: Tab, record: ElementRecord, locator: Locator, wanted: str) -> str:
        limit = self._config.timeouts.action
        try:
            return widgets.choose_option(tab.page, locator, wanted, limit)
        except widgets.OptionNotFound as missing:
            if missing.ambiguous:
                several = ", ".join(f'"{text}"' for text in missing.ambiguous)
                raise ElementNotFound(
                    f'Several options of {record.describe()} contain "{wanted}": {several}; '
                    "give the whole text of one."
                ) from None
            shown = ", ".join(f'"{text}"' for text in missing.shown[: widgets.SHOWN_OPTIONS])
            more = (
                f" and {len(missing.shown) - widgets.SHOWN_OPTIONS} more"
                if len(missing.shown) > widgets.SHOWN_OPTIONS
                else ""
            )
            raise ElementNotFound(
                f'{record.describe()} has no option "{wanted}"; it offered {shown}{more}.'
            ) from None
        except LookupError:
            raise ElementNotInteractable(
                f"Clicking {record.describe()} opened no list of options, so select() "
                "cannot choose in it; observe() to see what it did, then click() the "
                "option."
            ) from None
        except PlaywrightTimeout as exc:
            raise WaitTimeout(
                f"Could not select {wanted!r} in {record.describe()} within {limit:g} s: "
                f"{playwright_reason(exc)}."
            ) from None

    @action(
        "`browser.check(id)` (or `check(id, False)` to untick): tick a checkbox or radio button; says its "
        "state."
    )
    def check(self, element_id: int, checked: bool = True) -> str:
        """Tick (or with checked=False, untick) a checkbox or radio button, and say the state it then has."""
        tab = self._chromium.tab()
        record, locator, _ = self._ids.resolve(element_id, "be checked")
        if record.role not in CHECK_ROLES:
            raise ElementNotInteractable(
                f"{record.describe()} is not a checkbox or radio button; check() works "
                "on those (use click() for other elements)."
            )
        wanted = bool(checked)
        word = "checked" if wanted else "unchecked"
        if widgets.checked_state(locator) is wanted:
            return f"{record.describe()} was already {word}; nothing was clicked."
        if not wanted and record.role in ("radio", "menuitemradio"):
            raise ElementNotInteractable(
                f"{record.describe()} is a radio button: it is unticked by choosing another one of its group."
            )
        self._perform(widgets.click_target(locator).click, f"click {record.describe()}")
        note = self._settle(tab)
        state = widgets.checked_state(locator)
        if state is wanted:
            said = f"{record.describe()} is now {word}."
        elif state is None:
            said = f"Clicked {record.describe()}; the page then replaced it (its new state is below)."
        else:
            shown = "mixed" if state == "mixed" else ("checked" if state else "unchecked")
            raise ElementNotInteractable(
                f"Clicked {record.describe()}, but it is still {shown}: the page did not "
                "let it change (observe() may say why)."
            )
        return said + "\n" + self._report(tab, note)

    @action(
        """`browser.upload(id, path)`: give a file from your working directory to a file field, the button
  that opens one, or a drop zone.""",
        prepare=lambda args, work_dir: (args[0], read_upload(args[1], work_dir)),
    )
    def upload(self, element_id: int, path: str) -> str:
        """Upload a file from the kernel's working directory (`path` relative to it) to a file field (even
        one hidden behind a styled button), the button or label that opens one, or a drop zone."""
        upload = cast(Upload, path)  # `prepare` read the file on the calling thread
        tab = self._chromium.tab()
        record, locator, _ = self._ids.resolve(element_id, "take a file", must_be_usable=False)
        limit = self._config.timeouts.action
        try:
            how = widgets.give_files(tab.page, locator, upload, limit)
        except PlaywrightTimeout:
            raise ElementNotInteractable(
                f"{record.describe()} is not a file field, does not open one when "
                "clicked, and does not take dropped files; upload() to the element "
                "that does."
            ) from None
        note = self._settle(tab)
        size = f"{len(upload.data)} bytes, {upload.mime_type}"
        if how == "dropped":
            said = f"Dropped {upload.name} ({size}) on {record.describe()}."
        else:
            held = widgets.files_held(locator)
            holding = f"; it holds {', '.join(held)}" if held else ""
            said = f"Attached {upload.name} ({size}) to {record.describe()}{holding}."
        return said + "\n" + self._report(tab, note)

    def _effect_of_press(self, key: str, element_id: int | None = None) -> BrowserEffect:
        here = host_of(self.here())
        if key not in SUBMIT_KEYS and key not in ACTIVATE_KEYS:
            return BrowserEffect(domain=here)
        form = self._form_submitted_by_key(key, element_id)
        if not form or not self._guard.writes(form["method"], form["action"]):
            return BrowserEffect(domain=here)
        return BrowserEffect(
            writes=True,
            domain=host_of(form["action"]),
            submits=form,
            description=f"press {key}, which submits a form ({form['method']} {form['action']})",
        )

    def _form_submitted_by_key(self, key: str, element_id: int | None) -> dict[str, Any] | None:
        """The form a key submits: Enter in a field, Enter or Space on a submit button."""
        if element_id is not None:
            record = self._ids.record(element_id)
            if record is None:
                return None
            return record.submits or (record.form if key in SUBMIT_KEYS and record.tag == "input" else None)
        current = self._chromium.current
        if current is None:
            return None
        try:
            focused = current.page.evaluate(_FOCUSED_FORM_JS)
        except PlaywrightError:
            return None
        if focused and (focused["submits"] or (key in SUBMIT_KEYS and focused["tag"] == "input")):
            return {"method": focused["method"], "action": focused["action"]}
        return None

    @action(
        "`browser.press(key)` (Enter, Tab, Escape, ArrowDown...), in the focused element or `press(key, id)`",
        effect=_effect_of_press,
    )
    def press(self, key: str, element_id: int | None = None) -> str:
        """Press a key (Enter, Tab, Escape, Control+A...) in the focused element or in `element_id`."""
        tab = self._chromium.tab()
        try:
            if element_id is None:
                # A locator's press, unlike the keyboard's, waits for a navigation it starts (a submitted
                # form).
                focused = tab.page.locator(":focus")
                if focused.count() == 1:
                    self._perform(lambda: focused.press(key), f"press {key}")
                else:
                    tab.page.keyboard.press(key)
            else:
                record, locator, _ = self._ids.resolve(element_id, "receive key presses")
                if not locator.evaluate(TAKES_FOCUS_JS):
                    # The key would go to the page, not to it: pressing it there is not what was asked.
                    raise ElementNotInteractable(
                        f"{record.describe()} cannot take the keyboard's focus: the page gives it no place "
                        "in the tab order, so keys (and Tab) do not reach it, for a person either. "
                        f"browser.click({element_id}) works it as a person does."
                    )
                self._perform(lambda: locator.press(key), f"press {key} in {record.describe()}")
        except PlaywrightError as exc:
            if "Unknown key" not in (exc.message or ""):
                raise
            raise BrowserError(
                f"Unknown key {key!r}; use names like Enter, Tab, Escape, ArrowDown, PageDown or Control+A."
            ) from None
        return self._report(tab, self._settle(tab))

    @action(
        "`browser.wait_for(text_or_id)`: wait until a text appears, or an element becomes usable.",
        waits=lambda timeouts, args: args[1] or timeouts.wait,
    )
    def wait_for(self, target: str | int, timeout: float | None = None) -> str:
        """Wait until a text appears on the page, or an observed element becomes visible and enabled."""
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
                    raise WaitTimeout(
                        f"Timed out after {limit:g} s waiting for an element to become usable: {exc}"
                    ) from None
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
                raise WaitTimeout(
                    f'Timed out after {limit:g} s waiting for the text "{text}" (case-sensitive) on '
                    f"{tab.page.url}; the page shows: {shown}"
                )
            tab.page.wait_for_timeout(100)

    # Dialogs and tabs ------------------------------------------------------------------------

    @action("`browser.answer_dialogs(accept=True, text=None)`: how to answer alert/confirm/prompt dialogs.")
    def answer_dialogs(self, accept: bool = True, text: str | None = None) -> str:
        """How to answer the page's alert/confirm/prompt dialogs from now on (default: accept)."""
        self._chromium.dialog_answer = (bool(accept), text)
        answer = "accepted" if accept else "dismissed"
        reply = f", prompts answered with {text!r}" if accept and text is not None else ""
        return f"From now on, dialogs (alert, confirm, prompt) will be {answer}{reply}."

    @action("`browser.tabs()`, `browser.switch(index)`: list the open tabs, show another one.")
    def tabs(self) -> list[dict[str, Any]]:
        """The open tabs: index, url, title, and which is current."""
        chromium = self._chromium
        return [
            {
                "index": index,
                "url": tab.page.url,
                "title": tab.page.title(),
                "current": tab is chromium.current,
            }
            for index, tab in enumerate(chromium.tabs)
        ]

    @action()
    def switch(self, index: int) -> str:
        """Make tab `index` current and show it."""
        chromium = self._chromium
        if not isinstance(index, int) or not 0 <= index < len(chromium.tabs):
            raise BrowserError(
                f"There is no tab {index!r}; open tabs are 0 to {len(chromium.tabs) - 1} "
                "(browser.tabs() lists them)."
            )
        chromium.current = chromium.tabs[index]
        chromium.current.page.bring_to_front()
        return self._report(chromium.current, None, full=True)

    # Sessions and the host's own ----------------------------------------------------------------

    def _effect_of_login(self, site: str) -> BrowserEffect:
        login = None
        if self._credentials is not None:
            with suppress(Exception):  # an unknown site is reported by login() itself
                login = self._credentials(str(site))
        return BrowserEffect(domain=host_of(login.url) if login else host_of(self.here()))

    @action(
        "`browser.login(site)`: sign in to a site's web UI with the credentials the host holds.",
        effect=_effect_of_login,
    )
    def login(self, site: str) -> str:
        """Sign in to a site's web UI with the credentials configured on the host."""
        if self._credentials is None:
            raise LoginFailed(
                "No site credentials are configured on the host, so browser.login() cannot sign "
                "in; ask the user to configure them."
            )
        try:
            login = self._credentials(str(site))
        except KeyError:
            login = None
        if login is None:
            raise LoginFailed(
                f"No browser credentials are configured for site {site!r}; the host must add "
                "them (the kernel never handles passwords)."
            )
        tab = self._chromium.tab()
        opened = self.goto(login.url)
        marker = f"{ID_ATTRIBUTE}-login"
        if not tab.page.evaluate(_LOGIN_FIELDS_JS, marker):
            if (
                urlsplit(tab.page.url).path != urlsplit(login.url).path
            ):  # a signed-in user is sent on (Django)
                return (
                    f"Already signed in to {site}: its login page sent the browser on to "
                    f"{tab.page.url}.\n{opened}"
                )
            raise LoginFailed(
                f"{tab.page.url} shows no username and password fields to sign in to {site!r} "
                "with; the configured login URL may be wrong."
            )
        page = tab.page
        page.locator(f'[{marker}="username"]').fill(login.username)
        password = page.locator(f'[{marker}="password"]')
        password.fill(login.password)
        # Signing in changes no site data: let the form's submission through.
        self._guard.approval = lambda request: origin_of(request.url) == origin_of(login.url)
        password.press("Enter")
        report = self._report(tab, self._settle(tab), full=True)
        if page.locator("input[type=password]:visible").count():
            lines = tab.observation.lines if tab.observation else []
            said = [line.strip() for line in lines if line.lstrip().startswith("alert:")]
            raise LoginFailed(
                f"Signing in to {site!r} as {login.username} failed: the login form is still shown"
                f"{' (' + ' '.join(said) + ')' if said else ''}. The credentials configured on the "
                "host may be wrong."
            )
        return f"Signed in to {site} as {login.username}.\n{report}"

    @action(host_only=True)
    def cookies(self, url: str) -> list[dict[str, Any]]:
        """The browser's cookies for `url`, to share its web session with the site's API client."""
        return [
            {key: cookie[key] for key in ("name", "value", "domain", "path", "secure", "httpOnly", "expires")}
            for cookie in self._chromium.live_context().cookies([url])
        ]

    @action(host_only=True)
    def process_id(self) -> int:
        """The browser process's id, for the host's resource monitoring."""
        cdp = self._chromium.live_browser().new_browser_cdp_session()
        try:
            processes = cdp.send("SystemInfo.getProcessInfo")["processInfo"]
        finally:
            cdp.detach()
        return int(next(p["id"] for p in processes if p["type"] == "browser"))


def _describe_rows(element: str, direction: str, rows: dict[str, Any] | None) -> str:
    """Where a scrolled container is, and which of its rows are in sight."""
    if rows is None:
        return f"Scrolled {element} {direction}."
    offset, size, total = rows["position"]
    said = f"Scrolled {element} {direction}: showing {offset}-{offset + size} of {total} px"
    if rows["indexes"]:
        low, high = rows["indexes"]
        of = f" of {rows['total']}" if rows["total"] else ""
        said += f"; rows {low}-{high}{of} in sight"
    if rows["count"]:
        said += f'; {rows["count"]} rows in sight, from "{rows["first"]}" to "{rows["last"]}"'
    return said + "."
