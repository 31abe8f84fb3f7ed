"""Waiting for a page to be ready after an action: loaded, its requests finished (network quiet), its DOM
still for a moment (scripts done rendering), and no busy indicator shown (aria-busy, a spinner or loader).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeout

if TYPE_CHECKING:  # tabs.py installs this module's mutation clock
    from sandbox.browser.tabs import Tab

# How long the DOM must go unchanged to count as rendered; frameworks render within a frame or two.
QUIET_MS = 100
POLL_MS = 25

# Installed in every document before its scripts run: when the DOM last changed.
MUTATION_CLOCK_JS = """(() => {
  window.__hybridLastMutation = performance.now();
  const watch = () => new MutationObserver(() => { window.__hybridLastMutation = performance.now(); })
    .observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  watch();
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
    if (el.getAttribute("role") === "progressbar" && el.hasAttribute("aria-valuenow")) continue;  // determinate
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
      return { quiet: 0, busy: `${el.tagName.toLowerCase()}${cls ? "." + cls : ""}${name ? ` "${name.slice(0, 40)}"` : ""}` };
    }
  }
  const last = window.__hybridLastMutation;
  return { quiet: last === undefined ? 1e9 : performance.now() - last, busy: null };
}"""


def settle(tab: Tab, limit: float, holding: Callable[[], bool]) -> str | None:
    """Wait up to `limit` seconds for the page to be ready; say what was still going on if not. While the
    guard is `holding` a write, its request never finishes: that is not waited for."""
    deadline = time.monotonic() + limit
    try:
        tab.page.wait_for_load_state("load", timeout=limit * 1000)
    except PlaywrightTimeout:
        return f"the page had not finished loading after {limit:g} s"
    busy = None
    while time.monotonic() < deadline:
        pending = tab.inflight and not holding()
        busy = None if pending else _busy(tab)
        if not pending and busy is None:
            return None
        tab.page.wait_for_timeout(POLL_MS)
    if tab.inflight and not holding():  # held writes are told of once the policy has decided
        pending = next(iter(tab.inflight))
        return f"{len(tab.inflight)} request(s) still pending after {limit:g} s, e.g. {pending.url}"
    if busy:
        return f"a busy indicator ({busy}) was still shown after {limit:g} s"
    return None


def _busy(tab: Tab) -> str | None:
    """What keeps the page from being ready now: a busy indicator, or a DOM that changed a moment ago."""
    try:
        state = tab.page.evaluate(_STATE_JS)
    except PlaywrightError:  # navigating: the next document decides
        return "the page is navigating"
    if state["busy"]:
        return state["busy"]
    return None if state["quiet"] >= QUIET_MS else "the page is still changing"
