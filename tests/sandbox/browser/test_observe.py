"""Observations: compact, complete for the task at hand, with ids that stay put and never come back."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from hybrid.demo import DemoSite

pytestmark = pytest.mark.browser


def ids_in(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def test_list_page_shows_what_a_task_needs_in_a_fraction_of_the_html(alice, demo: DemoSite) -> None:
    seen = alice.goto("/alice/tracker-core/issues?label=bug")
    html = httpx.get(
        f"{demo.base_url}/alice/tracker-core/issues?label=bug",
        cookies={c["name"]: c["value"] for c in alice.cookies(demo.base_url)},
    ).text
    assert seen.startswith(f"URL: {demo.base_url}/alice/tracker-core/issues?label=bug\nTitle: Issues")
    assert "# Issues" in seen  # headings
    assert re.search(r'\[\d+\] combobox "Label" value="bug" options: any \| bug \|', seen)  # selected state
    assert re.search(
        r'\[\d+\] link "Next page" -> /alice/tracker-core/issues\?label=bug&page=2', seen
    )  # hrefs
    # table rows: a row's checkbox is named by its row and column, not by a repeated label
    assert re.search(r'\| \[\d+\] checkbox \| \d+ \| \[\d+\] link "', seen)
    assert re.search(
        r'\[\d+\] button "Close selected issues" \(submits POST /alice/tracker-core/issues/bulk-close\)', seen
    )
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
    assert "[disabled]" in seen and "- Item 25" in seen
    assert "… 75 more items (100 in all)" in seen


def test_a_row_checkbox_keeps_its_full_name_for_find(alice) -> None:
    seen = alice.goto("/alice/tracker-core/issues")
    first_row = re.search(r"\| \[(\d+)\] checkbox \| (\d+) \|", seen)
    assert first_row is not None
    assert alice.find("checkbox", f"Select issue #{first_row[2]}") == int(first_row[1])


def test_a_row_control_keeps_its_name_unless_only_an_aria_label_under_a_column_header_gave_it(
    browser, pages
) -> None:
    seen = browser.goto(f"{pages.base_url}/table-form")
    # a visible label: its text appears once, as the name of its control
    assert re.search(r'^\|  \| \[\d+\] textbox "Username" \|$', seen, re.MULTILINE)
    assert re.search(r'\| \[\d+\] checkbox "Email me about updates" \|$', seen, re.MULTILINE)
    assert re.search(r'\| Access \| \[\d+\] radio "Read" \[\d+\] radio "Write" \|$', seen, re.MULTILINE)
    assert re.search(r"^\| Team \| \[\d+\] checkbox \|$", seen, re.MULTILINE)  # aria-label only, one per cell


def test_hrefs_read_as_an_address_bar_shows_them_and_still_lead_to_the_same_place(browser, pages) -> None:
    seen = browser.goto(f"{pages.base_url}/escaped")
    assert 'link "Find" -> /find?q=café,%20bar&and=%26&bad=%FF' in seen
    assert (
        'link "File" -> /files/a%5Cb?zw=a%E2%80%8Bb&nb=%C2%A0' in seen
    )  # `\\` means `/`; invisible stay escaped
    assert browser.goto("/find?q=café,%20bar&and=%26").startswith(
        f"URL: {pages.base_url}/find?q=caf%C3%A9,%20bar&and=%26\n"
    )


def test_elements_inside_a_cross_origin_iframe_are_observed_and_usable(browser, pages) -> None:
    seen = browser.goto(f"{pages.base_url}/frames")
    assert re.search(r'iframe "Payment":\n  ## Card details\n  \[\d+\] textbox "Card number"', seen)
    browser.fill(browser.find("textbox", "Card number"), "4242")
    changed = browser.click(browser.find("button", "Pay"))
    assert changed == "Changes on the page:\n+ Paid with 4242"
    assert "Paid with 4242" in browser.text()


# Small pages showing the widgets real web apps are made of, each the way such apps write it.
WIDGET_PAGES = {
    "/action-form": """<title>Orders</title><form method="post" action="/admin/orders/">
        <label>Action: <select name="action"><option>Delete selected</option></select></label>
        <input name="q" aria-label="Search"><button name="index" value="0">Go</button></form>""",
    # A select2-style combobox: the native select is hidden and keeps the label; the widget is named by its
    # own value display; its options appear in a listbox added at the end of <body> when it opens.
    "/custom-select": """<title>Custom select</title><form method="post" action="/save">
        <label for="id_type">Type:</label>
        <select id="id_type" name="type" aria-hidden="true" tabindex="-1"
          style="position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)">
          <option value="">---------</option><option value="bug">Bug</option><option
            value="task">Task</option>
        </select>
        <span class="container"><span class="selection" role="combobox" tabindex="0" aria-haspopup="true"
          aria-expanded="false" aria-controls="type-results" aria-labelledby="type-shown">
          <span id="type-shown" role="textbox"
          aria-readonly="true">---------</span><span class="arrow"></span></span></span>
        <button>Save</button></form>
        <script>
        const box = document.querySelector("[role=combobox]");
        box.addEventListener("click", () => {
          box.setAttribute("aria-expanded", "true");
          const portal = document.createElement("div");
          portal.className = "dropdown";
          portal.innerHTML = '<ul role="listbox" id="type-results">'
            + [...document.getElementById("id_type").options]
            .map((o) => `<li role="option" data-value="${o.value}" aria-selected="${o.selected}">`
                        + `${o.text}</li>`)
            .join("") + "</ul>";
          portal.addEventListener("click", (event) => {
            document.getElementById("id_type").value = event.target.dataset.value;
            document.getElementById("type-shown").textContent = event.target.textContent;
            box.setAttribute("aria-expanded", "false");
            portal.remove();
          });
          document.body.append(portal);
        });
        </script>""",
    "/loose-labels": """<title>Loose labels</title><form method="post" action="/profile">
        <div class="row"><label>Full name</label><input name="name"></div>
        <div class="row"><span class="caption">City</span><div class="wrap"><input name="city"></div></div>
        <fieldset><legend>Delivery note</legend><textarea name="note"></textarea></fieldset>
        <div class="row"><label>Languages</label><select name="langs" multiple>
          <option selected>English</option><option>French</option><option
            selected>German</option></select></div>
        <button>Save</button></form>""",
    # Django's tabular inline: a row of fields under column headers, their labels nowhere else.
    "/inline-rows": """<title>Chapters</title><table><tr><th>Number</th><th>Title</th><th>Delete?</th></tr>
        <tr><td><input type="number" name="c-0-number"></td><td><input name="c-0-title"></td>
          <td><input type="checkbox" name="c-0-DELETE"></td></tr></table>""",
    "/caption-controls": """<title>Orders</title><table>
        <caption>Orders <select aria-label="New status"><option>open</option><option>shipped</option></select>
          <button>Update status</button></caption>
        <tr><th><input type="checkbox" aria-label="Select all"></th><th>Order</th></tr>
        <tr><td><input type="checkbox" aria-label="Select order 7"></td><td>7</td></tr></table>""",
    # A React-style page: menus and rows are divs with a pointer cursor, their clicks handled at the root.
    "/clickable": """<title>App</title><style>.item { cursor: pointer } .card { cursor: pointer }</style>
        <nav><div class="item"><svg width="8" height="8"><circle
          r="4"></circle></svg><span>Settings</span></div>
          <div class="item"><span>Users</span></div></nav>
        <div tabindex="0" class="user">alice</div>
        <a href="#calendar"><span class="date-icon" title="Choose a Date"></span></a>
        <div class="card"><h3>Quarterly report</h3><p>Revenue up</p></div>
        <p id="shown">nothing chosen</p>
        <script>document.addEventListener("click", (event) => {
          const item = event.target.closest(".item");
          if (item) document.getElementById("shown").textContent = "chose " + item.textContent.trim();
        });</script>""",
    "/aria-widgets": """<title>Widgets</title>
        <div role="tablist" aria-label="Sections"><div role="tab" aria-selected="true"
          tabindex="0">General</div>
          <div role="tab" tabindex="-1">Advanced</div></div>
        <ul role="menu" aria-label="Actions"><li role="menuitem">Rename</li><li role="menuitem">Delete</li>
          <li style="cursor:pointer">Export</li></ul>
        <ul role="tree" aria-label="Files"><li role="treeitem" aria-expanded="true">src
          <ul role="group"><li role="treeitem">main.py</li><li role="treeitem">util.py</li></ul></li></ul>
        <div role="grid" aria-label="Users">
          <div role="row"><div role="columnheader" aria-sort="ascending">Name</div>
            <div role="columnheader">Role</div></div>
          <div role="row" aria-selected="false"><div role="gridcell">Alice</div><div
            role="gridcell">admin</div></div>
          <div role="row" aria-selected="false"><div role="gridcell">Bob</div><div
            role="gridcell">viewer</div></div>
        </div>
        <div role="listbox" aria-label="Colour"><div role="option" aria-selected="true">Red</div>
          <div role="option">Green</div></div>""",
    # tom-select: the native select clipped to a pixel, an input combobox with its value in an item beside it
    # and a remove mark; antd: options drawn without roles beside a listbox of no size kept for screen
    # readers.
    "/script-widgets": """<title>Script widgets</title><label for="who-input">Assignee</label>
        <select style="position:absolute;width:1px;clip:rect(0 0 0 0)"><option>Ada</option></select>
        <div class="control"><div class="item">Ada Lovelace<a href="#" class="remove"
          tabindex="-1">×</a></div>
          <input id="who-input" role="combobox" aria-expanded="true" aria-controls="who-list"></div>
        <div class="dropdown"><div role="listbox" id="who-list" style="height:0;width:0;overflow:hidden">
          <div role="option" aria-label="Ada Lovelace">ada</div></div>
          <div style="cursor:pointer" class="select-item select-item-option">Ada Lovelace</div>
          <div style="cursor:pointer" class="select-item select-item-option">Alan Turing</div></div>
        <label id="role-label">Role</label><div role="combobox" aria-labelledby="role-label">Viewer</div>""",
    # A virtualised list: its rows and a spacer; rows React handles clicks on; a web component's own button.
    "/app-parts": """<title>App parts</title><div role="list" aria-label="Orders"
      style="height:60px;overflow-y:auto">
          <div role="listitem" style="cursor:pointer">Order #1</div>
          <div role="listitem" style="cursor:pointer">Order #2</div>
          <div style="height:400px"></div></div>
        <div id="react-row">Open invoices</div>
        <x-button>Save profile</x-button>
        <ul class="files"><li><span class="name" tabindex="0" role="button">notes</span> 5s ago</li>
          <li><span class="name" tabindex="-1">data.csv</span> 5s ago</li>
          <li><span class="icon"></span><input class="editor" value="Untitled Folder"> now</li></ul>
        <table><tr id="react-tr"><td>Chen Wei</td><td><span
          style="cursor:pointer">Remove</span></td></tr></table>
        <div role="grid" aria-label="March"><div role="row"><button role="gridcell" tabindex="-1">1</button>
          <button role="gridcell" tabindex="0">2</button></div></div><script>
        document.getElementById("react-row").__reactProps$abc = {onClick: () => {}};
        document.getElementById("react-tr").__reactProps$abc = {onClick: () => {}};
        customElements.define("x-button", class extends HTMLElement {
          constructor() {
            super();
            this.attachShadow({mode: "open"}).innerHTML = '<button part="base"><slot></slot></button>';
          }
        });</script>""",
    "/modal": """<title>Modal</title><h1>Issues</h1><p>Many issues here</p><button>New issue</button>
        <dialog aria-labelledby="t"><h2
          id="t">Delete issue?</h2><button>Delete</button><button>Cancel</button>
        </dialog><script>document.querySelector("dialog").showModal()</script>""",
    "/shadow": """<title>Shadow</title><x-field></x-field><script>
        customElements.define("x-field", class extends HTMLElement {
          constructor() {
            super();
            this.attachShadow({mode: "open"}).innerHTML = '<span id="l">Email</span>' +
              '<input aria-labelledby="l"><slot></slot>';
          }
        });</script>""",
}


@contextmanager
def serve_pages(pages: dict[str, str]) -> Iterator[str]:
    """Serves `pages` (path: HTML) on a free port of 127.0.0.1; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            body = pages.get(self.path, "<title>Not found</title>").encode()
            self.send_response(200 if self.path in pages else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def widgets() -> Iterator[str]:
    with serve_pages(WIDGET_PAGES) as base_url:
        yield base_url


def test_a_form_with_a_control_named_action_shows_where_it_submits(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/action-form")
    assert re.search(r'\[\d+\] button "Go" \(submits POST /admin/orders/\)', seen)
    search = browser.find("textbox", "Search")
    sent = f"(POST {widgets}/admin/orders/)"
    assert browser.classify("press", ["Enter", search]).description.endswith(sent)
    browser.click(search)
    assert browser.classify("press", ["Enter"]).description.endswith(sent)  # the focused field's form


def test_a_custom_combobox_is_named_by_its_label_and_its_options_get_ids_once_open(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/custom-select")
    assert re.search(r'\[\d+\] combobox "Type" value="---------" \[collapsed\]', seen)
    assert browser.find("combobox", "Type:") == browser.find("combobox", "Type")  # as the label reads
    opened = browser.click(browser.find("combobox", "Type"))
    assert re.search(r'\+ \[\d+\] listbox "Type":', opened)  # added at the end of <body>, named by its owner
    assert re.search(r'\+ \[\d+\] option "Bug"', opened)
    browser.click(browser.find("option", "Bug"))
    assert re.search(r'\[\d+\] combobox "Type" value="Bug" \[collapsed\]', browser.observe())


def test_labels_without_for_are_found_as_a_person_reads_them(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/loose-labels")
    assert re.search(r'^\[\d+\] textbox "Full name"$', seen, re.MULTILINE)
    assert "Full name\n" not in seen  # the label is shown once, as the name of its field
    assert re.search(r'^\[\d+\] textbox "City"$', seen, re.MULTILINE)
    assert re.search(r'\[\d+\] textbox "Delivery note"', seen)
    assert re.search(r'\[\d+\] listbox "Languages" value="English, German"', seen)
    assert browser.find("listbox", "Languages") > 0


def test_fields_in_a_row_of_several_are_named_by_their_column_headers(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/inline-rows")
    assert re.search(
        r'^\| \[\d+\] spinbutton "Number" type=number \| \[\d+\] textbox "Title" \| '
        r"\[\d+\] checkbox \|$",
        seen,
        re.MULTILINE,
    )


def test_controls_in_a_table_caption_get_ids_and_stay_out_of_its_name(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/caption-controls")
    assert re.search(r'\[\d+\] button "Update status"', seen)
    assert re.search(r'\[\d+\] combobox "New status" value="open"', seen)
    assert 'table "Orders"' in seen
    assert re.search(r'\| \[\d+\] checkbox "Select all" \| Order \|', seen)


def test_elements_that_handle_clicks_without_a_role_get_one_id_each(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/clickable")
    assert re.search(r'\[\d+\] clickable "Settings"', seen)
    assert re.search(r'\[\d+\] clickable "Users"', seen)
    assert re.search(r'\[\d+\] clickable "alice"', seen)  # focusable by tabindex
    assert re.search(r'\[\d+\] clickable "Quarterly report Revenue up"', seen)
    assert re.search(r'\[\d+\] link "Choose a Date" -> #calendar', seen)  # an icon named by its tooltip
    assert len(re.findall(r"\[\d+\]", seen)) == 5  # the outermost element only, not its spans and icons
    changed = browser.click(browser.find("clickable", "Settings"))
    assert "+ chose Settings" in changed


def test_aria_widgets_are_walked_with_ids_on_their_parts(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/aria-widgets")
    assert re.search(r'\[\d+\] tab "General" \[selected\] \[\d+\] tab "Advanced"', seen)
    assert re.search(
        r'menu "Actions":\n  \[\d+\] menuitem "Rename"\n  \[\d+\] menuitem "Delete"\n'
        r'  \[\d+\] menuitem "Export"',
        seen,
    )  # a clickable part of a menu is one of its items
    assert re.search(
        r'tree "Files":\n  \[\d+\] treeitem "src" \[expanded\]\n    \[\d+\] treeitem "main.py"\n'
        r'    \[\d+\] treeitem "util.py"',
        seen,
    )
    assert re.search(
        r'grid "Users":\n  \| \[\d+\] columnheader "Name" \[ascending\] \| Role \|\n'
        r"  \[\d+\] row \| Alice \| admin \|\n  \[\d+\] row \| Bob \| viewer \|",
        seen,
    )
    assert re.search(
        r'\[\d+\] listbox "Colour":\n  \[\d+\] option "Red" \[selected\]\n  \[\d+\] option "Green"', seen
    )
    assert browser.find("treeitem", "main.py") > 0
    assert browser.find("row", "Bob") > 0  # a row is found by the text of one of its cells


def test_an_open_modal_dialog_is_shown_first_and_marked(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/modal")
    body = seen.split("\n\n", 1)[1]
    assert re.match(
        r'dialog "Delete issue\?" \[modal\]:\n  ## Delete issue\?\n  \[\d+\] button "Delete" '
        r'\[\d+\] button "Cancel"',
        body,
    )
    assert body.count("Delete issue?") == 2 and "# Issues" in body


def test_shadow_dom_controls_are_named_by_labels_inside_the_shadow_root(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/shadow")
    assert re.search(r'\[\d+\] textbox "Email"', seen)


def test_script_drop_downs_show_their_value_once_and_their_options_however_drawn(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/script-widgets")
    body = seen.split("\n\n", 1)[1]
    assert re.search(r'^\[\d+\] combobox "Assignee" value="Ada Lovelace" \[expanded\]$', body, re.MULTILINE)
    assert "options: Ada" not in body  # the native select behind the widget is not shown as a second field
    assert re.search(r'\[\d+\] option "Ada Lovelace"\n\[\d+\] option "Alan Turing"', body)
    assert '"ada"' not in body  # the listbox of no size stays out
    assert re.search(r'^\[\d+\] combobox "Role" value="Viewer"$', body, re.MULTILINE)
    assert "Role\n" not in body  # the label is shown once, as the name
    browser.click(browser.find("option", "Alan Turing"))


def test_virtualised_rows_framework_click_handlers_and_web_component_buttons(browser, widgets) -> None:
    seen = browser.goto(f"{widgets}/app-parts")
    assert re.search(
        r'\[(\d+)\] list "Orders" \[scrollable\]:\n- \[\d+\] clickable "Order #1"\n'
        r'- \[\d+\] clickable "Order #2"',
        seen,
    )  # the list has an id to scroll it by
    assert browser.find("list", "Orders") > 0
    assert re.search(r'\[\d+\] clickable "Open invoices"', seen)  # React's onClick, no other sign
    assert re.search(r'\[\d+\] button "Save profile"', seen) and 'clickable "Save profile"' not in seen
    # a row whose click a framework handles, holding its own click target: the target gets the id
    assert re.search(r'^\| Chen Wei \| \[\d+\] clickable "Remove" \|$', seen, re.MULTILINE)
    # a grid whose cells are buttons (a date picker): the cells get ids, not the row
    assert re.search(r'^  \| \[\d+\] gridcell "1" \| \[\d+\] gridcell "2" \|$', seen, re.MULTILINE)
    # a file list with a roving tab stop: every item is clickable; an edit box in a row takes no row text as
    # name
    assert re.search(r'- \[\d+\] clickable "data.csv" 5s ago', seen)
    assert re.search(r'^\[\d+\] textbox value="Untitled Folder"$', seen, re.MULTILINE)
