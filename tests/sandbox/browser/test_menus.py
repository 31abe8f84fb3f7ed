"""Controls a page opens by other means than a click: a context menu on right-click, editing in place on
double-click; and what sits in the menus and modals apps draw with divs (a drop-down that a click opens,
a modal's × button)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from tests.sandbox.browser.test_observe import serve_pages

pytestmark = pytest.mark.browser

PAGES = {
    # A file list as a desktop app draws it: right-click a file for its menu, double-click its name to rename.
    "/files": """<title>Files</title><style>
          .file { cursor: pointer; padding: 4px } .selected { background: #ddf }
          .menu { position: fixed; background: #eee; border: 1px solid #999 }
          .menu div { cursor: pointer; padding: 2px 8px }</style>
        <div id="files"></div><div id="menu"></div><script>
        let files = ["report.pdf", "budget.xlsx", "notes.txt"];
        function draw() {
          document.getElementById("files").innerHTML = files.map((f, i) =>
            `<div class="file" data-index="${i}"><span class="name">${f}</span></div>`).join("");
        }
        document.addEventListener("contextmenu", (event) => {
          const file = event.target.closest(".file");
          if (!file) return;
          event.preventDefault();
          const menu = document.getElementById("menu");
          menu.innerHTML = `<div class="menu" style="left:${event.clientX}px;top:${event.clientY}px">
            <div data-do="open">Open</div><div data-do="delete">Delete</div></div>`;
          menu.dataset.index = file.dataset.index;
        });
        document.addEventListener("click", (event) => {
          const menu = document.getElementById("menu"), item = event.target.closest("[data-do]");
          if (item && item.dataset.do === "delete") { files.splice(Number(menu.dataset.index), 1); draw(); }
          menu.innerHTML = "";
          const file = event.target.closest(".file");
          if (file) file.classList.add("selected");
        });
        document.addEventListener("dblclick", (event) => {
          const file = event.target.closest(".file");
          if (!file) return;
          const index = Number(file.dataset.index), name = file.querySelector(".name");
          name.innerHTML = `<input aria-label="File name" value="${files[index]}">`;
          const input = name.querySelector("input");
          input.addEventListener("keydown", (e) => {
            if (e.key === "Enter") { files[index] = input.value; draw(); }
          });
        });
        draw();</script>""",
    # A role picker drawn with divs, as a design system's: a trigger showing the value and an arrow, and a
    # menu of items that a click on it opens; no roles anywhere.
    "/people": """<title>Share</title><style>
          .dropdown-trigger { cursor: pointer } .dropdown-menu { display: none }
          .dropdown-menu.open { display: block } .dropdown-item { cursor: pointer }</style>
        <div id="people"></div><script>
        const roles = { Aiko: "Can edit", Tom: "Can view" };
        function draw() {
          document.getElementById("people").innerHTML = Object.entries(roles).map(([who, role]) =>
            `<div class="person"><span>${who}</span><div class="custom-dropdown" data-who="${who}">
              <div class="dropdown-trigger">${role} ▾</div><div class="dropdown-menu">
              <div class="dropdown-item">Can edit</div><div class="dropdown-item">Can view</div></div>
            </div></div>`).join("");
        }
        document.addEventListener("click", (event) => {
          const trigger = event.target.closest(".dropdown-trigger");
          const item = event.target.closest(".dropdown-item");
          if (trigger) trigger.nextElementSibling.classList.toggle("open");
          if (item) { roles[item.closest(".custom-dropdown").dataset.who] = item.textContent; draw(); }
        });
        draw();</script>""",
}


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    with serve_pages(PAGES) as base_url:
        yield base_url


def test_right_click_opens_the_menu_a_page_draws_and_its_items_work(browser, site) -> None:
    seen = browser.goto(f"{site}/files")
    assert "Delete" not in seen
    menu = browser.right_click(browser.find("clickable", "budget.xlsx"))
    assert re.search(r'\+ \[\d+\] clickable "Delete"', menu), menu
    done = browser.click(browser.find("clickable", "Delete"))
    assert re.search(r'- \[\d+\] clickable "budget.xlsx"', done), done
    assert "budget.xlsx" not in browser.observe()


def test_double_click_edits_in_place(browser, site) -> None:
    browser.goto(f"{site}/files")
    editing = browser.double_click(browser.find("clickable", "notes.txt"))
    assert re.search(r'\+ .*\[\d+\] textbox "File name" value="notes.txt"', editing), editing
    browser.fill(browser.find("textbox", "File name"), "minutes.txt")
    browser.press("Enter")
    seen = browser.observe()
    assert re.search(r'\[\d+\] clickable "minutes.txt"', seen), seen
    assert "notes.txt" not in seen


def test_select_chooses_in_a_drop_down_of_divs_that_a_click_opens(browser, site) -> None:
    seen = browser.goto(f"{site}/people")
    aiko = int(re.search(r'\[(\d+)\] clickable "Can edit ▾"', seen).group(1))
    said = browser.select(aiko, "Can view")
    assert said.startswith(('Chose "Can view"', 'Selected "Can view"')), said
    assert re.findall(r'clickable "(Can \w+) ▾"', browser.observe()) == ["Can view", "Can view"]
