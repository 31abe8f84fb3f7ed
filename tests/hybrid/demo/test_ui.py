"""The demo site's HTML UI, driven through Playwright and Debian's Chromium as a user would.

Elements are found by role and accessible name: if these tests pass, the markup is accessible
enough for an accessibility-tree observer too.
"""

from __future__ import annotations

import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from hybrid.demo import DemoSite

pytestmark = pytest.mark.browser


def sign_in(page: Page, username: str = "alice", next_path: str = "/projects") -> None:
    page.goto(next_path)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("hybrid-demo")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(re.escape(next_path.split("?")[0]) + r"(\?|$)"))


def api_issue(demo: DemoSite, path: str, number: int) -> dict:
    response = httpx.get(
        f"{demo.api_url}/projects/{path}/issues/{number}",
        headers={"Authorization": f"Bearer {demo.token_for('alice')}"},
    )
    return response.json()


def test_wrong_password_is_refused_with_an_alert(page: Page) -> None:
    page.goto("/login")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("wrong")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Invalid username or password.")


def test_issue_list_filters_and_pagination(page: Page) -> None:
    sign_in(page, next_path="/alice/tracker-core/issues")
    page.get_by_label("Label").select_option("bug")
    page.get_by_label("State").select_option("all")
    page.get_by_role("button", name="Apply filters").click()
    count_text = page.locator("#issue-count").inner_text()
    total = int(count_text.split()[0])
    assert total > 20
    labels_column = page.get_by_role("row").filter(has=page.get_by_role("link"))
    expect(labels_column).to_have_count(20)
    page.get_by_role("navigation", name="Pagination").get_by_role("link", name="Next page").click()
    expect(page).to_have_url(re.compile(r"page=2"))
    expect(page.get_by_role("navigation", name="Pagination")).to_contain_text("Page 2 of")
    expect(page.get_by_label("Label")).to_have_value("bug")


def test_bulk_close_selected_issues(page: Page, demo: DemoSite) -> None:
    sign_in(page, next_path="/alice/tracker-core/issues")
    first_two = [int(page.get_by_role("checkbox").nth(i).get_attribute("value")) for i in range(2)]
    for number in first_two:
        page.get_by_role("checkbox", name=f"Select issue #{number}").check()
    page.get_by_role("button", name="Close selected issues").click()
    expect(page.get_by_role("status")).to_have_text("Closed 2 issues.")
    assert [api_issue(demo, "alice/tracker-core", n)["state"] for n in first_two] == ["closed", "closed"]


def test_issue_page_comment_close_and_edit(page: Page, demo: DemoSite) -> None:
    sign_in(page, next_path="/alice/docs-site/issues/3")
    page.get_by_role("textbox", name="Comment").fill("Looking into it.")
    page.get_by_role("button", name="Add comment").click()
    expect(page.get_by_role("article", name="Comment by alice")).to_contain_text("Looking into it.")
    if page.get_by_role("button", name="Reopen issue").count():
        page.get_by_role("button", name="Reopen issue").click()
    page.get_by_role("button", name="Close issue").click()
    expect(page.get_by_role("status")).to_have_text("Issue #3 closed.")
    page.get_by_role("link", name="Edit issue").click()
    page.get_by_label("Title").fill("Renamed through the UI")
    page.get_by_role("checkbox", name="security").check()
    page.get_by_label("Assignee").select_option("grace")
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Renamed through the UI")
    issue = api_issue(demo, "alice/docs-site", 3)
    assert issue["state"] == "closed" and "security" in issue["labels"] and issue["assignee"] == "grace"


def test_new_issue_form(page: Page, demo: DemoSite) -> None:
    sign_in(page, next_path="/alice/docs-site/issues/new")
    page.get_by_label("Title").fill("Add a glossary")
    page.get_by_label("Description").fill("Terms are used before they are defined.")
    page.get_by_role("checkbox", name="docs").check()
    page.get_by_label("Milestone").select_option("v2.0")
    page.get_by_role("button", name="Create issue").click()
    expect(page.get_by_role("status")).to_have_text("Issue #35 created.")
    assert api_issue(demo, "alice/docs-site", 35)["milestone"] == "v2.0"


def test_edit_profile_is_visible_through_the_api(page: Page, demo: DemoSite) -> None:
    sign_in(page, username="bob", next_path="/profile/edit")
    page.get_by_label("Bio").fill("Mobile lead.")
    page.get_by_label("Location").fill("Accra")
    page.get_by_role("button", name="Save profile").click()
    expect(page.get_by_role("status")).to_have_text("Profile updated.")
    profile = httpx.get(
        f"{demo.api_url}/users/bob", headers={"Authorization": f"Bearer {demo.token_for('bob')}"}
    )
    assert profile.json()["bio"] == "Mobile lead." and profile.json()["location"] == "Accra"


def test_transfer_project_needs_the_name_typed(page: Page, demo: DemoSite) -> None:
    sign_in(page, next_path="/alice/docs-site/settings")
    transfer = page.get_by_role("form", name="Transfer project")
    transfer.get_by_label("New owner").select_option("grace")
    transfer.get_by_role("button", name="Transfer project").click()
    expect(page.get_by_role("alert")).to_contain_text("Type the project name")
    transfer = page.get_by_role("form", name="Transfer project")
    transfer.get_by_label("New owner").select_option("grace")
    transfer.get_by_label("Type the project name to confirm").fill("docs-site")
    transfer.get_by_role("button", name="Transfer project").click()
    expect(page).to_have_url(re.compile(r"/grace/docs-site$"))
    expect(page.get_by_role("status")).to_have_text("Project transferred to grace.")


def test_activity_report_counts_per_person(page: Page) -> None:
    sign_in(page, next_path="/grace/website/activity")
    rows = page.get_by_role("table").first.get_by_role("row")
    whole = rows.count()
    page.get_by_label("From").fill("2026-02-01")
    page.get_by_label("To").fill("2026-02-07")
    page.get_by_role("button", name="Show report").click()
    expect(page).to_have_url(re.compile(r"since=2026-02-01&until=2026-02-07"))
    assert page.get_by_role("table").first.get_by_role("row").count() < whole


def test_unknown_project_page_says_not_found(page: Page) -> None:
    sign_in(page)
    response = page.goto("/alice/nothing-here")
    assert response.status == 404
    expect(page.get_by_role("alert")).to_contain_text("alice/nothing-here not found")
