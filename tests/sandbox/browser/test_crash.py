"""A browser process that dies is restarted, with a clear notice, and the session carries on."""

from __future__ import annotations

import os
import signal
import threading

import psutil
import pytest

from hybrid.demo import DemoSite
from sandbox.browser import BrowserCrashed, StaleElement

pytestmark = pytest.mark.browser


def test_a_killed_browser_is_restarted_on_the_next_call(alice, demo: DemoSite) -> None:
    alice.goto("/alice/tracker-core/issues?page=2")
    old_link = alice.find("link", "Next page")
    os.kill(alice.process_id(), signal.SIGKILL)
    seen = alice.observe()
    assert seen.startswith(
        "Notice: the browser process had died (crashed or was killed) and was restarted; "
        "1 tab(s) were reopened at their last URLs and the session's cookies restored."
    )
    assert f"URL: {demo.base_url}/alice/tracker-core/issues?page=2" in seen
    assert "Signed in as alice" in seen  # the session cookie survived
    with pytest.raises(StaleElement, match="belonged to a tab that is gone"):
        alice.click(old_link)
    assert "Page 3 of 8" in alice.click(alice.find("link", "Next page"))


def test_a_browser_that_dies_during_an_action_says_so(browser, pages) -> None:
    browser.goto(f"{pages.base_url}/first")
    pid = browser.process_id()
    killer = threading.Timer(0.5, os.kill, (pid, signal.SIGKILL))
    killer.start()
    with pytest.raises(
        BrowserCrashed,
        match=r"The browser crashed during wait_for. Notice: the browser process "
        r"had died \(crashed or was killed\) and was restarted.*Whether the wait_for took effect is unknown",
    ):
        browser.wait_for("text that never comes", timeout=20)
    killer.join()
    assert "Title: First" in browser.observe()
    assert browser.process_id() != pid


def test_a_crashed_page_is_reloaded(browser, pages) -> None:
    browser.goto(f"{pages.base_url}/first")
    renderers = [
        child
        for child in psutil.Process(browser.process_id()).children(recursive=True)
        if "--type=renderer" in child.cmdline()
    ]
    for renderer in renderers:  # the tab's page dies; the browser process lives on
        renderer.kill()
    psutil.wait_procs(renderers, timeout=10)
    try:  # the crash is noticed when the next call reads the page, or by Playwright's event just before
        told = [browser.observe()]
    except BrowserCrashed as exc:
        told = [str(exc)]
    notice = f"Notice: the page in tab 0 crashed and was reloaded from {pages.base_url}/first"
    assert [notice in message for message in told].count(True) == 1, told
    assert "Title: First" in browser.observe()
