"""Fixtures shared by all tests: the demo site and a headless system Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hybrid.config import find_chromium
from hybrid.demo import DemoSite, demo_site
from sandbox.browser import DEFAULT_ARGS


@pytest.fixture(scope="session")
def demo_server() -> Iterator[DemoSite]:
    with demo_site() as site:
        yield site


@pytest.fixture
def demo(demo_server: DemoSite) -> DemoSite:
    """The demo site, reset to its seed state for this test."""
    demo_server.reset()
    return demo_server


@pytest.fixture(scope="session")
def chromium():
    from playwright.sync_api import sync_playwright

    executable = find_chromium()
    if executable is None:
        pytest.fail("No Chromium found: run ./install.sh, which installs Debian's chromium package.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=list(DEFAULT_ARGS))
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, demo: DemoSite):
    context = chromium.new_context(base_url=demo.base_url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()
