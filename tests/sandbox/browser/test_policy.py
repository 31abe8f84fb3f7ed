"""Writes go through the host's policy; credentials and cookies stay on the host."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from hybrid.demo import DemoSite
from sandbox.browser import BrowserService, LoginFailed, WriteRefused
from sandbox.browser.registry import BrowserCall, BrowserEffect

from .conftest import FAST, demo_credentials

pytestmark = pytest.mark.browser


def test_classify_tells_writes_from_reads_before_they_run(alice, demo: DemoSite) -> None:
    host = "127.0.0.1"
    alice.goto("/alice/tracker-core/issues")
    apply_filters = alice.find("button", "Apply filters")
    close_selected = alice.find("button", "Close selected issues")
    next_page = alice.find("link", "Next page")
    search = alice.find("searchbox", "Search")
    verdict = alice.classify("click", [close_selected])
    assert verdict.effect.writes is True and verdict.effect.domain == host
    assert verdict.description == (
        f'click [{close_selected}] button "Close selected issues", which submits a '
        f"form (POST {demo.base_url}/alice/tracker-core/issues/bulk-close)"
    )
    assert alice.classify("click", [apply_filters]).effect.writes is False  # a GET form only reads
    assert alice.classify("click", [next_page]) == BrowserCall(
        "click", (next_page,), BrowserEffect(domain=host)
    )
    assert alice.classify("click", [next_page]).description == f"click({next_page})"
    assert alice.classify("press", ["Enter", search]).effect.writes is False
    assert alice.classify("goto", ["https://example.org/x"]).effect.domain == "example.org"
    alice.goto("/alice/tracker-core/issues/3")
    comment = alice.find("textbox", "Comment")
    assert (
        alice.classify("press", ["Enter", comment]).effect.writes is False
    )  # Enter in a textarea adds a line
    alice.goto("/profile/edit")
    location = alice.find("textbox", "Location")
    assert alice.classify("press", ["Enter", location]).effect.writes is True
    alice.click(location)
    assert alice.classify("press", ["Enter"]).effect.writes is True  # the focused field's form is a POST


def test_read_only_refuses_form_submissions_but_not_reading(make_service, demo: DemoSite) -> None:
    asked: list[BrowserCall] = []
    browser = make_service(
        credentials=demo_credentials(demo), before_write=lambda w: asked.append(w) and False
    )
    browser.login("demo")  # signing in is not a write
    browser.goto("/alice/docs-site/settings")
    browser.select(browser.find("combobox", "New owner"), "grace")
    browser.fill(browser.find("textbox", "Type the project name to confirm"), "docs-site")
    with pytest.raises(
        WriteRefused,
        match=r'refused to click \[\d+\] button "Transfer project", which submits a '
        r"form \(POST .*/alice/docs-site/transfer\)\. Nothing was submitted",
    ):
        browser.click(browser.find("button", "Transfer project"))
    assert [w.effect.writes for w in asked] == [True]
    with httpx.Client(
        base_url=demo.api_url, headers={"Authorization": f"Bearer {demo.token_for('alice')}"}
    ) as api:
        assert api.get("/projects/alice/docs-site").status_code == 200
    browser.goto("/alice/tracker-core/issues")
    search = browser.find("searchbox", "Search")
    browser.fill(search, "Safari")
    assert "search=Safari" in browser.press("Enter", search).splitlines()[0]


def test_confirm_mode_lets_an_approved_submission_through(make_service, demo: DemoSite) -> None:
    asked: list[BrowserCall] = []
    browser = make_service(credentials=demo_credentials(demo), before_write=lambda w: asked.append(w) or True)
    browser.login("demo")
    browser.goto("/profile/edit")
    browser.fill(browser.find("textbox", "Location"), "Lagos")
    saved = browser.press("Enter")
    assert "Messages: status: Profile updated." in saved
    assert len(asked) == 1 and asked[0].method == "press"


def test_a_write_a_script_makes_on_its_own_is_asked_about_too(make_service, pages) -> None:
    refused = make_service(before_write=lambda w: False)
    refused.goto(f"{pages.base_url}/script-post")
    blocked = refused.click(refused.find("button", "Ping"))
    assert (
        f"\nBlocked: the page tried to send POST {pages.base_url}/ping, and the session's policy refused it. "
        "Nothing was sent.\nChanges on the page:\n- idle\n+ request failed"
    ) in blocked
    allowed = make_service(before_write=lambda w: w.description.startswith("let the page send POST"))
    allowed.goto(f"{pages.base_url}/script-post")
    assert "+ sent 200" in allowed.click(allowed.find("button", "Ping"))


def test_login_keeps_the_password_on_the_host(make_service, demo: DemoSite) -> None:
    browser = make_service(credentials=demo_credentials(demo, "bob"))
    results = [browser.login("demo"), browser.goto("/profile/edit"), browser.text()]
    assert results[0].startswith("Signed in to demo as bob.\nURL: ")
    assert all(demo.password not in result for result in results)
    with pytest.raises(LoginFailed, match="No browser credentials are configured for site 'gitea'"):
        browser.login("gitea")
    wrong = make_service(credentials=demo_credentials(demo, "bob", password="not-it"))
    with pytest.raises(
        LoginFailed,
        match=r"as bob failed: the login form is still shown \(alert: Invalid username "
        r"or password\.\)",
    ) as caught:
        wrong.login("demo")
    assert "not-it" not in str(caught.value)
    with pytest.raises(LoginFailed, match="No site credentials are configured on the host"):
        make_service().login("demo")


def test_the_web_session_can_be_shared_with_an_api_client(alice, demo: DemoSite) -> None:
    jar = httpx.Cookies()
    for cookie in alice.cookies(demo.base_url):
        jar.set(cookie["name"], cookie["value"], domain=cookie["domain"], path=cookie["path"])
    with httpx.Client(base_url=demo.api_url, cookies=jar) as api:
        assert api.get("/user").json()["username"] == "alice"


def test_only_kernel_methods_are_offered_to_the_kernel() -> None:
    public = {name for name in dir(BrowserService) if not name.startswith("_")}
    assert BrowserService.KERNEL_METHODS < public
    assert {
        "classify",
        "cookies",
        "close",
        "perform",
        "mark_reads",
        "process_id",
        "prompt_lines",
        "restrict",
        "take_requests",  # the host learns which API operations the pages called
        "with_page",  # the bench's evaluators read the page after a run, on the host
    } == public - BrowserService.KERNEL_METHODS - {"KERNEL_METHODS"}


# Every way a page can send a write: (what the test does, whether the action announces it, the body it posts).
SUBMISSIONS = {
    "click the submit button": (lambda b: b.click(b.find("button", "Send")), True, "q=hello"),
    "press Enter in the field": (lambda b: b.press("Enter", b.find("textbox", "Query")), True, "q=hello"),
    "press Space on the submit button": (
        lambda b: b.press("Space", b.find("button", "Send")),
        True,
        "q=hello",
    ),
    "press Space on the focused submit button": (
        lambda b: (b.press("Tab", b.find("textbox", "Query")), b.press("Space"))[1],
        True,
        "q=hello",
    ),
    "the form's own submit()": (lambda b: b.click(b.find("button", "Send by script")), False, "q=hello"),
    "a script's fetch": (lambda b: b.click(b.find("button", "Fetch")), False, "fetch"),
    "a script's XHR": (lambda b: b.click(b.find("button", "XHR")), False, "xhr"),
    "a script's beacon": (lambda b: b.click(b.find("button", "Beacon")), False, "beacon"),
}


def _writes_page(make_service, pages, answer):
    asked: list[BrowserCall] = []
    threads: list[threading.Thread] = []

    def before_write(write: BrowserCall) -> bool:
        asked.append(write)
        threads.append(threading.current_thread())
        return answer(write)

    browser = make_service(origins=[pages.base_url], before_write=before_write)
    browser.goto(f"{pages.base_url}/writes")
    browser.fill(browser.find("textbox", "Query"), "hello")
    return browser, asked, threads


@pytest.mark.parametrize("mechanism", SUBMISSIONS)
def test_confirm_refused_nothing_is_sent_whatever_the_mechanism(make_service, pages, mechanism: str) -> None:
    act, announced, _ = SUBMISSIONS[mechanism]
    browser, asked, threads = _writes_page(make_service, pages, lambda write: False)
    sent = len(pages.posts)
    if announced:
        with pytest.raises(WriteRefused, match=r"refused to .*, which submits a form \(POST .*/ping\)"):
            act(browser)
    else:
        told = act(browser)
        assert (
            f"Blocked: the page tried to send POST {pages.base_url}/ping, and the session's policy refused "
            "it." in told
        )
    browser.observe()  # anything held back still is, on the next call too
    assert pages.posts[sent:] == []
    assert len(asked) == 1 and threads[0] is threading.current_thread()
    assert "Title: Writes" in browser.observe()


@pytest.mark.parametrize("mechanism", SUBMISSIONS)
def test_confirm_allowed_the_write_goes_through_once(make_service, pages, mechanism: str) -> None:
    act, announced, body = SUBMISSIONS[mechanism]
    browser, asked, _ = _writes_page(make_service, pages, lambda write: True)
    sent = len(pages.posts)
    told = act(browser)
    assert pages.posts[sent:] == [body]
    assert [write.method == "request" for write in asked] == [not announced]
    if not announced:
        assert (
            f"The page sent POST {pages.base_url}/ping on its own; the session's policy allowed it." in told
        )


@pytest.mark.parametrize("mechanism", ["the form's own submit()", "a script's fetch"])
def test_a_slow_answer_does_not_break_the_browser(make_service, pages, mechanism: str) -> None:
    act, _, body = SUBMISSIONS[mechanism]

    def slow_yes(write: dict) -> bool:
        time.sleep(FAST.action + FAST.settle + 1)  # longer than any of the browser's own waits
        return True

    browser, _, _ = _writes_page(make_service, pages, slow_yes)
    sent = len(pages.posts)
    told = act(browser)
    assert pages.posts[sent:] == [body]
    assert "Still loading" not in told and "Timed out" not in told
    assert "pong" in browser.text() if mechanism == "the form's own submit()" else "+ fetch sent" in told


def test_after_held_writes_are_released_an_unchanged_page_reads_no_further_change(
    make_service, pages
) -> None:
    act, _, _ = SUBMISSIONS["a script's beacon"]  # a beacon's answer changes nothing on the page
    browser, _, _ = _writes_page(make_service, pages, lambda write: True)
    told = act(browser)
    _, released = told.split("The page sent POST", 1)
    assert released.rstrip().endswith("No further change on the page."), told
    assert "No visible change" not in released
