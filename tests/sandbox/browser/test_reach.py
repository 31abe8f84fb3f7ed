"""A browser restricted to some sites' origins reaches nothing else: no other scheme, host or port, not by a
redirect, and not by what a page's scripts send."""

from __future__ import annotations

import re
import time

import pytest

from sandbox.browser import BrowserError

pytestmark = pytest.mark.browser

LEAKS = ("fetch", "img", "beacon")  # the requests /leak sends its cookie with (and a WebSocket)


@pytest.mark.parametrize("restricted", [True, False])
def test_local_files_and_browser_pages_are_never_opened(
    make_service, pages, tmp_path, restricted: bool
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the-secret-value")
    browser = make_service(origins=[pages.base_url]) if restricted else make_service()
    browser.goto(f"{pages.base_url}/first")
    for url in (
        secret.as_uri(),
        "file:///etc/passwd",
        "chrome://version",
        f"view-source:{pages.base_url}/first",
        "data:text/html,<p>the-secret-value</p>",
        "javascript:document.cookie",
    ):
        with pytest.raises(
            BrowserError,
            match=rf"^Refused to open {re.escape(url)}: the browser opens only http "
            r"and https pages \(of the run's sites\)\.$",
        ):
            browser.goto(url)
    seen = browser.text()
    assert seen.startswith(f"URL: {pages.base_url}/first") and "the-secret-value" not in seen


def test_other_hosts_and_other_local_ports_are_refused(make_service, pages, listener) -> None:
    browser = make_service(origins=[pages.base_url])
    port = pages.base_url.rsplit(":", 1)[1]
    for url in (f"{listener.url}/stolen", f"http://localhost:{port}/first", "https://example.org/"):
        with pytest.raises(
            BrowserError,
            match=rf"^Refused to open {re.escape(url)}: it is not one of the run's sites "
            rf"\(http://127\.0\.0\.1:{port}\), and the browser reaches only those",
        ):
            browser.goto(url)
    assert "Title: First" in browser.goto(f"{pages.base_url}/first")
    assert listener.received == []


def test_a_redirect_off_the_sites_is_stopped(make_service, pages, listener) -> None:
    browser = make_service(origins=[pages.base_url])
    browser.goto(f"{pages.base_url}/first")
    away = f"{pages.base_url}/redirect?to={listener.url}/stolen"
    with pytest.raises(
        BrowserError,
        match=rf"^Refused to open {re.escape(away)}\. Blocked: {re.escape(away)} "
        rf"redirected to {re.escape(listener.url)}/stolen, which is not one of the "
        r"run's sites .*; the browser stopped there\.$",
    ):
        browser.goto(away)
    assert listener.received == []
    assert "Title: First" in browser.observe()  # the page stayed as it was
    assert "Title: Second" in browser.goto(f"{pages.base_url}/redirect?to=/second")
    assert browser.tabs()[0]["url"] == f"{pages.base_url}/second"


def test_a_page_cannot_send_its_cookies_to_another_port(make_service, pages, listener) -> None:
    browser = make_service(origins=[pages.base_url])
    told = browser.goto(f"{pages.base_url}/leak?to={listener.url}") + browser.observe()
    for leak in LEAKS:
        assert f"Blocked: the page tried to reach {listener.url}/{leak}" in told
    assert listener.received == []
    # The same page in a browser that may go anywhere does reach the listener: the test can fail.
    unrestricted = make_service()
    unrestricted.goto(f"{pages.base_url}/leak?to={listener.url}")
    deadline = time.monotonic() + 10
    while not listener.received and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any(b"leaked-cookie-value" in received for received in listener.received)
