"""Waiting for a page to be ready after an action: loaded, its requests finished (network quiet), its DOM
still for a moment (scripts done rendering), no animation under way, and no busy indicator shown
(aria-busy, a spinner or loader).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from playwright.sync_api import Error as PlaywrightError, TimeoutError as PlaywrightTimeout

if TYPE_CHECKING:  # tabs.py installs this module's mutation clock
    from sandbox.browser.tabs import Tab

# How long the DOM must go unchanged to count as rendered; frameworks render within a frame or two.
QUIET_MS = 100
POLL_MS = 25

# Installed in every document before its scripts run: when the DOM last changed, and how many of the
# page's own requests (fetch, XHR) are under way. The host hears of a request a moment after the page
# sends it; counting here closes that gap (a click whose fetch the host has not seen yet is not "done").
MUTATION_CLOCK_JS = """(() => {
  window.__hybridLastMutation = performance.now();
  window.__hybridPending = 0;
  new MutationObserver(() => { window.__hybridLastMutation = performance.now(); })
    .observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  const started = () => { window.__hybridPending += 1; };
  const ended = () => { window.__hybridPending = Math.max(0, window.__hybridPending - 1); };
  const fetch = window.fetch;
  window.fetch = function (...args) {
    started();
    return fetch.apply(this, args).finally(ended);
  };
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    started();
    this.addEventListener("loadend", ended, { once: true });
    return send.apply(this, args);
  };
})();"""

# How long the DOM has been still, and the first busy indicator shown, described. An indicator is visible
# and has a size: a busy region, an indeterminate progress bar, or a small element or image named a
# spinner, loader or "loading" by its classes, alt text or file name.
_STATE_JS = """() => {
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
  return { quiet: last === undefined ? 1e9 : performance.now() - last, busy: null,
           pending: window.__hybridPending || 0, moving };
}"""


def settle(tab: Tab, limit: float, holding: Callable[[], bool]) -> str | None:
    """Wait up to `limit` seconds for the page to be ready; say what was still going on if not. While the
    guard is `holding` a write, its request never finishes: that is not waited for."""
    deadline = time.monotonic() + limit
    try:
        tab.page.wait_for_load_state("load", timeout=limit * 1000)
    except PlaywrightTimeout:
        return f"the page had not finished loading after {limit:g} s"
    waiting_for = None
    while time.monotonic() < deadline:
        if holding():  # a held write never finishes until the policy decides; it is told of then
            return None
        waiting_for, wait_ms = ("requests", POLL_MS) if tab.inflight else _unready(tab)
        if waiting_for is None:
            return None
        tab.page.wait_for_timeout(wait_ms)
    if tab.inflight and not holding():
        pending = next(iter(tab.inflight))
        return f"{len(tab.inflight)} request(s) still pending after {limit:g} s, e.g. {pending.url}"
    return f"{waiting_for} after {limit:g} s" if waiting_for and waiting_for != "requests" else None


def _unready(tab: Tab) -> tuple[str | None, float]:
    """What keeps the page from being ready now, as the end of "Still loading: ... after N s" (None if it
    is ready), and how many ms to wait before looking again."""
    try:
        state = tab.page.evaluate(_STATE_JS)
    except PlaywrightError:  # navigating: the next document decides
        return "the page was still navigating", POLL_MS
    if state["busy"]:
        return f"a busy indicator ({state['busy']}) was still shown", POLL_MS
    if state["pending"]:
        return f"{state['pending']} of the page's own requests were still under way", POLL_MS
    if state["moving"]:
        return f"{state['moving']} animation(s) were still running", POLL_MS
    if state["quiet"] >= QUIET_MS:
        return None, 0.0
    # A DOM that changed `quiet` ms ago cannot have been still for QUIET_MS before the rest of the window
    # has passed: that long, not a poll at a time (each poll is a round trip to the page).
    return "the page was still changing", max(POLL_MS, QUIET_MS - state["quiet"])
