"""Operating the widgets web apps are made of, beyond native form controls: reading the state a control
really has, picking an option from a custom drop-down (ARIA combobox/listbox, select2, react-select, MUI,
antd), giving files to a file field or a drop zone, and scrolling a container and saying what it shows."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Error as PlaywrightError, Locator, Page

from sandbox.browser.files import Upload
from sandbox.browser.observe import ID_ATTRIBUTE

OPTION_ATTRIBUTE = f"{ID_ATTRIBUTE}-option"
SHOWN_POPUP_ATTRIBUTE = f"{ID_ATTRIBUTE}-shown-popup"
LABEL_ATTRIBUTE = f"{ID_ATTRIBUTE}-label"
FILE_INPUT_ATTRIBUTE = f"{ID_ATTRIBUTE}-file-input"
SCROLLED_ATTRIBUTE = f"{ID_ATTRIBUTE}-scrolled"
SHOWN_OPTIONS = 15

# Checked, unchecked, "mixed", or null when the element has no checked state.
_CHECKED_JS = """(el) => {
  const input = ["checkbox", "radio"].includes(el.type) ? el
    : el.querySelector("input[type=checkbox], input[type=radio]") || (el.control || null);
  if (input && ["checkbox", "radio"].includes(input.type)) {
    return input.indeterminate ? "mixed" : input.checked;
  }
  const aria = el.getAttribute("aria-checked") ?? el.getAttribute("aria-pressed");
  if (aria === "mixed") return "mixed";
  return aria === null ? null : aria === "true";
}"""

# The value a field holds: a text field's value, else an editable element's text.
_VALUE_JS = (
    """(el) => ("value" in el && typeof el.value === "string") ? el.value : (el.innerText || "").trim()"""
)

# What a drop-down shows as chosen: a native select's chosen options, a field's own value, else the text of
# the control or of its nearest ancestor with text (react-select and antd show the value beside their input).
_SHOWN_JS = """(el) => {
  const text = (e) => (e.innerText || "").replace(/\\s+/g, " ").trim();
  if (el.tagName === "SELECT") return [...el.selectedOptions].map((o) => o.text.trim()).join(", ");
  if (el.tagName === "INPUT" && el.value.trim()) return el.value.trim();
  let at = el;
  for (let up = 0; at && up < 5; up++, at = at.parentElement) {
    if (text(at)) return text(at);
  }
  return "";
}"""

# Finds elements through open shadow roots and slots, as web components (Shoelace, Lit, Stencil) keep a
# combobox's listbox in their shadow DOM and slot their options in from the light DOM.
_DEEP_JS = """
  const within = (scope, selector) => {
    const found = [];
    const walk = (root) => {
      found.push(...root.querySelectorAll(selector));
      for (const e of root.querySelectorAll("*")) {
        if (e.shadowRoot) walk(e.shadowRoot);
        // Slotted elements are in the light DOM, which a search of the whole document walks anyway.
        if (e.tagName === "SLOT" && scope !== document) e.assignedElements({ flatten: true }).forEach((a) => {
          if (a.matches(selector)) found.push(a);
          walk(a);
        });
      }
    };
    if (scope.shadowRoot) walk(scope.shadowRoot);
    walk(scope);
    return [...new Set(found)];
  };
  const visible = (e) => e.checkVisibility({ visibilityProperty: true })
    && e.getBoundingClientRect().height > 0 && e.getBoundingClientRect().width > 0;
  const POPUPS = "[role=listbox], [role=menu], [role=tree]";
  const ITEMS = "[role=option], [role=menuitem], [role=menuitemcheckbox], [role=menuitemradio], "
    + "[role=treeitem]";
"""

# Marks the lists and items already in sight before a control is clicked, so that the ones its click opens
# are told from the page's own (a file tree beside a drop-down whose own listbox has no size, as antd's).
_MARK_SHOWN_POPUPS_JS = f"""(attr) => {{ {_DEEP_JS}
  within(document, `[${{attr}}]`).forEach((e) => e.removeAttribute(attr));
  within(document, `${{POPUPS}}, ${{ITEMS}}`).filter(visible).forEach((e) => e.setAttribute(attr, ""));
}}"""

# Marks the options of the popup a control opened (its aria-controls/aria-owns, else a visible listbox or
# menu that was not in sight before the click, else options named so by their classes, for libraries without
# roles) and returns their texts.
_OPTIONS_JS = f"""([control, attr, before]) => {{ {_DEEP_JS}
  const text = (e) => (e.innerText || e.textContent || "").replace(/\\s+/g, " ").trim();
  const byId = (id) => control.getRootNode().getElementById?.(id) || document.getElementById(id);
  const owners = [control, document.activeElement].filter(Boolean)
    .flatMap((e) => [e.getAttribute("aria-controls"), e.getAttribute("aria-owns")])
    .filter(Boolean).flatMap((ids) => ids.split(/\\s+/));
  let scopes = [...new Set(owners.map(byId))].filter((e) => e && visible(e));
  if (!scopes.length) scopes = within(document, POPUPS).filter((e) => visible(e) && !e.hasAttribute(before));
  const opened = !scopes.length;
  if (opened) scopes = [document];
  // Searching the whole page, only the options the click brought into sight are the popup's.
  let options = [...new Set(scopes.flatMap((s) => within(s, ITEMS)))]
    .filter((e) => visible(e) && !(opened && e.hasAttribute(before)));
  if (!options.length) {{
    options = within(document, "[class*=option i]").filter((e) => visible(e)
      && (e.getAttribute("class") || "").split(/\\s+/).some((c) => /(^|[-_])option$/i.test(c)));
  }}
  if (!options.length) {{  // a menu of divs a click opened: items named so, in a box named a drop-down's menu
    const menu = /(^|[-_])(dropdown|menu|popup|popover|select)([-_]|$)/i;
    options = within(document, "[class*=item i]").filter((e) => visible(e)
      && (e.getAttribute("class") || "").split(/\\s+/).some((c) => /(^|[-_])(item|option)$/i.test(c))
      && e.parentElement && menu.test(e.parentElement.getAttribute("class") || ""));
  }}
  options = options.filter((e) => e.getAttribute("aria-disabled") !== "true" && text(e));
  within(document, `[${{attr}}]`).forEach((e) => e.removeAttribute(attr));
  options.forEach((e, i) => e.setAttribute(attr, String(i)));
  return options.map(text);
}}"""

# Marks the label of a checkbox or radio button when an element of that label covers the control's centre.
_COVERING_LABEL_JS = """(el, [attr, mark]) => {
  if (el.tagName !== "INPUT" || !["checkbox", "radio"].includes(el.type) || !el.labels?.length) return false;
  el.scrollIntoView({ block: "center", inline: "center" });
  const box = el.getBoundingClientRect();
  const x = box.x + box.width / 2, y = box.y + box.height / 2;
  let hit = document.elementFromPoint(x, y);
  while (hit?.shadowRoot) {
    const inner = hit.shadowRoot.elementFromPoint(x, y);
    if (!inner || inner === hit) break;
    hit = inner;
  }
  if (!hit || hit === el || el.contains(hit)) return false;
  const label = [...el.labels].find((l) => l.contains(hit));
  if (!label) return false;
  label.setAttribute(attr, mark);
  return true;
}"""

_TYPING_JS = """() => {
  const el = document.activeElement;
  return !!el && (el.isContentEditable || el.tagName === "TEXTAREA"
    || (el.tagName === "INPUT" && ["", "text", "search", "email", "url", "tel"].includes(el.type)));
}"""

# Where files go: the element itself if it is a file field, a file field it labels or holds, else nothing.
_FILE_INPUT_JS = """([el, attr]) => {
  const isFile = (e) => e && e.tagName === "INPUT" && e.type === "file";
  const field = isFile(el) ? el : isFile(el.control) ? el.control : el.querySelector("input[type=file]");
  if (!field) return false;
  field.setAttribute(attr, "");
  return true;
}"""

_FILES_HELD_JS = """(el) => el.files ? [...el.files].map((f) => f.name) : null"""

# Drops a file on an element as a person dragging it there would; true when the element took it (a drop
# target cancels dragover or drop).
_DROP_JS = """(el, f) => {
  const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
  const data = new DataTransfer();
  data.items.add(new File([bytes], f.name, { type: f.type }));
  const box = el.getBoundingClientRect();
  const at = { bubbles: true, cancelable: true, composed: true, dataTransfer: data,
               clientX: box.x + box.width / 2, clientY: box.y + box.height / 2 };
  el.dispatchEvent(new DragEvent("dragenter", at));
  const over = new DragEvent("dragover", at);
  el.dispatchEvent(over);
  const drop = new DragEvent("drop", at);
  el.dispatchEvent(drop);
  return over.defaultPrevented || drop.defaultPrevented;
}"""

# Scrolls the element if it scrolls, else the first of its descendants that does (a grid's viewport), else
# its nearest ancestor that does; returns where it is now and which rows show in it.
_SCROLL_JS = """(el, [direction, attr]) => {
  const scrolls = (e) => {
    const style = getComputedStyle(e);
    const y = /(auto|scroll|overlay)/.test(style.overflowY) && e.scrollHeight > e.clientHeight + 1;
    const x = /(auto|scroll|overlay)/.test(style.overflowX) && e.scrollWidth > e.clientWidth + 1;
    return ["left", "right"].includes(direction) ? x : y;
  };
  let box = scrolls(el) ? el : [...el.querySelectorAll("*")].find(scrolls);
  for (let up = el.parentElement; !box && up; up = up.parentElement) if (scrolls(up)) box = up;
  if (!box) return null;
  const stepY = box.clientHeight * 0.8, stepX = box.clientWidth * 0.8;
  const moves = { down: () => box.scrollBy(0, stepY), up: () => box.scrollBy(0, -stepY),
                  top: () => box.scrollTo(box.scrollLeft, 0),
                  bottom: () => box.scrollTo(box.scrollLeft, box.scrollHeight),
                  left: () => box.scrollBy(-stepX, 0), right: () => box.scrollBy(stepX, 0) };
  moves[direction]();
  document.querySelectorAll(`[${attr}]`).forEach((e) => e.removeAttribute(attr));
  box.setAttribute(attr, "");
  return true;
}"""

_MAIN_SCROLLER_JS = """(attr) => {
  const root = document.scrollingElement || document.documentElement;
  if (root.scrollHeight > window.innerHeight + 1) return false;
  let best = null, area = 0;
  for (const e of document.querySelectorAll("*")) {
    const scrolls = /(auto|scroll|overlay)/.test(getComputedStyle(e).overflowY);
    if (!scrolls || e.scrollHeight <= e.clientHeight + 1) continue;
    const box = e.getBoundingClientRect();
    if (box.width * box.height > area && e.checkVisibility()) { best = e; area = box.width * box.height; }
  }
  if (!best) return false;
  document.querySelectorAll(`[${attr}]`).forEach((e) => e.removeAttribute(attr));
  best.setAttribute(attr, "");
  return true;
}"""

_ROWS_JS = """(box) => {
  const horizontal = box.scrollWidth > box.clientWidth + 1 && box.scrollHeight <= box.clientHeight + 1;
  const view = box.getBoundingClientRect();
  const inView = (e) => { const r = e.getBoundingClientRect();
    return r.height > 0 && r.bottom > view.top + 1 && r.top < view.bottom - 1; };
  const text = (e) => (e.innerText || "").replace(/\\s+/g, " ").trim();
  const ROWS = "[role=row], [role=option], [role=treeitem], [role=listitem], li, tr";
  const rows = [...box.querySelectorAll(ROWS)]
    .filter((r) => inView(r) && text(r) && !r.querySelector("[role=columnheader], th"));
  const indexes = rows.map((r) => Number(r.getAttribute("aria-rowindex") || r.getAttribute("aria-posinset")))
    .filter((n) => n > 0);
  const grid = box.closest("[aria-rowcount]") || box.querySelector("[aria-rowcount]");
  const total = grid ? Number(grid.getAttribute("aria-rowcount"))
    : rows.length ? Number(rows[0].getAttribute("aria-setsize")) || null : null;
  return {
    position: horizontal ? [Math.round(box.scrollLeft), Math.round(box.clientWidth), box.scrollWidth]
                         : [Math.round(box.scrollTop), Math.round(box.clientHeight), box.scrollHeight],
    count: rows.length,
    first: rows.length ? text(rows[0]).slice(0, 60) : null,
    last: rows.length ? text(rows[rows.length - 1]).slice(0, 60) : null,
    indexes: indexes.length ? [Math.min(...indexes), Math.max(...indexes)] : null,
    total,
  };
}"""


def checked_state(locator: Locator) -> bool | str | None:
    """True, False or "mixed"; None when the element is gone or has no checked state."""
    try:
        return locator.evaluate(_CHECKED_JS, timeout=1000) if locator.count() == 1 else None
    except PlaywrightError:
        return None


def field_value(locator: Locator) -> str | None:
    """The value a field holds now; None when it is gone."""
    try:
        return locator.evaluate(_VALUE_JS, timeout=1000) if locator.count() == 1 else None
    except PlaywrightError:
        return None


def shown_value(locator: Locator) -> str | None:
    """What a drop-down shows as chosen; None when it is gone."""
    try:
        return locator.evaluate(_SHOWN_JS, timeout=1000) if locator.count() == 1 else None
    except PlaywrightError:
        return None


def best_match(texts: list[str], wanted: str) -> int | None | list[int]:
    """The option whose text is `wanted` (exactly, then ignoring case), else the one that contains it;
    several that contain it come back as a list (ambiguous), none as None."""
    matchers: tuple[Callable[[str], bool], ...] = (
        lambda t: t == wanted,
        lambda t: t.casefold() == wanted.casefold(),
    )
    for same in matchers:
        hits = [i for i, text in enumerate(texts) if same(text)]
        if hits:
            return hits[0]
    hits = [i for i, text in enumerate(texts) if wanted.casefold() in text.casefold()]
    if len(hits) == 1:
        return hits[0]
    return hits or None


class OptionNotFound(Exception):
    """No option (or several) matched; `shown` are the options that were there."""

    def __init__(self, shown: list[str], ambiguous: list[str]) -> None:
        super().__init__("no option")
        self.shown, self.ambiguous = shown, ambiguous


# The separators of a path through cascading menus: "Europe / France / Paris", "Europe > France > Paris".
PATH_SEPARATOR = re.compile(r"\s+[/>›»]\s+")


# A drop-down drawn with divs: it shows a drop-down's arrow after its value ("Can edit ▾"), or it or the box
# around it is named a drop-down or select by its classes.
_DROP_DOWN_LOOK_JS = """(el) => /[▾▼⌄˅]\\s*$/.test((el.innerText || "").trim())
  || [el, el.parentElement].some((e) => e && /(^|[-_\\s])(dropdown|select)([-_\\s]|$)/i
    .test(e.getAttribute("class") || ""))"""


def looks_like_drop_down(control: Locator) -> bool:
    """Whether a clickable or button is a drop-down drawn with divs (see `_DROP_DOWN_LOOK_JS`)."""
    try:
        return bool(control.evaluate(_DROP_DOWN_LOOK_JS, timeout=1000))
    except PlaywrightError:
        return False


def choose_option(page: Page, control: Locator, wanted: str, limit: float) -> str:
    """Open the custom drop-down `control` (unless it is open), type `wanted` when it is a searchable one and
    the option is not in sight, and click the option; returns the option's text. In a cascading drop-down
    (antd's Cascader, nested menus) `wanted` may be a path, "Europe / France / Paris": each step's option is
    clicked in turn and the steps come back joined by " / ". Raises `OptionNotFound` (with the drop-down
    closed again), or LookupError when clicking the control opened no list."""
    # A multi-select stays open after a choice; clicking it again would close it.
    already_open = control.get_attribute("aria-expanded") == "true"
    texts = _options(page, control, wait=0) if already_open else []
    if not texts:
        page.evaluate(_MARK_SHOWN_POPUPS_JS, SHOWN_POPUP_ATTRIBUTE)
        control.click()
        texts = _options(page, control, wait=limit)
    seen = texts
    pick = best_match(texts, wanted)
    steps = PATH_SEPARATOR.split(wanted)
    if pick is None and len(steps) > 1 and isinstance(best_match(texts, steps[0]), int):
        return " / ".join(_follow_path(page, control, steps, limit))
    if not isinstance(pick, int) and page.evaluate(_TYPING_JS):
        page.keyboard.type(wanted)
        texts, pick = _wait_for_option(page, control, wanted, limit)
    if not isinstance(pick, int):
        page.keyboard.press("Escape")
        if not texts and not seen:
            raise LookupError("no list of options opened")
        # What it offered before the typing: once typed into, a search shows "No results found".
        raise OptionNotFound(seen or texts, [texts[i] for i in pick] if isinstance(pick, list) else [])
    return _click_option(page, texts, pick)


def _follow_path(page: Page, control: Locator, steps: list[str], limit: float) -> list[str]:
    """Click each step's option of an open cascading drop-down, waiting for the next menu to show it."""
    chosen = []
    for step in steps:
        texts, pick = _wait_for_option(page, control, step, limit)
        if not isinstance(pick, int):
            page.keyboard.press("Escape")
            raise OptionNotFound(texts, [texts[i] for i in pick] if isinstance(pick, list) else [])
        chosen.append(_click_option(page, texts, pick))
    return chosen


def _wait_for_option(
    page: Page, control: Locator, wanted: str, limit: float
) -> tuple[list[str], int | None | list[int]]:
    """The options shown and the one matching `wanted`, waiting up to `limit` seconds for it to appear."""
    deadline = time.monotonic() + limit
    while True:
        texts = _options(page, control, wait=0)
        pick = best_match(texts, wanted)
        if isinstance(pick, int) or time.monotonic() >= deadline:
            return texts, pick
        page.wait_for_timeout(50)


def _click_option(page: Page, texts: list[str], pick: int) -> str:
    page.locator(f'[{OPTION_ATTRIBUTE}="{pick}"]').click()
    return texts[pick]


def _options(page: Page, control: Locator, wait: float) -> list[str]:
    """The open popup's option texts, waiting up to `wait` seconds for some to appear."""
    deadline = time.monotonic() + wait
    handle = control.element_handle(timeout=1000)
    try:
        while True:
            texts: list[str] = page.evaluate(_OPTIONS_JS, [handle, OPTION_ATTRIBUTE, SHOWN_POPUP_ATTRIBUTE])
            if texts or time.monotonic() >= deadline:
                return texts
            page.wait_for_timeout(50)
    finally:
        handle.dispose()


def click_target(locator: Locator) -> Locator:
    """Where a click on `locator` should land: the element itself, or, for a checkbox or radio button that a
    styled box of its own label covers (Shoelace's sl-checkbox, Bootstrap's custom controls), that label, as a
    person clicks the box they see."""
    # A mark of its own, as labels marked before may sit in other shadow roots, out of a cleaner's reach.
    mark = uuid.uuid4().hex
    try:
        covered = locator.evaluate(_COVERING_LABEL_JS, [LABEL_ATTRIBUTE, mark], timeout=1000)
    except PlaywrightError:
        return locator
    return locator.page.locator(f'[{LABEL_ATTRIBUTE}="{mark}"]') if covered else locator


def give_files(page: Page, target: Locator, upload: Upload, limit: float) -> str:
    """Put the file into a file field (the target, one it labels or holds, or the one its click opens),
    or drop it on the target when that is a drop zone. Returns how: "attached" or "dropped"."""
    handle = target.element_handle(timeout=1000)
    try:
        has_field = page.evaluate(_FILE_INPUT_JS, [handle, FILE_INPUT_ATTRIBUTE])
    finally:
        handle.dispose()
    if has_field:
        field = page.locator(f"[{FILE_INPUT_ATTRIBUTE}]").first
        try:
            field.set_input_files(upload.payload())
        finally:
            page.evaluate(
                f"() => document.querySelectorAll('[{FILE_INPUT_ATTRIBUTE}]')"
                f".forEach((e) => e.removeAttribute('{FILE_INPUT_ATTRIBUTE}'))"
            )
        return "attached"
    if target.evaluate(_DROP_JS, upload.for_page()):
        return "dropped"
    with page.expect_file_chooser(timeout=limit * 1000) as chooser:
        target.click()
    chooser.value.set_files(upload.payload())
    return "attached"


def files_held(target: Locator) -> list[str] | None:
    """The names of the files a file field holds (None for other elements)."""
    try:
        names: list[str] | None = target.evaluate(_FILES_HELD_JS, timeout=1000)
        return names
    except PlaywrightError:
        return None


def scroll_container(target: Locator, direction: str) -> bool:
    """Scroll the container `target` is (or holds, or is in); False when nothing there scrolls that way."""
    return bool(target.evaluate(_SCROLL_JS, [direction, SCROLLED_ATTRIBUTE]))


def main_scroller(page: Page) -> bool:
    """When the window itself does not scroll, mark the largest scrolling area in sight (an app's list or
    grid pane) as the one `scroll()` moves; False when there is none either."""
    return bool(page.evaluate(_MAIN_SCROLLER_JS, SCROLLED_ATTRIBUTE))


def rows_shown(page: Page) -> dict[str, Any] | None:
    """Where the container scrolled last is now ({"position": [offset, size, total] px}), and the rows in
    sight: their count, first and last texts, index range (aria-rowindex or aria-posinset) and total."""
    box = page.locator(f"[{SCROLLED_ATTRIBUTE}]")
    try:
        return box.first.evaluate(_ROWS_JS, timeout=1000) if box.count() else None
    except PlaywrightError:
        return None
