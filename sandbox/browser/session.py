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
from typing import Any, TypeVar

from playwright.sync_api import Error as PlaywrightError, Page

from sandbox.browser.actions import Actions
from sandbox.browser.config import BrowserConfig, CredentialProvider
from sandbox.browser.elements import ElementIds
from sandbox.browser.errors import BrowserCrashed, BrowserError, playwright_reason
from sandbox.browser.guard import RequestGuard, host_of, without_fragment
from sandbox.browser.observe import Observer
from sandbox.browser.origins import Origins
from sandbox.browser.readiness import settle
from sandbox.browser.registry import ACTIONS, BrowserCall, BrowserEffect
from sandbox.browser.report import Reporter
from sandbox.browser.tabs import Chromium, Tab
from sandbox.reads import ReadRules

T = TypeVar("T")


@dataclass
class Step:
    """How far a call got on the owner thread. The policy is never asked there (a person may take minutes
    to answer, and the browser must not stall meanwhile): the caller asks, then calls again.

    - `ask`: the action would write (it submits a form); once the policy allows it, run it again with
      `approved=ask`. Only the submission it announced is let through; anything else the page sends is held.
    - `held`: writes the page sent on its own, held until `BrowserSession.release(verdicts)`.
    """

    result: Any = None
    ask: BrowserCall | None = None
    held: list[BrowserCall] = field(default_factory=list)


class BrowserSession:
    """Owns the browser; not thread-safe: only the owner thread calls it."""

    def __init__(
        self, config: BrowserConfig, credentials: CredentialProvider | None, origins: Origins | None
    ) -> None:
        self._config = config
        self._credentials = credentials
        self._events: list[str] = []  # told at the top of the next text result
        self._told: set[str] = set()
        self._guard = RequestGuard(origins, config.check_writes, self._events)
        self._chromium = Chromium(config, self._guard, self._events, self._settle)
        observer = Observer(config.limits)
        self._ids = ElementIds(observer, self._chromium)
        self._reporter = Reporter(observer, self._ids, self._chromium, self._settle)
        self._actions = Actions(
            config,
            self._chromium,
            self._guard,
            self._ids,
            self._reporter,
            self._settle,
            self._events,
            credentials,
        )

    def _settle(self, tab: Tab) -> str | None:
        return settle(tab, self._config.timeouts.settle, lambda: self._guard.holding, self._events.append)

    def run(self, method: str, args: tuple[Any, ...], approved: BrowserCall | None = None) -> Step:
        """Do `method(*args)` (arguments in order, see `Action.arguments`). A call that writes is first
        returned as `Step.ask` unless `approved` is the classification the caller's policy allowed (which is
        then not made again: one classification per call)."""
        entry = ACTIONS.get(method)
        if entry is None:
            raise BrowserError(f"The browser has no action {method!r}; actions: {', '.join(ACTIONS)}.")
        self._chromium.ensure_running()
        call = approved if approved is not None else self.classify(method, args)
        form = call.effect.submits
        if call.effect.writes and self._config.check_writes:
            if approved is None:
                return Step(ask=call)
            assert form is not None  # a write is a form's submission
            self._guard.approval = lambda request: (
                request.method == form["method"]
                and without_fragment(request.url) == without_fragment(form["action"])
            )
        try:
            result = entry.implementation(self._actions, *args)
        except PlaywrightError as exc:
            chromium = self._chromium
            if "Target crashed" in (exc.message or "") and chromium.current is not None:
                chromium.current.crashed = True
            notice = chromium.recover()
            if notice:
                raise BrowserCrashed(
                    f"The browser crashed during {method}. {notice} Whether the {method} took "
                    "effect is unknown: observe() and check before retrying."
                ) from None
            raise BrowserError(f"{method} failed: {playwright_reason(exc)}.") from None
        finally:
            self._guard.approval = None
        return Step(result=self._with_events(result), held=self._guard.describe_held())

    def release(self, verdicts: list[bool], report: bool = True) -> Step:
        """Send or drop the held writes (`verdicts` in the order `Step.held` listed them), then (with
        `report`) tell what the page did next; else what happened is told with the next page text."""
        windows = self._guard.opens_windows(verdicts)
        known = len(self._chromium.tabs)
        self._guard.release(verdicts)
        if windows and len(self._chromium.tabs) == known:
            # The window the submission opens comes up after it is sent: wait for it, so that it is told
            # here (and is there for the next action), not found later.
            with suppress(PlaywrightError):  # it never came: what happened is told all the same
                timeout = self._config.timeouts.settle * 1000
                self._chromium.live_context().wait_for_event("page", timeout=timeout)
        tab = self._chromium.tab()
        note = self._settle(tab)
        result = self._with_events(self._reporter.report(tab, note, further=True)) if report else None
        return Step(result=result, held=self._guard.describe_held())

    def _with_events(self, result: Any) -> Any:
        """`result` after what happened on its own since the last result; a notice told already (a blocked
        request each page of a site makes) is not told again."""
        if isinstance(result, str):
            self._chromium.remember_cookies()
            fresh = [event for event in dict.fromkeys(self._events) if event not in self._told]
            self._told.update(fresh)
            result = "\n".join([*fresh, result])
            self._events.clear()
        return result

    def classify(self, method: str, args: tuple[Any, ...] | list[Any]) -> BrowserCall:
        """The call with its effect: whether the action would write (submit a non-GET form), which domain it
        touches, and the form it submits."""
        entry = ACTIONS[method]
        effect = (
            entry.effect(self._actions, *args)
            if entry.effect
            else BrowserEffect(domain=host_of(self._actions.here()))
        )
        return BrowserCall(method, tuple(args), effect)

    def with_page(self, fn: Callable[[Page], T]) -> T:
        """`fn(page)` on the current tab's page (the browser started if need be)."""
        self._chromium.ensure_running()
        return fn(self._chromium.tab().page)

    def restrict(self, origins: Origins) -> None:
        """From now on, reach only `origins`."""
        self._guard.restrict(origins)

    def mark_reads(self, rules: ReadRules) -> None:
        """From now on, judge what writes by `rules` (a run's sites' operations marked read among them)."""
        self._guard.reads = rules

    def take_sent(self) -> list[tuple[str, str]]:
        """The (method, URL) of the pages' requests answered with success since the last take, oldest
        first."""
        sent = list(self._guard.sent)
        self._guard.sent.clear()
        return sent

    def close(self) -> None:
        self._chromium.close()
