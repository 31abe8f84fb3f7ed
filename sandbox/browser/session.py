"""The Playwright side of the browser service: one call at a time, put to the policy when it writes.

Everything here runs on the service's owner thread (see `thread.py`); `BrowserService` is the
thread-safe front. The jobs are in their own modules: Chromium and its tabs (`tabs`), the request
guard (`guard`), waiting for pages (`readiness`), element ids (`elements`), reporting (`report`) and
the actions themselves (`actions`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

from playwright.sync_api import Error as PlaywrightError

from sandbox.browser.actions import Actions
from sandbox.browser.config import BrowserConfig, CredentialProvider
from sandbox.browser.elements import ElementIds
from sandbox.browser.errors import BrowserCrashed, BrowserError, playwright_reason
from sandbox.browser.guard import SAFE_METHODS, RequestGuard, host_of, without_fragment
from sandbox.browser.observe import Observer
from sandbox.browser.origins import Origins
from sandbox.browser.readiness import settle
from sandbox.browser.report import Reporter
from sandbox.browser.tabs import Chromium, Tab

SUBMIT_KEYS = frozenset({"Enter", "NumpadEnter"})  # submit the form of the field they are pressed in
ACTIVATE_KEYS = frozenset({"Space", " "})  # press the button they are pressed on, a submit button too

_FOCUSED_FORM_JS = """() => {
  const el = document.activeElement;
  if (!el || !el.form) return null;
  const form = el.form, submitter = ["submit", "image"].includes(el.type);
  return { tag: el.tagName.toLowerCase(), submits: submitter,
           method: ((submitter && el.getAttribute("formmethod")) || form.getAttribute("method") || "get").toUpperCase(),
           action: submitter && el.hasAttribute("formaction") ? el.formAction : form.action };
}"""


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


class BrowserSession:
    """Owns the browser; not thread-safe: only the owner thread calls it."""

    def __init__(self, config: BrowserConfig, credentials: CredentialProvider | None,
                 origins: Origins | None) -> None:
        self._config = config
        self._credentials = credentials
        self._events: list[str] = []  # told at the top of the next text result
        self._guard = RequestGuard(origins, config.check_writes, self._events)
        self._chromium = Chromium(config, self._guard, self._events, self._settle)
        observer = Observer(config.limits)
        self._ids = ElementIds(observer, self._chromium)
        self._reporter = Reporter(observer, self._ids, self._chromium, self._settle)
        actions = Actions(config, self._chromium, self._guard, self._ids, self._reporter, self._settle,
                          self._events, credentials)
        self._actions: dict[str, Callable[..., Any]] = {
            "observe": actions.observe, "text": actions.text, "screenshot": actions.screenshot,
            "goto": actions.goto, "click": actions.click, "fill": actions.fill, "select": actions.select,
            "check": actions.check, "press": actions.press, "scroll": actions.scroll, "back": actions.back,
            "forward": actions.forward, "wait_for": actions.wait_for, "tabs": actions.tabs,
            "switch": actions.switch, "find": actions.find, "login": actions.login,
            "answer_dialogs": actions.answer_dialogs, "cookies": actions.cookies,
            "process_id": actions.process_id,
        }

    def _settle(self, tab: Tab) -> str | None:
        return settle(tab, self._config.timeouts.settle, lambda: self._guard.holding)

    def run(self, method: str, args: tuple, approved: str | None = None) -> Step:
        """Do `method(*args)`, unless it writes and `approved` is not its description (then ask first)."""
        action = self._actions.get(method)
        if action is None:
            raise BrowserError(f"The browser has no action {method!r}; actions: {', '.join(self._actions)}.")
        self._chromium.ensure_running()
        classification, form = self._classify(method, args)
        if classification["writes"] and self._config.check_writes:
            if approved != classification["description"]:
                return Step(ask=classification)
            self._guard.approval = lambda request: (
                request.method == form["method"]
                and without_fragment(request.url) == without_fragment(form["action"]))
        try:
            result = action(*args)
        except PlaywrightError as exc:
            chromium = self._chromium
            if "Target crashed" in (exc.message or "") and chromium.current is not None:
                chromium.current.crashed = True
            notice = chromium.recover()
            if notice:
                raise BrowserCrashed(f"The browser crashed during {method}. {notice} Whether the {method} took "
                                     "effect is unknown: observe() and check before retrying.") from None
            raise BrowserError(f"{method} failed: {playwright_reason(exc)}.") from None
        finally:
            self._guard.approval = None
        return Step(result=self._with_events(result), held=self._guard.describe_held())

    def release(self, verdicts: list[bool], report: bool = True) -> Step:
        """Send or drop the held writes (`verdicts` in the order `Step.held` listed them), then (with
        `report`) tell what the page did next; else what happened is told with the next page text."""
        self._guard.release(verdicts)
        tab = self._chromium.tab()
        note = self._settle(tab)
        result = self._with_events(self._reporter.report(tab, note)) if report else None
        return Step(result=result, held=self._guard.describe_held())

    def _with_events(self, result: Any) -> Any:
        if isinstance(result, str):
            self._chromium.remember_cookies()
            result = "\n".join([*self._events, result]) if self._events else result
            self._events.clear()
        return result

    def classify(self, method: str, args: tuple | list) -> dict:
        """Whether an action would write (submit a non-GET form) and which domain it touches."""
        return self._classify(method, args)[0]

    def _classify(self, method: str, args: tuple | list) -> tuple[dict, dict | None]:
        """The classification, and the {"method", "action"} of the form a writing action submits."""
        current = self._chromium.current
        here = current.page.url if current else "about:blank"
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
            record = self._ids.record(args[0])
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

    def _form_submitted_by_key(self, key: str, element_id: Any) -> dict | None:
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
            return focused
        return None

    def restrict(self, origins: Origins) -> None:
        """From now on, reach only `origins`."""
        self._guard.restrict(origins, self._chromium.context)

    def close(self) -> None:
        self._chromium.close()
