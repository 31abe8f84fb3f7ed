"""One choke point for the browser's writes: whatever makes a page send a write (any key with any modifier,
a script, a form's own submission into a new window), it is put to the policy before it leaves."""

from __future__ import annotations

from itertools import combinations

import pytest

from sandbox.browser import WriteRefused
from sandbox.browser.registry import BrowserCall

MODIFIERS = [
    "+".join(chosen) for n in range(5) for chosen in combinations(("Shift", "Control", "Alt", "Meta"), n)
]
KEYS = [
    f"{modifiers}+{key}" if modifiers else key
    for modifiers in MODIFIERS
    for key in ("Enter", "NumpadEnter", "Space")
]
ENTERS = [f"{modifiers}+Enter" if modifiers else "Enter" for modifiers in MODIFIERS]


def _press_everything(browser, base_url: str) -> None:
    """Every key and modifier on the form's submit button and field, and in a field that writes on any key;
    then a form submitted by a script into a new window, and an event a script made up."""

    def at(path: str) -> None:
        """On the first tab, at `path` (a key may have opened a window, or a submission left the page)."""
        tabs = browser.tabs()
        if not tabs[0]["current"]:
            browser.switch(0)
        if tabs[0]["url"] != base_url + path:
            browser.goto(base_url + path)

    # Each key on the button; the field submits by Enter alone.
    presses = [*(("button", "Send", key) for key in KEYS), *(("textbox", "Query", key) for key in ENTERS)]
    for role, name, key in presses:
        at("/writes")
        target = browser.find(role, name)
        try:
            browser.press(key, target)
        except WriteRefused:
            pass  # a submission the action announced, refused before it ran
    at("/keydown-writes")
    for key in ENTERS:
        browser.press(key, browser.find("textbox", "Keys"))
    browser.click(browser.find("button", "Synthetic"))
    browser.click(browser.find("button", "New window"))
    browser.observe()


@pytest.mark.parametrize("mode", ["read-only", "confirm"])
def test_no_write_leaves_the_browser_without_the_policy(make_service, pages, mode: str) -> None:
    asked: list[dict] = []

    def before_write(write: BrowserCall) -> bool:
        asked.append(write)
        return mode == "confirm"

    browser = make_service(origins=[pages.base_url], before_write=before_write)
    sent = len(pages.posts)
    _press_everything(browser, pages.base_url)
    posts = pages.posts[sent:]
    if mode == "read-only":
        assert posts == []
    else:
        assert len(posts) <= len(asked)  # every write that left was asked about and allowed
        assert "popup" in [post.split("=")[-1] for post in posts]  # the script's new-window submission
    asked_about = {write.description for write in asked}
    assert any("Shift+Enter" in described or "on its own" in described for described in asked_about)
    # Each key in the field that writes on any key, the made-up event and the new window's submission.
    assert len([write for write in asked if "on its own" in write.description]) >= len(ENTERS) + 2
