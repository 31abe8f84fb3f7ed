"""Reporting what an action did: the page read afresh, then a diff against the last reading of the same
document, or the page in full when it is a new one (or a new tab)."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Error as PlaywrightError

from sandbox.browser.elements import ElementIds
from sandbox.browser.observe import Observation, Observer, diff
from sandbox.browser.tabs import Chromium, Tab

SMALL_PAGE = 1000  # characters; a diff this short is told as it is


class Reporter:
    def __init__(
        self, observer: Observer, ids: ElementIds, chromium: Chromium, settle: Callable[[Tab], str | None]
    ) -> None:
        self._observer = observer
        self._ids = ids
        self._chromium = chromium
        self._settle = settle

    def observe(self, tab: Tab) -> Observation:
        """Read the page, remember its ids, and make it the baseline of the next diff."""
        try:
            observation = self._observer.observe(tab.page)
        except PlaywrightError as exc:
            if "context was destroyed" not in (exc.message or "") and "navigat" not in (exc.message or ""):
                raise
            self._settle(tab)  # the page navigated while being read; read the new one
            observation = self._observer.observe(tab.page)
        self._ids.remember(tab, observation)
        tab.observation, tab.url = observation, observation.url
        return observation

    def report(self, tab: Tab, note: str | None, full: bool = False, further: bool = False) -> str:
        """What an action changed: a diff on the same document (or the page in full when that is shorter),
        else the new page in full. `note` says what was still loading when the wait gave up; `further` that
        this follows a report already given for the same action (after its held writes were sent)."""
        chromium = self._chromium
        head: list[str] = []
        if chromium.opened:
            previous = chromium.tabs.index(tab) if tab in chromium.tabs else 0
            tab = chromium.opened[-1]
            chromium.current = tab
            head.append(
                f"A new tab {chromium.tabs.index(tab)} opened and is now current; "
                f"browser.switch({previous}) goes back."
            )
            chromium.opened = []
            note = self._settle(tab)
        if note:
            head.append(
                f"Still loading: {note}; what follows may be incomplete "
                "(browser.wait_for(text) waits for content)."
            )
        before = tab.observation
        after = self.observe(tab)
        whole = "\n".join([*head, *self._header(tab, after), "", after.render()])
        if full or before is None or before.doc != after.doc or head:
            return whole
        changes = diff(before, after)
        lines = [f"URL changed to {after.url}"] if after.url != before.url else []
        if changes:
            lines += ["Changes on the page:", *changes]
        else:
            lines.append("No further change on the page." if further else "No visible change on the page.")
        changed = "\n".join(lines)
        if len(changed) <= SMALL_PAGE:  # on a small page, the diff says best what changed
            return changed
        # A page that draws itself again gives its elements new ids, so its diff lists each line twice: what
        # changed is told by the lines that differ other than by their ids, else the page is shown afresh.
        same = diff(before, after, ids=False)
        redrawn = [
            "The page drew itself again, so ids changed (find() or observe() gives the new ones)"
            + (f"; the URL is now {after.url}" if after.url != before.url else "")
            + ".",
            *(["What changed:", *same] if same else ["Nothing else changed."]),
        ]
        if len(same) == len(changes):  # no line differed by its ids alone
            return min(changed, whole, key=len)
        return min("\n".join(redrawn), changed, whole, key=len)

    @staticmethod
    def _header(tab: Tab, observation: Observation) -> list[str]:
        lines = [f"URL: {observation.url}", f"Title: {observation.title}"]
        if tab.status is not None and tab.status >= 400:
            lines.append(f"HTTP status: {tab.status}")
        messages = [
            line.strip() for line in observation.lines if line.lstrip().startswith(("alert:", "status:"))
        ]
        if messages:
            lines.append("Messages: " + " ".join(messages))
        return lines
