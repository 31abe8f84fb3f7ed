"""Errors say what went wrong and what to do, and carry no Playwright stack; pages that hang don't hang us."""

from __future__ import annotations

import re
import socket
import time

import pytest

from sandbox.browser import (
    BrowserError,
    ElementNotFound,
    ElementNotInteractable,
    StaleElement,
    Timeouts,
    UnknownElement,
    WaitTimeout,
)

pytestmark = pytest.mark.browser


def test_ids_from_a_page_that_was_left_are_stale(browser, pages) -> None:
    browser.goto(f"{pages.base_url}/first")
    link = browser.find("link", "Second page")
    browser.click(link)
    with pytest.raises(StaleElement) as caught:
        browser.click(link)
    message = str(caught.value)
    assert f'[{link}] link "Second page" was issued for {pages.base_url}/first' in message
    assert f"navigated to {pages.base_url}/second" in message and "browser.observe()" in message
    assert "Traceback" not in message and "Call log" not in message


def test_an_element_removed_by_the_page_is_stale(browser, pages) -> None:
    browser.goto(f"{pages.base_url}/widgets")
    vanish = browser.find("button", "Vanish")
    assert f'- [{vanish}] button "Vanish"' in browser.click(vanish) or "Vanish" not in browser.observe()
    with pytest.raises(StaleElement, match=r"no longer on the page .*removed it"):
        browser.click(vanish)


def test_unknown_hidden_disabled_and_wrong_kind_of_element(browser, pages) -> None:
    seen = browser.goto(f"{pages.base_url}/widgets")
    with pytest.raises(UnknownElement, match=r"There is no element \[9999\].*latest issued is \[\d+\]"):
        browser.click(9999)
    with pytest.raises(UnknownElement, match="ids are integers"):
        browser.click("Locked")
    locked = int(re.search(r'\[(\d+)\] button "Locked" \[disabled\]', seen).group(1))
    with pytest.raises(ElementNotInteractable, match=r'"Locked" is disabled'):
        browser.click(locked)
    opener = browser.find("button", "Open menu")
    with pytest.raises(ElementNotInteractable, match="fill"):
        browser.fill(opener, "text")
    with pytest.raises(ElementNotInteractable, match="not a checkbox"):
        browser.check(opener)
    with pytest.raises(ElementNotInteractable, match="is not a drop-down"):
        browser.select(opener, "x")


def test_an_element_the_page_hid_cannot_be_clicked(browser, pages) -> None:
    browser.goto(f"{pages.base_url}/widgets")
    browser.click(browser.find("button", "Open menu"))
    item = browser.find("link", "Menu item")
    browser.click(browser.find("button", "Close menu"))
    with pytest.raises(ElementNotInteractable, match=rf'\[{item}\] link "Menu item" is not visible'):
        browser.click(item)


def test_find_lists_candidates_and_select_lists_options(alice) -> None:
    alice.goto("/alice/docs-site/settings")
    with pytest.raises(
        ElementNotFound,
        match=r'No button named "Delete project".*nearest first: '
        r'\[\d+\] "Transfer project", \[\d+\] "Save settings"',
    ):
        alice.find("button", "Delete project")
    owner = alice.find("combobox", "new owner")  # case is forgiven when nothing matches exactly
    with pytest.raises(ElementNotFound, match=r'has no option "zed"; its options are: bob, carol,'):
        alice.select(owner, "zed")


def test_find_refuses_to_guess_between_twins(browser, pages) -> None:
    browser.goto(f"{pages.base_url}/widgets")
    with pytest.raises(
        ElementNotFound,
        match=r'2 elements are button "Twin" \(\[\d+\] button "Twin", \[\d+\] button "Twin"\)',
    ):
        browser.find("button", "Twin")


def test_waiting_for_text_that_never_comes(browser, pages) -> None:
    browser.goto(f"{pages.base_url}/first")
    with pytest.raises(WaitTimeout, match=r'Timed out after 0.5 s waiting for the text "Nope".*shows: URL: '):
        browser.wait_for("Nope", timeout=0.5)


def test_a_page_that_never_finishes_loading_returns_what_arrived(browser, pages) -> None:
    started = time.monotonic()
    seen = browser.goto(f"{pages.base_url}/never")
    assert time.monotonic() - started < 30  # bounded by the settle timeout, not by the page
    assert seen.startswith("Still loading: the page had not finished loading after 2 s")
    assert "# Partial content" in seen
    assert "Still loading" not in browser.goto(f"{pages.base_url}/first")


def test_a_server_that_never_answers_times_out_with_the_url(make_service, pages) -> None:
    browser = make_service(timeouts=Timeouts(navigation=1.0, settle=1.0, action=1.0, wait=1.0))
    with pytest.raises(
        WaitTimeout, match=rf"Timed out after 1 s waiting for {pages.base_url}/silent to respond"
    ):
        browser.goto(f"{pages.base_url}/silent")
    assert "Title: First" in browser.goto(f"{pages.base_url}/first")


def test_unreachable_site_and_relative_path_without_a_page(browser) -> None:
    with pytest.raises(BrowserError, match="is a path, but the tab has no page yet"):
        browser.goto("/projects")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound but not listening: connections are refused
        with pytest.raises(
            BrowserError, match=rf"Could not open http://127.0.0.1:{port}/: .*CONNECTION_REFUSED"
        ):
            browser.goto(f"http://127.0.0.1:{port}/")
