"""Fixtures for the browser service: services on the system Chromium (the odd pages they visit are served
by the root conftest, for the agent's tests too)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hybrid.config import find_chromium
from hybrid.demo import DemoSite
from sandbox.browser import BrowserService, SiteLogin, Timeouts
from tests.sandbox.browser.action_pages import ActionPages

FAST = Timeouts(navigation=5.0, settle=2.0, action=2.0, wait=3.0)


@pytest.fixture(scope="session")
def executable() -> str:
    found = find_chromium()
    if found is None:
        pytest.fail("No Chromium found: run ./install.sh, which installs Debian's chromium package.")
    return str(found)


@pytest.fixture
def make_service(executable: str) -> Iterator[Callable[..., BrowserService]]:
    """Build services (closed at the end of the test); keyword arguments go to BrowserService."""
    made: list[BrowserService] = []

    def make(**options) -> BrowserService:
        options.setdefault("timeouts", FAST)
        service = BrowserService(executable, **options)
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


@pytest.fixture
def browser(make_service) -> BrowserService:
    return make_service()


def demo_credentials(site: DemoSite, username: str = "alice", password: str | None = None):
    logins = {"demo": SiteLogin(f"{site.base_url}/login", username, password or site.password)}
    return logins.get


@pytest.fixture
def alice(make_service, demo: DemoSite) -> BrowserService:
    """A service signed in to the demo site as alice."""
    service = make_service(credentials=demo_credentials(demo))
    service.login("demo")
    return service


@pytest.fixture(scope="session")
def action_pages() -> Iterator[ActionPages]:
    """Pages with the widgets real apps use (see action_pages.py)."""
    served = ActionPages()
    yield served
    served.close()
