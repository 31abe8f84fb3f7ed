"""Tasks on Django's admin (autocomplete, inlines, calendars, bulk actions, uploads, list filters), done
by the full agent with scripted replies and judged by the books the app then stores."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser
from webapps.bed import as_params, checks_passing_at_seed, do_by_hand, reset, run_task, with_by_hand
from webapps.servers import DjangoLibrary
from webapps.tasks import DJANGO, WebTask

from hybrid.config import Settings, find_chromium
from sandbox.browser import BrowserService, SiteLogin

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("task", as_params(DJANGO))
def test_task(task: WebTask, library: DjangoLibrary, settings: Settings) -> None:
    outcome = run_task(task, library, settings)
    assert outcome.passed, outcome.explain()


def test_no_check_passes_on_the_seed_state(library: DjangoLibrary) -> None:
    assert checks_passing_at_seed(DJANGO, library) == []


@pytest.mark.parametrize("task", with_by_hand(DJANGO))
def test_the_task_can_be_done_by_hand(
    task: WebTask, library: DjangoLibrary, chromium: Browser, tmp_path: Path
) -> None:
    do_by_hand(task, library, chromium, tmp_path)
    task.check(library)


def test_the_bulk_action_button_shows_where_it_submits(library: DjangoLibrary) -> None:
    reset(library)
    login = SiteLogin(library.login_url, library.username, library.password)
    with BrowserService(find_chromium(), credentials={"library": login}.get) as browser:
        browser.login("library")
        page = browser.goto(library.admin_url + "catalog/book/")
    go = next(line for line in page.splitlines() if 'button "Go"' in line)
    assert "(submits POST /admin/catalog/book/)" in go, go


def test_signing_in_again_is_not_a_failure(library: DjangoLibrary) -> None:
    """Django sends a signed-in user from its login page on to the admin: that is being signed in, not a
    login page without fields."""
    reset(library)
    login = SiteLogin(library.login_url, library.username, library.password)
    with BrowserService(find_chromium(), credentials={"library": login}.get) as browser:
        first = browser.login("library")
        again = browser.login("library")
    assert first.startswith(f"Signed in to library as {library.username}."), first
    assert again.startswith("Already signed in to library: its login page sent the browser on to "), again
