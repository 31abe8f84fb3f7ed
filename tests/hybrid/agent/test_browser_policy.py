"""Code actions drive a browser that stays on the run's sites, keeps cookies to itself, and writes only
with the policy's yes, whatever the mechanism."""

from __future__ import annotations

import time

import pytest

import apis
from hybrid.agent.assembly import open_browser
from hybrid.agent.runtime import browser_capability
from hybrid.config import Settings, find_chromium
from hybrid.demo import DemoSite
from sandbox import KernelSession, Policy
from sandbox.browser import BrowserService
from sandbox.browser.registry import BrowserCall
from tests.waits import scaled

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

REFUSALS = """refusals = []
for url in URLS:
    try:
        browser.goto(url)
        refusals.append("opened " + url)
    except Exception as error:
        refusals.append(str(error))
try:
    browser.cookies(DEMO)
except Exception as error:
    refusals.append(type(error).__name__)
finish("\\n".join(refusals))"""


def test_the_kernel_cannot_open_files_other_origins_or_read_cookies(
    make_agent, demo: DemoSite, listener, settings: Settings
) -> None:
    with make_agent([]) as agent:  # registers the demo, so its secrets are in the store now
        pass
    secret_file = next((settings.data_dir / "secrets").iterdir())
    port = demo.base_url.rsplit(":", 1)[1]
    urls = [
        "file:///etc/passwd",
        secret_file.as_uri(),
        f"{listener.url}/stolen",
        f"http://localhost:{port}/projects",
    ]
    steps = [
        f"browser.login('demo')\nprint(browser.goto({demo.base_url + '/projects'!r})[:200])",
        REFUSALS.replace("URLS", repr(urls)).replace("DEMO", repr(demo.base_url)),
    ]
    with make_agent(steps) as agent:
        result = agent.run("Open some pages.")
    assert result.status == "finished", result.error
    answer = result.answer.splitlines()
    assert [refusal.split(":", 1)[0] for refusal in answer[:2]] == ["Refused to open file"] * 2
    assert all("the browser opens only http and https pages" in refusal for refusal in answer[:2])
    assert [
        refusal.startswith(f"Refused to open {url}: it is not one of the run's sites")
        for url, refusal in zip(urls[2:], answer[2:4], strict=True)
    ] == [True, True]
    assert answer[4] == "AttributeError"  # cookies() is not offered to the kernel
    assert listener.received == []  # the session cookie (sent to every port of its host) never left


def _with_pages_site(settings: Settings, demo: DemoSite, pages) -> None:
    """Register the odd pages as a second site of the run, so the browser may visit them."""
    apis.SiteRegistry(settings.data_dir).add(
        apis.Site(name="pages", spec=demo.openapi_url, base_url=pages.base_url, web_url=pages.base_url),
        replace=True,
    )


SUBMIT = {  # code that sends the /writes page's form or a script's write, and whether the action announces it
    "press Space on the submit button": ('browser.press("Space", browser.find("button", "Send"))', True),
    "the form's own submit()": ('browser.click(browser.find("button", "Send by script"))', False),
    "a script's fetch": ('browser.click(browser.find("button", "Fetch"))', False),
}


def _steps(pages, mechanism: str) -> list[str]:
    code, _ = SUBMIT[mechanism]
    act = (
        f'browser.goto({pages.base_url + "/writes"!r})\nbrowser.fill(browser.find("textbox", "Query"), '
        '"hello")\n'
        f"try:\n    print({code})\nexcept Exception as error:\n    print(type(error).__name__, error)"
    )
    return [act, 'finish("done")']


@pytest.mark.parametrize("approve", [False, True])
@pytest.mark.parametrize("mechanism", SUBMIT)
def test_confirm_asks_about_every_write_the_browser_would_send(
    make_agent, demo: DemoSite, pages, settings: Settings, mechanism: str, approve: bool
) -> None:
    _with_pages_site(settings, demo, pages)
    asked: list[str] = []

    def confirm(call) -> bool:
        asked.append(call.name)
        return approve

    sent = len(pages.posts)
    with make_agent(
        _steps(pages, mechanism), sites=("demo", "pages"), policy="confirm", confirm=confirm
    ) as agent:
        result = agent.run("Send the form.")
        calls = [
            c for s in agent.store.steps_of(result.run_id) for c in agent.store.calls_of(s.id) if c.writes
        ]
    assert result.status == "finished", result.error
    announced = SUBMIT[mechanism][1]
    assert asked == ["browser.press" if announced else "browser.request"]
    assert len(pages.posts[sent:]) == (1 if approve else 0)
    assert [call.status for call in calls] == ["ok" if approve else "denied"]


@pytest.mark.parametrize(("policy", "posted"), [("read-only", False), ("allow", True)])
def test_read_only_refuses_a_scripts_write_and_allow_lets_it_through(
    make_agent, demo: DemoSite, pages, settings: Settings, policy: str, posted: bool
) -> None:
    _with_pages_site(settings, demo, pages)
    sent = len(pages.posts)
    with make_agent(_steps(pages, "a script's fetch"), sites=("demo", "pages"), policy=policy) as agent:
        result = agent.run("Send the form.")
    assert result.status == "finished", result.error
    assert len(pages.posts[sent:]) == (1 if posted else 0)


def test_time_spent_answering_about_a_page_write_is_not_charged_to_the_action(
    make_agent, demo: DemoSite, pages, settings: Settings
) -> None:
    _with_pages_site(settings, demo, pages)
    # The answer takes longer than the action may: the action times out only if that wait is charged.
    settings.action_timeout_seconds = scaled(4)
    answer_seconds = settings.action_timeout_seconds + 2

    def slow_yes(call) -> bool:
        time.sleep(answer_seconds)
        return True

    sent = len(pages.posts)
    browser = open_browser(settings, apis.SiteRegistry(settings.data_dir), ["demo", "pages"])
    try:
        browser.goto(f"{pages.base_url}/first")  # Chromium's start is not what this test times
        with make_agent(
            _steps(pages, "the form's own submit()"),
            sites=("demo", "pages"),
            policy="confirm",
            confirm=slow_yes,
            browser=browser,
        ) as agent:
            result = agent.run("Send the form.")
            steps_run = agent.store.steps_of(result.run_id)
    finally:
        browser.close()
    assert (result.status, [step.error for step in steps_run]) == ("finished", [None, None])
    assert pages.posts[sent:] == ["q=hello"]


def test_a_browser_call_is_classified_once_and_its_own_write_asked_about_once(pages) -> None:
    """The bridge's policy decides on the classification made for the call; the browser then does that call
    without classifying it again, so a write is never put to the policy twice (nor the page read twice)."""
    asked: list[BrowserCall] = []
    with (
        BrowserService(
            find_chromium(), before_write=lambda write: asked.append(write) or True, origins=[pages.base_url]
        ) as service,
        KernelSession(policy=Policy(mode="allow")) as session,
    ):
        classified: list[str] = []
        classify = service.classify
        service.classify = lambda method, *arguments: (
            classified.append(method) or classify(method, *arguments)
        )
        session.register("browser", browser_capability(service))
        result = session.execute(
            f"browser.goto({pages.base_url + '/writes'!r})\n"
            "browser.fill(browser.find('textbox', 'Query'), 'hello')\n"
            "print(browser.click(browser.find('button', 'Send')))",
            timeout=60,
        )
    assert result.ok, result
    assert classified == ["goto", "find", "fill", "find", "click"]
    assert asked == []  # the click's submission was allowed by the bridge's policy, once
    assert pages.posts[-1] == "q=hello"


def test_learning_from_a_run_whose_page_wrote_does_not_write_again(
    make_agent, demo: DemoSite, pages, settings: Settings
) -> None:
    """In allow mode too, a write a page sent on its own is recorded, so the learned workflow is known to
    write and is not re-executed against the live site to verify it."""
    _with_pages_site(settings, demo, pages)
    sent = len(pages.posts)
    act = (
        f'browser.goto({pages.base_url + "/writes"!r})\nbrowser.fill(browser.find("textbox", "Query"), '
        '"hello")\nbrowser.click(browser.find("button", "Fetch"))'
    )
    steps = [act, 'finish("sent")']
    with make_agent(steps, sites=("demo", "pages"), policy="allow") as agent:
        result = agent.run("Send hello by fetch.", learn=True)
        workflows = agent.store.list_workflows()
    assert result.status == "finished", result.error
    assert pages.posts[sent:] == ["fetch"]
    assert [(workflow.writes, workflow.status) for workflow in workflows] == [(True, "candidate")], (
        result.learned
    )
