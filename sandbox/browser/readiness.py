"""Waiting for a page to be ready after an action: loaded, its requests finished (network quiet), its DOM
still for a moment (scripts done rendering), no animation under way, and no busy indicator shown
(aria-busy, a spinner or loader).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError, Request, TimeoutError as PlaywrightTimeout

if TYPE_CHECKING:  # tabs.py installs this module's mutation clock
    from sandbox.browser.tabs import Tab

# How long the DOM must go unchanged to count as rendered; frameworks render within a frame or two.
QUIET_MS = 100
POLL_MS = 25

# A GET by fetch or XHR open this long while the page is otherwise ready (loaded, still, nothing else under
# way) is one the page holds open by design, a long poll waiting for news: it is not waited for, and neither
# are later requests to the same address, until one of them answers sooner (it was a slow request, then).
# Writes are never taken for long polls.
LONG_POLL_SECONDS = 3.0
HELD_OPEN = frozenset({"fetch", "xhr"})

# Installed in every document before its scripts run: when the DOM last changed, and which of the page's
# own requests (fetch, XHR) are under way, by method and address, since when. The host hears of a request a
# moment after the page sends it; keeping them here closes that gap (a click whose fetch the host has not
# seen yet is not "done").
MUTATION_CLOCK_JS = """(() => {
  window.__hybridLastMutation = performance.now();
  const pending = window.__hybridRequests = new Map();
  let count = 0;
  new MutationObserver(() => { window.__hybridLastMutation = performance.now(); })
    .observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  const keyOf = (method, url) => {
    try {
      const at = new URL(url, location.href);
      return `${String(method || "GET").toUpperCase()} ${at.origin}${at.pathname}`;
    } catch (error) {
      return `${method} ${url}`;
    }
  };
  const started = (key) => { count += 1; pending.set(count, [key, performance.now()]); return count; };
  const fetch = window.fetch;
  window.fetch = function (...args) {
    const [input, init] = args;
    const request = input instanceof Request ? input : null;
    const id = started(keyOf((init && init.method) || (request ? request.method : "GET"),
                             request ? request.url : String(input)));
    return fetch.apply(this, args).finally(() => pending.delete(id));
  };
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {
    this.__hybridKey = keyOf(method, url);
    return open.call(this, method, url, ...rest);
  };
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    const id = started(this.__hybridKey || "GET ?");
    this.addEventListener("loadend", () => pending.delete(id), { once: true });
    return send.apply(this, args);
  };
})();"""


def request_key(method: str, url: str) -> str:
    """A request's method and address without its query (a long poll asks again with a new cursor), as
    MUTATION_CLOCK_JS writes it."""
    parts = urlsplit(url)
    return f"{method.upper()} {parts.scheme}://{parts.netloc}{parts.path or '/'}"


# How long the DOM has been still, and the first busy indicator shown, described. An indicator is visible
# and has a size: a busy region, an indeterminate progress bar, or a small element or image named a
# spinner, loader or "loading" by its classes, alt text or file name.
_STATE_JS = """(skip) => {
  const BUSY_WORDS = /(^|[-_\\s])(spinner|spinning|loader|loading|spin)([-_\\s.]|$)/i;
  const shown = (el) => {
    if (!el.checkVisibility({ visibilityProperty: true, opacityProperty: true })) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0;
  };
  const candidates = document.querySelectorAll(
    '[aria-busy="true"], [role="progressbar"], [class*="spin" i], [class*="load" i], img[src*="load" i], '
    + 'img[src*="spin" i], img[alt*="load" i]');
  for (const el of candidates) {
    // a determinate progress bar shows progress, not a wait
    if (el.getAttribute("role") === "progressbar" && el.hasAttribute("aria-valuenow")) continue;
    // Named a loader by its classes: only an indicator itself, not a wrapper named after its state that
    // holds the content (antd's "ant-spin-nested-loading" is always there).
    const small = (el.innerText || "").trim().length <= 40 && el.getElementsByTagName("*").length <= 20;
    const busy = el.getAttribute("aria-busy") === "true" || el.getAttribute("role") === "progressbar"
      || (small && BUSY_WORDS.test(el.getAttribute("class") || ""))
      || (el.tagName === "IMG" && BUSY_WORDS.test((el.getAttribute("src") || "").split("/").pop()
                                                  + " " + (el.getAttribute("alt") || "")));
    if (busy && shown(el)) {
      const name = el.getAttribute("aria-label") || el.getAttribute("alt") || (el.innerText || "").trim();
      const cls = (el.getAttribute("class") || "").trim().split(/\\s+/)[0];
      const label = name ? ` "${name.slice(0, 40)}"` : "";
      return { quiet: 0, busy: `${el.tagName.toLowerCase()}${cls ? "." + cls : ""}${label}` };
    }
  }
  const last = window.__hybridLastMutation;
  // A finite CSS animation or transition under way (a tree folder opening, a menu sliding in) replaces or
  // moves elements when it ends; an endless one is decoration (a spinner is caught above).
  const moving = document.getAnimations().filter((a) => a.playState === "running"
    && a.effect && a.effect.getComputedTiming().iterations !== Infinity).length;
  const now = performance.now();
  const pending = [...(window.__hybridRequests || new Map()).values()]
    .filter(([key]) => !skip.includes(key)).map(([key, since]) => [key, (now - since) / 1000]);
  return { quiet: last === undefined ? 1e9 : now - last, busy: null, pending, moving };
}"""


def settle(
    tab: Tab, limit: float, holding: Callable[[], bool], tell: Callable[[str], None] | None = None
) -> str | None:
    """Wait up to `limit` seconds for the page to be ready; say what was still going on if not. While the
    guard is `holding` a write, its request never finishes: that is not waited for. Nor is a long poll
    (see LONG_POLL_SECONDS): `tell` is told of each address found to be one."""
    deadline = time.monotonic() + limit
    try:
        tab.page.wait_for_load_state("load", timeout=limit * 1000)
    except PlaywrightTimeout:
        return f"the page had not finished loading after {limit:g} s"
    waiting_for: str | None = None
    wait_ms: float
    while time.monotonic() < deadline:
        if holding():  # a held write never finishes until the policy decides; it is told of then
            return None
        now = time.monotonic()
        waited = _waited(tab)
        if any(not _held_open(request, now - sent) for request, sent in waited):
            waiting_for, wait_ms = "requests", POLL_MS
        else:
            waiting_for, wait_ms, held = _unready(tab)
            if waiting_for is None:
                # Ready but for requests held open this long: long polls.
                for key in sorted(held | {request_key(r.method, r.url) for r, _ in waited}):
                    tab.long_polls.add(key)
                    if tell is not None:
                        tell(
                            f"Not waited for: {key}, which the page holds open with nothing else going on "
                            "(a long poll for updates); nor are later requests to it."
                        )
                return None
        tab.page.wait_for_timeout(wait_ms)
    waited = _waited(tab)
    if waited and not holding():
        return f"{len(waited)} request(s) still pending after {limit:g} s, e.g. {waited[0][0].url}"
    return f"{waiting_for} after {limit:g} s" if waiting_for and waiting_for != "requests" else None


def _held_open(request: Request, seconds: float) -> bool:
    """Whether `request`, open `seconds` so far, may be a long poll."""
    return request.resource_type in HELD_OPEN and request.method == "GET" and seconds >= LONG_POLL_SECONDS


def answered(tab: Tab, request: Request, sent: float) -> None:
    """`request`, sent at `sent` (monotonic), has ended: an address taken for a long poll that answers
    sooner was a slow one, waited for again from now on."""
    if time.monotonic() - sent < LONG_POLL_SECONDS:
        tab.long_polls.discard(request_key(request.method, request.url))


def _waited(tab: Tab) -> list[tuple[Request, float]]:
    """The tab's requests under way that are waited for (not long polls), with when each was sent."""
    return [
        (request, sent)
        for request, sent in list(tab.inflight.items())
        if request_key(request.method, request.url) not in tab.long_polls
    ]


def _unready(tab: Tab) -> tuple[str | None, float, set[str]]:
    """What keeps the page from being ready now, as the end of "Still loading: ... after N s" (None if it
    is ready), how many ms to wait before looking again, and the page's requests (by `request_key`) that are
    held open: were it ready, they would be its long polls."""
    try:
        state = tab.page.evaluate(_STATE_JS, sorted(tab.long_polls))
    except PlaywrightError:  # navigating: the next document decides
        return "the page was still navigating", POLL_MS, set()
    if state["busy"]:
        return f"a busy indicator ({state['busy']}) was still shown", POLL_MS, set()
    young = [key for key, age in state["pending"] if age < LONG_POLL_SECONDS or not key.startswith("GET ")]
    if young:
        return f"{len(young)} of the page's own requests were still under way", POLL_MS, set()
    if state["moving"]:
        return f"{state['moving']} animation(s) were still running", POLL_MS, set()
    if state["quiet"] >= QUIET_MS:
        return None, 0.0, {key for key, _ in state["pending"]}
    # A DOM that changed `quiet` ms ago cannot have been still for QUIET_MS before the rest of the window
    # has passed: that long, not a poll at a time (each poll is a round trip to the page).
    return "the page was still changing", max(POLL_MS, QUIET_MS - state["quiet"]), set()
