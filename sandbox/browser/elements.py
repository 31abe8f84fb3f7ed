"""Element ids: what each issued id points at, and turning an id back into an element to act on."""

from __future__ import annotations

from typing import Any, NamedTuple

from playwright.sync_api import Error as PlaywrightError, Locator

from sandbox.browser.errors import ElementNotInteractable, StaleElement, UnknownElement
from sandbox.browser.observe import ID_ATTRIBUTE, ElementRecord, Observation, Observer
from sandbox.browser.tabs import Chromium, Tab

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


class Target(NamedTuple):
    """An element ready to act on: what was issued, how to reach it, and a drop-down's options."""

    record: ElementRecord
    locator: Locator
    options: list[list[str]] | None  # [value, label] pairs


class ElementIds:
    """The records of the ids issued so far (the latest `MAX_RECORDS`), by id."""

    def __init__(self, observer: Observer, chromium: Chromium) -> None:
        self._observer = observer
        self._chromium = chromium
        self._records: dict[int, tuple[Tab, ElementRecord]] = {}

    def remember(self, tab: Tab, observation: Observation) -> None:
        for element_id, record in observation.elements.items():
            self._records.pop(element_id, None)
            self._records[element_id] = (tab, record)
        while len(self._records) > MAX_RECORDS:
            del self._records[next(iter(self._records))]

    def record(self, element_id: Any) -> ElementRecord | None:
        found = self._records.get(element_id) if isinstance(element_id, int) else None
        return found[1] if found else None

    def resolve(self, element_id: Any, doing: str, must_be_usable: bool = True) -> Target:
        """The element `element_id` on the current tab; raises what makes it unusable for `doing`."""
        if isinstance(element_id, bool) or not isinstance(element_id, int):
            raise UnknownElement(
                f"Element ids are integers such as 12 (from browser.observe() or find()); got {element_id!r}."
            )
        if element_id not in self._records:
            latest = self._observer.next_id - 1
            raise UnknownElement(
                f"There is no element [{element_id}]: ids come from browser.observe() or "
                f"find(), and the latest issued is [{latest}]."
            )
        tab, record = self._records[element_id]
        tabs = self._chromium.tabs
        if tab not in tabs or tab.closed:
            raise StaleElement(
                f"Element {record.describe()} belonged to a tab that is gone (closed, or the "
                "browser was restarted); call browser.observe() for fresh ids."
            )
        if tab is not self._chromium.current:
            index = tabs.index(tab)
            raise StaleElement(
                f"Element {record.describe()} is in tab {index}, not the current tab "
                f"{tabs.index(self._chromium.tab())}; call browser.switch({index}) first."
            )
        if record.frame.is_detached():
            raise StaleElement(
                f"Element {record.describe()} was in a frame that has since been removed or "
                "replaced; call browser.observe() for fresh ids."
            )
        try:
            state = record.frame.evaluate(_CHECK_JS, [ID_ATTRIBUTE, element_id])
        except PlaywrightError:
            state = {"doc": None, "found": False}
        if state["doc"] != record.doc:
            raise StaleElement(
                f"Element {record.describe()} was issued for {record.url}, but the page has since "
                f"navigated to {record.frame.url}; call browser.observe() (or find()) for fresh ids."
            )
        if not state["found"]:
            raise StaleElement(
                f"Element {record.describe()} is no longer on the page ({record.frame.url}): the "
                "page's scripts removed it. Call browser.observe() for fresh ids."
            )
        if must_be_usable and not state["visible"]:
            raise ElementNotInteractable(
                f"Element {record.describe()} is not visible (hidden or collapsed), so "
                f"it cannot {doing}; it may appear after another action such as "
                "opening a menu. browser.observe() shows what is visible."
            )
        if must_be_usable and state["disabled"]:
            raise ElementNotInteractable(
                f"Element {record.describe()} is disabled, so it cannot {doing}; "
                "something else must happen first (e.g. filling required fields)."
            )
        return Target(record, record.frame.locator(f'[{ID_ATTRIBUTE}="{element_id}"]'), state.get("options"))
