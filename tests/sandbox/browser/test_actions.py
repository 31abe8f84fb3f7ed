"""Every action on the demo site's real forms and pages, and on tabs and dialogs."""

from __future__ import annotations

import re

import httpx
import pytest

from hybrid.demo import DemoSite
from sandbox.browser import BrowserError

pytestmark = pytest.mark.browser


def api(site: DemoSite) -> httpx.Client:
    return httpx.Client(base_url=site.api_url, headers={"Authorization": f"Bearer {site.token_for('alice')}"})


def test_edit_an_issue_with_fill_select_check_and_click(alice, demo: DemoSite) -> None:
    alice.goto("/alice/tracker-core/issues/3/edit")
    filled = alice.fill(alice.find("textbox", "Title"), "Keyboard shortcuts for the REST API")
    assert (
        filled.startswith("[")
        and ' textbox "Title" now holds "Keyboard shortcuts for the REST API".\nChanges on the page:\n- ['
        in filled
    )
    assert "+ [" in filled and 'value="Keyboard shortcuts for the REST API"' in filled
    alice.select(alice.find("combobox", "Assignee"), "carol")
    alice.check(alice.find("checkbox", "bug"))
    alice.check(alice.find("checkbox", "feature"), False)
    saved = alice.click(alice.find("button", "Save changes"))
    assert f"URL: {demo.base_url}/alice/tracker-core/issues/3\n" in saved
    assert "Messages: status: Issue updated." in saved
    with api(demo) as client:
        issue = client.get("/projects/alice/tracker-core/issues/3").json()
    assert issue["title"] == "Keyboard shortcuts for the REST API"
    assert issue["assignee"] == "carol"
    assert "bug" in issue["labels"] and "feature" not in issue["labels"]


def test_bulk_close_with_checkboxes(alice, demo: DemoSite) -> None:
    seen = alice.goto("/alice/tracker-core/issues?label=wontfix")
    numbers = re.findall(r"\| \[\d+\] checkbox \| (\d+) \|", seen)[:2]
    for number in numbers:
        alice.check(alice.find("checkbox", f"Select issue #{number}"))
    closed = alice.click(alice.find("button", "Close selected issues"))
    assert "Messages: status: Closed 2 issues." in closed
    with api(demo) as client:
        states = {n: client.get(f"/projects/alice/tracker-core/issues/{n}").json()["state"] for n in numbers}
    assert set(states.values()) == {"closed"}


def test_pagination_back_and_forward(alice) -> None:
    first = alice.goto("/alice/tracker-core/issues")
    assert "Page 1 of 8" in first
    second = alice.click(alice.find("link", "Next page"))
    assert "page=2" in second.splitlines()[0] and "Page 2 of 8" in second
    assert "Page 1 of 8" in alice.back()
    assert "Page 2 of 8" in alice.forward()
    with pytest.raises(BrowserError, match="no next page in this tab's history"):
        alice.forward()


def test_press_enter_submits_the_search_form(alice) -> None:
    alice.goto("/alice/tracker-core/issues")
    search = alice.find("searchbox", "Search")
    alice.fill(search, "Safari")
    found = alice.press("Enter", search)
    assert "search=Safari" in found.splitlines()[0]
    titles = re.findall(r'link "([^"]+)" -> /alice/tracker-core/issues/\d+', found)
    assert titles and all("Safari" in title for title in titles)


def test_text_scroll_and_screenshot(alice) -> None:
    alice.goto("/alice/tracker-core/activity")
    text = alice.text()
    assert "Contributions by person" in text and "[" not in text.split("\n", 2)[2][:200]
    scrolled = alice.scroll("down")
    assert re.match(r"Scrolled down: showing \d+-\d+ of \d+ px\.", scrolled)
    assert alice.scroll("top").startswith("Scrolled top: showing 0-")
    with pytest.raises(BrowserError, match="directions are down, up, top and bottom"):
        alice.scroll("sideways")
    path = alice.screenshot()
    with open(path, "rb") as png:
        assert png.read(8) == b"\x89PNG\r\n\x1a\n"


def test_a_link_that_opens_a_new_tab(browser, pages) -> None:
    browser.goto(f"{pages.base_url}/popup")
    opened = browser.click(browser.find("link", "Open in new tab"))
    assert opened.startswith("A new tab 1 opened and is now current; browser.switch(0) goes back.")
    assert "Finally here" in opened
    tabs = browser.tabs()
    assert [(t["index"], t["title"], t["current"]) for t in tabs] == [(0, "Popup", False), (1, "Slow", True)]
    back = browser.switch(0)
    assert "Title: Popup" in back
    with pytest.raises(BrowserError, match=r"There is no tab 5; open tabs are 0 to 1"):
        browser.switch(5)


def test_dialogs_are_answered_and_reported(browser, pages) -> None:
    browser.goto(f"{pages.base_url}/dialog")
    accepted = browser.click(browser.find("button", "Delete"))
    assert accepted.splitlines()[0] == 'Dialog: confirm "Delete everything?" (accepted)'
    assert "+ confirmed" in accepted
    assert "dismissed" in browser.answer_dialogs(accept=False)
    dismissed = browser.click(browser.find("button", "Delete"))
    assert dismissed.splitlines()[0] == 'Dialog: confirm "Delete everything?" (dismissed)'
    assert "+ cancelled" in dismissed


def test_slow_page_and_content_that_arrives_later(browser, pages) -> None:
    assert "Finally here" in browser.goto(f"{pages.base_url}/slow")
    browser.goto(f"{pages.base_url}/late")
    assert "+ Report ready" in browser.wait_for("Report ready")
    browser.goto(f"{pages.base_url}/late")
    download = browser.find("button", "Download")
    assert f'[{download}] button "Download" [disabled]' in browser.observe()
    usable = browser.wait_for(download)
    assert f'+ [{download}] button "Download"\n' in usable + "\n" and "+ Report ready" in usable
