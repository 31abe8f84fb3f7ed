"""Observations: compact, complete for the task at hand, with ids that stay put and never come back."""

from __future__ import annotations

import re

import httpx

from hybrid.demo import DemoSite


def ids_in(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def test_list_page_shows_what_a_task_needs_in_a_fraction_of_the_html(alice, demo: DemoSite) -> None:
    seen = alice.goto("/alice/tracker-core/issues?label=bug")
    html = httpx.get(f"{demo.base_url}/alice/tracker-core/issues?label=bug",
                     cookies={c["name"]: c["value"] for c in alice.cookies(demo.base_url)}).text
    assert seen.startswith(f"URL: {demo.base_url}/alice/tracker-core/issues?label=bug\nTitle: Issues")
    assert "# Issues" in seen  # headings
    assert re.search(r'\[\d+\] combobox "Label" value="bug" options: any \| bug \|', seen)  # selected state
    assert re.search(r'\[\d+\] link "Next page" -> /alice/tracker-core/issues\?label=bug&page=2', seen)  # hrefs
    # table rows: a row's checkbox is named by its row and column, not by a repeated label
    assert re.search(r'\| \[\d+\] checkbox \| \d+ \| \[\d+\] link "', seen)
    assert re.search(r'\[\d+\] button "Close selected issues" \(submits POST /alice/tracker-core/issues/bulk-close\)',
                     seen)
    assert 'value="/alice/tracker-core/issues?label=bug"' not in seen  # the hidden "back" input
    body = seen.split("\n\n", 1)[1]
    assert len(body) < len(html) / 2


def test_ids_are_stable_within_a_document_and_never_reused_after_it(alice) -> None:
    first = alice.goto("/alice/docs-site/settings")
    again = alice.observe()
    assert ids_in(first) == ids_in(again)
    reloaded = alice.goto("/alice/docs-site/settings")
    assert min(ids_in(reloaded)) > max(ids_in(first))


def test_form_values_and_states_are_shown(alice) -> None:
    seen = alice.goto("/alice/tracker-core/issues/3/edit")
    assert 'textbox "Title" value="Add keyboard shortcuts to the REST API"' in seen
    assert re.search(r'checkbox "feature" \[checked\]', seen)
    assert re.search(r'checkbox "bug"(?! \[checked\])', seen)
    assert re.search(r'combobox "Milestone" value="v2.0"', seen)


def test_hidden_and_presentational_nodes_are_dropped_and_long_lists_summarised(browser, pages) -> None:
    seen = browser.goto(f"{pages.base_url}/widgets")
    for absent in ("Ghost", "Decor", "Menu item", "hunter2", "csrf-token-value", "Item 26"):
        assert absent not in seen
    assert "Laid out with a table" in seen and "| Laid out" not in seen
    assert 'textbox "Password" value="••••"' in seen
    assert 'checkbox "Remember me" [checked]' in seen
    assert '[disabled]' in seen and "- Item 25" in seen
    assert "… 75 more items (100 in all)" in seen


def test_a_row_checkbox_keeps_its_full_name_for_find(alice) -> None:
    seen = alice.goto("/alice/tracker-core/issues")
    first_row = re.search(r'\| \[(\d+)\] checkbox \| (\d+) \|', seen)
    assert first_row is not None
    assert alice.find("checkbox", f"Select issue #{first_row[2]}") == int(first_row[1])


def test_a_row_control_keeps_its_name_unless_only_an_aria_label_under_a_column_header_gave_it(browser,
                                                                                              pages) -> None:
    seen = browser.goto(f"{pages.base_url}/table-form")
    # a visible label: its text appears once, as the name of its control
    assert re.search(r'^\|  \| \[\d+\] textbox "Username" \|$', seen, re.MULTILINE)
    assert re.search(r'\| \[\d+\] checkbox "Email me about updates" \|$', seen, re.MULTILINE)
    assert re.search(r'\| Access \| \[\d+\] radio "Read" \[\d+\] radio "Write" \|$', seen, re.MULTILINE)
    assert re.search(r'^\| Team \| \[\d+\] checkbox \|$', seen, re.MULTILINE)  # aria-label only, one per cell


def test_hrefs_read_as_an_address_bar_shows_them_and_still_lead_to_the_same_place(browser, pages) -> None:
    seen = browser.goto(f"{pages.base_url}/escaped")
    assert 'link "Find" -> /find?q=café,%20bar&and=%26&bad=%FF' in seen
    assert 'link "File" -> /files/a%5Cb?zw=a%E2%80%8Bb&nb=%C2%A0' in seen  # `\\` means `/`; invisible stay escaped
    assert browser.goto("/find?q=café,%20bar&and=%26").startswith(
        f"URL: {pages.base_url}/find?q=caf%C3%A9,%20bar&and=%26\n")


def test_elements_inside_a_cross_origin_iframe_are_observed_and_usable(browser, pages) -> None:
    seen = browser.goto(f"{pages.base_url}/frames")
    assert re.search(r'iframe "Payment":\n  ## Card details\n  \[\d+\] textbox "Card number"', seen)
    browser.fill(browser.find("textbox", "Card number"), "4242")
    changed = browser.click(browser.find("button", "Pay"))
    assert changed == "Changes on the page:\n+ Paid with 4242"
    assert "Paid with 4242" in browser.text()
