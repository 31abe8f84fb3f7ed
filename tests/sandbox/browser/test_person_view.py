"""What a person sees on an app nobody here built decides: every control they can click gets an id and the
name they would use for it (its own text, else its row's or label's), and every report is short and true.
Each page is written the way the apps that showed the problem write it (WebArena-Infinity's generated apps,
a design system's buttons, pages that redraw themselves)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from sandbox.browser import ElementNotFound, ElementNotInteractable
from tests.sandbox.browser.test_observe import serve_pages

# Clicks are handled at the document, as frameworks do, so only a pointer cursor says what is clickable.
DELEGATED = """<script>
  document.addEventListener("click", (event) => {
    const hit = event.target.closest("[data-do]");
    if (hit) document.getElementById("log").textContent = hit.dataset.do;
  });
</script><p id="log"></p>"""

PAGES = {
    "/row-links": """<title>Issues</title><style>tr.issue { cursor: pointer } a { color: blue }</style>
        <table><tr><th></th><th>Title</th><th>Age</th></tr>
        <tr class="issue"><td><input type="checkbox" aria-label="select"></td>
          <td><a data-do="opened Fix the login bug">Fix the login bug</a></td><td>3 days</td></tr>
        <tr class="issue"><td><input type="checkbox" aria-label="select"></td>
          <td><a data-do="opened Dark mode">Dark mode</a></td><td>5 days</td></tr></table>"""
    + DELEGATED,
    "/toggles": """<title>Settings</title><style>
          .toggle { cursor: pointer; width: 40px; height: 20px; background: #ccc; display: inline-block }
          .toggle.on { background: green } .knob { width: 18px; height: 18px; background: white }</style>
        <div class="setting"><span>Email notifications</span><div
          class="toggle on"><div class="knob"></div></div></div>
        <div class="setting"><div class="toggle"><div
          class="knob"></div></div><span>Weekly digest</span></div>
        <script>document.querySelectorAll(".toggle").forEach((t) =>
          t.addEventListener("click", () => t.classList.toggle("on")));</script>""",
    "/long-names": """<title>Issues</title><style>.issue { cursor: pointer }</style>
        <div class="issue" data-do="opened the crash">Crash when exporting a report with more than ten
          thousand rows to CSV from the analytics dashboard <span>bug</span> <span>needs-triage</span>
          <span>priority: high</span> <span>opened 3 days ago by alice</span></div>"""
    + DELEGATED,
    # A design system that puts aria-selected on every button it draws.
    "/selected-buttons": """<title>Buttons</title><button aria-selected="false">Schedule</button>
        <button aria-selected="false">Save changes</button><button>Save draft</button>
        <div role="tablist"><div role="tab" aria-selected="true">Overview</div></div>
        <button title="Create label">+</button><button>🏷 Label</button>"""
    + "".join(f"<button>Action {n}</button>" for n in range(40))
    + '<div style="cursor:pointer">Settings</div>',
    # An app that draws its whole page again after each action, so every element is new.
    "/redraw": """<title>Redraw</title><div id="app"></div><script>
        let count = 0;
        function draw() {
          document.getElementById("app").innerHTML = `<h1>Tasks (${count})</h1>` +
            Array.from({length: 30}, (_, i) => `<div
              class="task"><span>Task number ${i} with a longer name</span>
              <button>Done ${i}</button></div>`).join("") + '<button id="add">Add</button>';
          document.getElementById("add").onclick = () => { count += 1; draw(); };
        }
        draw();</script>""",
    "/login": """<title>Login</title><form onsubmit="return false"><label>Password
        <input type="password" name="password"></label></form>""",
    # A modal drawn with divs: a backdrop over the page and a box in it, no role=dialog; its close is an icon.
    "/div-modal": """<title>Deployments</title><style>
          .backdrop { position: fixed; inset: 0; background: rgba(0,0,0,.5); z-index: 10 }
          .box { margin: 100px auto; width: 300px; background: white; padding: 10px }</style>
        <header><div class="logo">Acme Cloud</div><input type="text"
          placeholder="Search deployments"></header>
        <button>New deployment</button>
        <div class="backdrop"><div class="box"><h2>New deployment</h2>
          <button class="modal-close"><svg width="12" height="12"><path d="M0 0L12 12"/></svg></button>
          <label>Start date <input name="start" placeholder="YYYY-MM-DD"></label>
          <button>Create</button></div></div>""",
    # A data grid of divs: a header row and rows of cells, no table and no roles.
    "/div-grid": """<title>Invoices</title><style>.row { display: flex } .cell { width: 120px }</style>
        <div class="grid"><div class="row head"><div class="cell">Invoice</div><div
          class="cell">Customer</div>
          <div class="cell">Amount</div></div>
        <div class="row"><div class="cell">INV-1</div><div class="cell">Globex</div><div
          class="cell">$120</div></div>
        <div class="row"><div class="cell">INV-2</div><div class="cell">Initech</div><div
          class="cell">$80</div></div>
        </div>""",
    # A searchable drop-down that says "No results found" as an option when nothing matches.
    "/searchable": """<title>Assign</title><label for="who">Assignee</label>
        <input id="who" role="combobox" aria-controls="who-list" aria-expanded="false" autocomplete="off">
        <ul role="listbox" id="who-list" hidden></ul><script>
        const names = ["Alice Smith", "Bob Jones", "Carol White"];
        const input = document.getElementById("who"), list = document.getElementById("who-list");
        function show() {
          const hits = names.filter((n) => n.toLowerCase().includes(input.value.toLowerCase()));
          list.innerHTML = hits.length ? hits.map((n) => `<li role="option">${n}</li>`).join("")
            : '<li role="option">No results found</li>';
          list.hidden = false; input.setAttribute("aria-expanded", "true");
        }
        input.addEventListener("click", show); input.addEventListener("input", show);
        list.addEventListener("click", (e) => { input.value = e.target.textContent; list.hidden = true; });
        </script>""",
    # An inbox: each message is a row a person clicks on its text, holding a checkbox and a star of its own.
    "/inbox": """<title>Inbox</title><style>.message { cursor: pointer; display: flex }</style>
        <div class="message" data-do="opened Lunch plans"><input type="checkbox"><button>☆</button>
          <span>Alice</span><span>Lunch plans</span></div>
        <div class="message" data-do="opened Budget review"><input type="checkbox"><button>☆</button>
          <span>Bob</span><span>Budget review</span></div>"""
    + DELEGATED,
    # A field after a mark that is not a label (a logo): named by its own title.
    "/deck": """<title>Deck</title>
        <div style="display:flex"><span>◆</span><input title="Rename deck" value="Q4"></div>""",
    # A share dialog drawn with divs (as figma-slides draws it): its close is a bare "×" beside the title,
    # each collaborator's row ends in a "×" whose tooltip says "Remove", and a tag chip has its own "×".
    "/share": """<title>Deck</title><style>
          .overlay { position: fixed; inset: 0; background: rgba(0,0,0,.5); z-index: 10 }
          .modal { margin: 60px auto; width: 420px; background: white; padding: 10px }
          .modal-header { display: flex; justify-content: space-between }
          .person { display: flex; gap: 8px } .dd, .chip-x { cursor: pointer }</style>
        <button>Share</button>
        <div class="overlay"><div class="modal"><div class="modal-header"><h2>Share dialog</h2>
          <button class="modal-close" data-do="closed the dialog">&times;</button></div>
          <div>Tags: <span class="chip">Urgent <span class="chip-x"
            data-do="untagged">&times;</span></span></div>
          <div>People with access</div>
          <div class="person"><span>Alice Smith</span><span>Owner</span></div>
          <div class="person"><span>Bob Jones</span><div class="dd" data-do="role">Can edit ▾</div>
            <button class="icon-btn" title="Remove" data-do="removed Bob Jones">&times;</button></div>
          <div class="person"><span>Carol White</span><div class="dd" data-do="role">Can view ▾</div>
            <button class="icon-btn" title="Remove" data-do="removed Carol White">&times;</button></div>
        </div></div>"""
    + DELEGATED,
    # Every page of a site asks for a font from an origin the run may not reach.
    "/fonts": """<title>Fonts</title><link rel="stylesheet" href="http://127.0.0.1:9/font.css"><p>Hello</p>""",
}


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve_pages(PAGES) as base_url:
        yield base_url


def test_a_link_without_href_inside_a_clickable_row_gets_an_id_and_works(browser, site) -> None:
    seen = browser.goto(f"{site}/row-links")
    assert re.search(r'\[\d+\] link "Fix the login bug"', seen)
    done = browser.click(browser.find("link", "Fix the login bug"))
    assert "+ opened Fix the login bug" in done


def test_a_control_without_text_is_named_by_its_row_and_found_by_the_role_a_person_would_say(
    browser, site
) -> None:
    seen = browser.goto(f"{site}/toggles")
    assert re.search(r'\[\d+\] clickable "Email notifications" \[on\]', seen)
    assert re.search(r'\[\d+\] clickable "Weekly digest"(?! \[on\])', seen)
    switch = browser.find("switch", "Weekly digest")
    assert switch == browser.find("checkbox", "Weekly digest") == browser.find("clickable", "Weekly digest")
    assert re.search(r'\+ \[\d+\] clickable "Weekly digest" \[on\]', browser.click(switch))


def test_a_key_pressed_on_a_control_the_keyboard_cannot_reach_is_refused_with_what_works(
    browser, site
) -> None:
    # The app gives its toggle divs no tabindex: Tab does not reach them, and a key pressed "in" one would go
    # to the page instead. Said so, with the click a person makes; nothing pressed.
    browser.goto(f"{site}/toggles")
    switch = browser.find("switch", "Weekly digest")
    with pytest.raises(
        ElementNotInteractable, match=rf"cannot take the keyboard's focus.*browser\.click\({switch}\)"
    ):
        browser.press("Space", switch)
    assert re.search(r'\[\d+\] clickable "Weekly digest"(?! \[on\])', browser.observe())
    assert re.search(r'\+ \[\d+\] clickable "Weekly digest" \[on\]', browser.click(switch))


def test_a_clickable_with_a_long_name_gets_an_id(browser, site) -> None:
    seen = browser.goto(f"{site}/long-names")
    assert re.search(
        r'\[\d+\] clickable "Crash when exporting a report[^"]*opened 3 days ago by alice"', seen
    )
    done = browser.click(browser.find("clickable", "Crash when exporting"))
    assert "+ opened the crash" in done


def test_find_matches_words_of_a_name_and_a_miss_lists_the_likeliest_candidates(browser, site) -> None:
    browser.goto(f"{site}/selected-buttons")
    assert browser.find("button", "Schedule") > 0  # aria-selected does not make a button an option
    assert browser.find("tab", "Overview") > 0
    assert browser.find("button", "changes") == browser.find("button", "Save changes")
    # The marks a name starts with are not what a person says: "Label" is "🏷 Label", not "+ Create label".
    assert browser.find("button", "Label") == browser.find("button", "🏷 Label")
    assert browser.find("button", "Create label") == browser.find("button", "+ Create label")
    assert browser.find("button", "1 action") == browser.find("button", "Action 1")  # whole words first
    with pytest.raises(ElementNotFound, match=r'2 elements are button "Save".*"Save changes".*"Save draft"'):
        browser.find("button", "Save")
    with pytest.raises(ElementNotFound) as missed:
        browser.find("button", "Action 39x")
    assert '"Action 39"' in str(missed.value)  # the closest names first, though 40 buttons come before
    assert browser.find("button", "Settings") == browser.find("clickable", "Settings")  # as a person calls it
    with pytest.raises(
        ElementNotFound, match=r'No textbox named "Settings".*With that name: \[\d+\] clickable "Settings"'
    ):
        browser.find("textbox", "Settings")


def test_a_report_is_never_longer_than_a_fresh_observation(browser, site) -> None:
    browser.goto(f"{site}/redraw")
    done = browser.click(browser.find("button", "Add"))
    fresh = browser.observe()
    assert done.startswith("The page drew itself again, so ids changed")
    assert "- # Tasks (0)\n+ # Tasks (1)" in done  # what changed, not every line twice
    assert len(done) < len(fresh) / 4


def test_fill_of_a_password_does_not_echo_it(browser, site) -> None:
    browser.goto(f"{site}/login")
    said = browser.fill(browser.find("textbox", "Password"), "hunter2-secret")
    assert "hunter2-secret" not in said
    assert "holds 14 characters" in said


def test_a_modal_drawn_without_a_role_comes_first_with_its_close_icon_named(browser, site) -> None:
    seen = browser.goto(f"{site}/div-modal")
    body = seen.split("\n\n", 1)[1]
    assert body.startswith('dialog "New deployment" [modal]:\n')
    assert re.search(r'\[\d+\] button "Close New deployment"', body.split("\n\n")[0])
    assert re.search(r'\[\d+\] textbox "Start date" placeholder="YYYY-MM-DD"', seen)
    assert re.search(r'\[\d+\] textbox "Search deployments"', seen)  # not named after the logo
    assert "Acme Cloud" in seen


def test_icon_only_close_buttons_are_named_by_their_dialog_or_their_tooltip(browser, site) -> None:
    seen = browser.goto(f"{site}/share")
    assert re.search(r'\[\d+\] button "Close Share dialog"', seen)
    assert len(re.findall(r'\[\d+\] button "× Remove"', seen)) == 2 and '"×"' not in seen
    assert re.search(r'\[\d+\] clickable "× Urgent"', seen)  # a chip's mark removes the chip, not the dialog
    assert "+ removed Carol White" in browser.click(
        [int(n) for n in re.findall(r'\[(\d+)\] button "× Remove"', seen)][1]
    )
    assert "+ closed the dialog" in browser.click(browser.find("button", "Close Share dialog"))


def test_a_mark_before_a_field_does_not_name_it(browser, site) -> None:
    assert re.search(r'\[\d+\] textbox "Rename deck" value="Q4"', browser.goto(f"{site}/deck"))


def test_a_grid_of_divs_reads_as_rows_with_their_column_names(browser, site) -> None:
    seen = browser.goto(f"{site}/div-grid")
    assert "| Invoice | Customer | Amount |" in seen
    assert "| INV-1 | Globex | $120 |" in seen


def test_select_on_a_searchable_drop_down_without_a_match_lists_its_options(browser, site) -> None:
    browser.goto(f"{site}/searchable")
    with pytest.raises(ElementNotFound, match=r'"Alice Smith", "Bob Jones", "Carol White"'):
        browser.select(browser.find("combobox", "Assignee"), "Dave")


def test_a_checkbox_in_a_table_row_is_found_by_its_row(browser, site) -> None:
    browser.goto(f"{site}/row-links")
    box = browser.find("checkbox", "Dark mode")
    assert browser.check(box).startswith(f"[{box}] checkbox")
    assert "[checked]" in next(line for line in browser.observe().splitlines() if "Dark mode" in line)


def test_a_row_that_holds_controls_gets_an_id_and_its_checkbox_is_found_by_its_text(browser, site) -> None:
    seen = browser.goto(f"{site}/inbox")
    assert re.search(
        r'^\[\d+\] clickable: \[\d+\] checkbox \[\d+\] button "☆" Alice Lunch plans$', seen, re.MULTILINE
    )
    box = browser.find("checkbox", "Budget review")
    assert browser.check(box).startswith(f"[{box}] checkbox is now checked.")
    assert "+ opened Lunch plans" in browser.click(browser.find("clickable", "Lunch plans"))


def test_a_blocked_request_is_told_once_not_on_every_page(make_service, site) -> None:
    browser = make_service()
    browser.restrict([site])
    first = browser.goto(f"{site}/fonts")
    assert first.startswith("Blocked: the page tried to reach http://127.0.0.1:9/font.css")
    again = browser.goto(f"{site}/fonts")
    assert "Blocked" not in again
