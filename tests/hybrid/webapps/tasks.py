"""The test bed's tasks on real web apps: what a user asks, the code actions a model would write for it
with `browser.*` only, and how the app's state tells whether it was done.

The code finds elements by `browser.find(role, name)` with the names the pages show, or by reading
observations in code, never by hard-coded ids; it uses the browser API issue 14 asks for (`select()` on
custom comboboxes, `upload()`, ...) where the page needs it. ADMIN_URL and LAB_URL stand for the app's
address, which changes on every start. A task with `by_hand` is also done with Playwright directly, which
shows the app allows it and its check sees it, so a failure through the agent is the agent's or the browser's.
"""

from __future__ import annotations

import datetime
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from playwright.sync_api import Page
from webapps.servers import DjangoLibrary, JupyterLab

JUDGE_SECONDS = 30  # JupyterLab saves a file, or starts a notebook's session, a moment after the action


@dataclass(frozen=True)
class WebTask:
    app: str  # "django-admin" or "jupyterlab"
    name: str
    task: str  # what the user asks
    steps: tuple[str, ...]  # the scripted model's code actions, the last one finishes
    check: Callable[[Any], None]  # raises AssertionError saying what differs from the task's result
    # The same task done with Playwright directly (page, app, a dir for files), for the widgets that were
    # hardest to drive through the agent.
    by_hand: Callable[[Page, Any, Path], None] | None = None


def eventually(check: Callable[[], None]) -> None:
    """`check()` until it passes, for state an app saves a moment after the change; else its last failure."""
    deadline = time.monotonic() + JUDGE_SECONDS
    while True:
        try:
            check()
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


# Django's admin over the library project (tests/fixtures/webapps/library) -------------------------------

SIGN_IN = 'print(browser.login("library"))\n'
SEED_STATUSES = {
    "Notes on the Analytical Engine": "published",
    "On Computable Numbers": "published",
    "Computing Machinery and Intelligence": "draft",
    "The Education of a Computer": "draft",
    "A Discipline of Programming": "draft",
    "Programming with Abstract Data Types": "archived",
}


def _statuses(library: DjangoLibrary) -> dict[str, str]:
    return {title: book["status"] for title, book in library.books().items()}


def _check_new_book(library: DjangoLibrary) -> None:
    book = library.books().get("Sketch of the Analytical Engine")
    assert book is not None, "no book 'Sketch of the Analytical Engine' was added"
    tomorrow = {
        (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=days)).date().isoformat()
        for days in (0, 1)
    }  # the calendar's "Tomorrow" on either side of a midnight during the run
    got = (
        book["author"],
        book["published"],
        (book["review_at"] or "")[:10] in tomorrow,
        (book["review_at"] or "")[11:16],
    )
    assert got == ("Ada Lovelace", "1842-10-15", True, "12:00"), f"the new book is {book}"


def _check_corrected_book(library: DjangoLibrary) -> None:
    book = library.books().get("Structured Programming")
    assert book is not None and book["author"] == "Edsger Dijkstra", f"the book is {book}"


def _check_chapters(library: DjangoLibrary) -> None:
    chapters = library.books()["On Computable Numbers"]["chapters"]
    assert chapters == [[1, "Computable numbers"], [2, "The universal machine"]], (
        f"its chapters are {chapters}"
    )


def _check_published_by_action(library: DjangoLibrary) -> None:
    expected = dict(
        SEED_STATUSES,
        **{"Computing Machinery and Intelligence": "published", "The Education of a Computer": "published"},
    )
    assert _statuses(library) == expected


def _check_cover(library: DjangoLibrary) -> None:
    book = library.books()["On Computable Numbers"]
    assert (book["cover"] or "").startswith("covers/cover") and book["cover_text"] == COVER_TEXT, (
        f"the book is {book}"
    )


def _check_archived_by_filter(library: DjangoLibrary) -> None:
    assert _statuses(library) == dict(SEED_STATUSES, **{"On Computable Numbers": "archived"})


def _check_genres(library: DjangoLibrary) -> None:
    genres = library.books()["A Discipline of Programming"]["genres"]
    assert genres == ["Computing", "Mathematics"], f"its genres are {genres}"


def _sign_in(page: Page, library: DjangoLibrary) -> None:
    page.goto(library.login_url)
    page.get_by_label("Username:").fill(library.username)
    page.get_by_label("Password:").fill(library.password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(library.admin_url)


def _open_book(page: Page, library: DjangoLibrary, title: str) -> None:
    _sign_in(page, library)
    page.goto(library.admin_url + "catalog/book/")
    page.get_by_role("link", name=title, exact=True).click()


def _choose_author(page: Page, name: str) -> None:
    """The select2 author field: open it, search, pick the option."""
    page.locator("#id_author + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(name.split()[0])
    page.get_by_role("option", name=name, exact=True).click()


def _save(page: Page) -> None:
    page.get_by_role("button", name="Save", exact=True).click()
    page.wait_for_load_state()


def _add_book_by_hand(page: Page, library: DjangoLibrary, files: Path) -> None:
    _sign_in(page, library)
    page.goto(library.admin_url + "catalog/book/add/")
    page.get_by_label("Title:").fill("Sketch of the Analytical Engine")
    _choose_author(page, "Ada Lovelace")
    page.get_by_label("Publication date:").fill("1842-10-15")
    page.locator("#calendarlink1").click()  # the next review's calendar, after the publication date's
    page.locator("#calendarbox1").get_by_role("link", name="Tomorrow").click()
    page.locator("#clocklink0").click()
    page.locator("#clockbox0").get_by_role("link", name="Noon").click()
    _save(page)


def _correct_book_by_hand(page: Page, library: DjangoLibrary, files: Path) -> None:
    _sign_in(page, library)
    page.goto(library.admin_url + "catalog/book/add/")
    page.get_by_label("Title:").fill("Structured Programming")
    _save(page)
    page.get_by_text("This field is required.").wait_for()
    _choose_author(page, "Edsger Dijkstra")
    _save(page)


def _add_chapters_by_hand(page: Page, library: DjangoLibrary, files: Path) -> None:
    _open_book(page, library, "On Computable Numbers")
    add = page.get_by_role("button", name="Add another Chapter")
    add.click()
    add.click()
    for row, title in enumerate(["Computable numbers", "The universal machine"]):
        page.locator(f"#id_chapters-{row}-number").fill(str(row + 1))
        page.locator(f"#id_chapters-{row}-title").fill(title)
    _save(page)


def _upload_cover_by_hand(page: Page, library: DjangoLibrary, files: Path) -> None:
    (files / "cover.txt").write_text(COVER_TEXT)
    _open_book(page, library, "On Computable Numbers")
    page.get_by_label("Cover:").set_input_files(files / "cover.txt")
    _save(page)


COVER_TEXT = "On Computable Numbers: cover art, first edition"
DJANGO = [
    WebTask(
        "django-admin",
        "add a book with autocomplete author and calendar dates",
        "Add the book 'Sketch of the Analytical Engine' by Ada Lovelace, published 1842-10-15, "
        "with its next review tomorrow at noon.",
        (
            SIGN_IN + 'print(browser.goto("ADMIN_URL" + "catalog/book/add/"))',
            (
                'browser.fill(browser.find("textbox", "Title:"), "Sketch of the Analytical Engine")\n'
                'print(browser.select(browser.find("combobox", "Author:"), "Ada Lovelace"))\n'
                'print(browser.fill(browser.find("textbox", "Publication date:"), "1842-10-15"))'
            ),
            # Two "Choose a Date" calendar links: the publication date's, then the next review's.
            (
                "import re\n"
                "calendars = re.findall(r'\\[(\\d+)\\] link \"Choose a Date\"', browser.observe())\n"
                "print(browser.click(int(calendars[1])))\n"
                'print(browser.click(browser.find("link", "Tomorrow")))\n'
                'print(browser.click(browser.find("link", "Choose a Time")))\n'
                'print(browser.click(browser.find("link", "Noon")))'
            ),
            'print(browser.click(browser.find("button", "Save")))',
            'finish("Added.")',
        ),
        _check_new_book,
        by_hand=_add_book_by_hand,
    ),
    WebTask(
        "django-admin",
        "correct a form the admin refused",
        "Add the book 'Structured Programming' by Edsger Dijkstra.",
        (
            SIGN_IN + 'print(browser.goto("ADMIN_URL" + "catalog/book/add/"))',
            # Saved before choosing the author: the admin refuses and says why next to the field.
            (
                'browser.fill(browser.find("textbox", "Title:"), "Structured Programming")\n'
                'print(browser.click(browser.find("button", "Save")))'
            ),
            (
                'if "This field is required." not in browser.observe():\n'
                '    raise LookupError("the admin shows no validation error")\n'
                'print(browser.select(browser.find("combobox", "Author:"), "Edsger Dijkstra"))\n'
                'print(browser.click(browser.find("button", "Save")))'
            ),
            'finish("Added.")',
        ),
        _check_corrected_book,
        by_hand=_correct_book_by_hand,
    ),
    WebTask(
        "django-admin",
        "add two inline chapters",
        "Add chapter 1 'Computable numbers' and chapter 2 'The universal machine' to 'On Computable "
        "Numbers'.",
        (
            SIGN_IN + 'browser.goto("ADMIN_URL" + "catalog/book/")\n'
            'print(browser.click(browser.find("link", "On Computable Numbers")))',
            (
                'add = browser.find("button", "Add another '
                'Chapter")\nbrowser.click(add)\nprint(browser.click(add))'
            ),
            # The inline's fields are named by their column headers, one row per chapter.
            (
                "import re\n"
                'page = browser.observe().split("## Chapters", 1)[1]  # the book\'s own Title is above\n'
                "numbers = re.findall(r'\\[(\\d+)\\] spinbutton \"Number\"', page)\n"
                "titles = re.findall(r'\\[(\\d+)\\] textbox \"Title\"', page)\n"
                "if (len(numbers), len(titles)) != (2, 2):\n"
                '    raise LookupError(f"expected two rows of Number and Title fields, found {numbers} and '
                '{titles}")\nfor number, title, (n, text) in zip(numbers, titles, [(1, "Computable '
                'numbers"), (2, "The universal machine")]):\n'
                "    browser.fill(int(number), str(n))\n"
                "    browser.fill(int(title), text)\n"
                'print(browser.click(browser.find("button", "Save")))'
            ),
            'finish("Added both chapters.")',
        ),
        _check_chapters,
        by_hand=_add_chapters_by_hand,
    ),
    WebTask(
        "django-admin",
        "publish two books with the bulk action",
        "Mark 'Computing Machinery and Intelligence' and 'The Education of a Computer' as published.",
        (
            SIGN_IN + 'print(browser.goto("ADMIN_URL" + "catalog/book/"))',
            (
                'for title in ["Computing Machinery and Intelligence", "The Education of a Computer"]:\n'
                '    print(browser.check(browser.find("checkbox", "Select this object for an action - " + '
                "title)))\n"
                'print(browser.select(browser.find("combobox", "Action:"), "Mark selected books as '
                'published"))\nprint(browser.click(browser.find("button", "Go")))'
            ),
            'finish("Both are published now.")',
        ),
        _check_published_by_action,
    ),
    WebTask(
        "django-admin",
        "upload a cover file",
        "Upload cover.txt (write it with the text given) as the cover of 'On Computable Numbers'.",
        (
            f'with open("cover.txt", "w") as cover:\n    cover.write({COVER_TEXT!r})',
            SIGN_IN + 'browser.goto("ADMIN_URL" + "catalog/book/")\n'
            'print(browser.click(browser.find("link", "On Computable Numbers")))',
            (
                'print(browser.upload(browser.find("button", "Cover:"), "cover.txt"))\n'
                'print(browser.click(browser.find("button", "Save")))'
            ),
            'finish("Uploaded.")',
        ),
        _check_cover,
        by_hand=_upload_cover_by_hand,
    ),
    WebTask(
        "django-admin",
        "archive the books a list filter selects",
        "Archive every published book by Alan Turing.",
        (
            SIGN_IN + 'browser.goto("ADMIN_URL" + "catalog/book/")\n'
            'print(browser.click(browser.find("link", "Alan Turing")))',
            'print(browser.click(browser.find("link", "Published")))',
            (
                'print(browser.check(browser.find("checkbox", "Select all objects on this page for an '
                'action")))\nprint(browser.select(browser.find("combobox", "Action:"), "Mark selected books '
                'as archived"))\nprint(browser.click(browser.find("button", "Go")))'
            ),
            'finish("Archived.")',
        ),
        _check_archived_by_filter,
    ),
    WebTask(
        "django-admin",
        "choose genres in the two-box selector",
        "Put 'A Discipline of Programming' in the genres Computing and Mathematics.",
        (
            SIGN_IN + 'browser.goto("ADMIN_URL" + "catalog/book/")\n'
            'print(browser.click(browser.find("link", "A Discipline of Programming")))',
            # The two boxes are named by their labels, which go on with the widget's help text.
            (
                "import re\n"
                "available = int(re.search(r'\\[(\\d+)\\] listbox \"Available genres', "
                "browser.observe()).group(1))\n"
                'for genre in ["Computing", "Mathematics"]:\n'
                "    print(browser.select(available, genre))\n"
                '    print(browser.click(browser.find("button", "Choose selected genres")))\n'
                'print(browser.click(browser.find("button", "Save")))'
            ),
            'finish("Done.")',
        ),
        _check_genres,
    ),
]


# JupyterLab ----------------------------------------------------------------------------------------------

NOTEBOOK = json.dumps(
    {
        "cells": [
            {
                "cell_type": "code",
                "execution_count": None,
                "id": "sum",
                "metadata": {},
                "outputs": [],
                "source": "1 + 1",
            }
        ],
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
)
SEEDS = {
    "data.csv": "region,sales\nnorth,10\nsouth,12\n",
    "notes/analysis.ipynb": NOTEBOOK,
    "todo.txt": "milk\n",
}
# The lab renders well after the page loads: on a busy machine, more than the 10 s wait_for gives by default.
# Two steps, as each step has its own time limit.
OPEN_LAB = ('print(browser.goto("LAB_URL"))', 'print(browser.wait_for("Launcher", timeout=25))')


def _files_after(**changes: str | None) -> Callable[[JupyterLab], None]:
    """A check that the root holds the seed files with `changes` (name: type, or None for gone)."""
    expected = {name.split("/")[0]: ("directory" if "/" in name else "file") for name in SEEDS}
    for name, kind in changes.items():
        if kind is None:
            expected.pop(name, None)
        else:
            expected[name] = kind

    def check(lab: JupyterLab) -> None:
        eventually(lambda: _assert_equal(lab.files(), expected))

    return check


def _assert_equal(got: object, expected: object) -> None:
    assert got == expected, f"{got} instead of {expected}"


def _check_text_file(lab: JupyterLab) -> None:
    eventually(lambda: _assert_equal(lab.text("todo.txt"), "milk\neggs\n"))


def _check_uploaded(lab: JupyterLab) -> None:
    _files_after(**{"report.csv": "file"})(lab)
    _assert_equal(lab.text("report.csv"), REPORT)


def _check_open_notebook(lab: JupyterLab) -> None:
    def opened() -> None:  # a session an earlier task's notebook started late may be there too
        assert "notes/analysis.ipynb" in lab.sessions(), f"the open notebooks are {lab.sessions()}"

    eventually(opened)


def _open_lab(page: Page, lab: JupyterLab) -> None:
    page.goto(lab.lab_url)
    page.locator(".jp-DirListing-item").first.wait_for()


def _rename_by_hand(page: Page, lab: JupyterLab, files: Path) -> None:
    _open_lab(page, lab)
    page.locator(".jp-DirListing-item", has_text="data.csv").click(button="right")
    page.locator(".lm-Menu").get_by_text("Rename", exact=True).click()
    editor = page.locator(".jp-DirListing-editor")
    editor.fill("sales.csv")
    editor.press("Enter")


def _upload_by_hand(page: Page, lab: JupyterLab, files: Path) -> None:
    (files / "report.csv").write_text(REPORT)
    _open_lab(page, lab)
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Upload Files").click()
    chooser.value.set_files(files / "report.csv")
    page.locator(".jp-DirListing-item", has_text="report.csv").wait_for()  # listed once the upload is done


REPORT = "quarter,revenue\nQ1,120\nQ2,135\n"
JUPYTERLAB = [
    WebTask(
        "jupyterlab",
        "new notebook from the launcher",
        "Create a new Python notebook.",
        (
            *OPEN_LAB,
            # The launcher shows the kernel's card twice, under "Notebook" and under "Console".
            (
                "import re\n"
                "page = browser.observe()\n"
                'notebook_section = page.split("## Notebook", 1)[1]\n'
                'card = re.search(r"\\[(\\d+)\\] button", notebook_section).group(1)\n'
                "print(browser.click(int(card)))"
            ),
            'finish("Created Untitled.ipynb.")',
        ),
        _files_after(**{"Untitled.ipynb": "notebook"}),
    ),
    WebTask(
        "jupyterlab",
        "new folder named in the file browser",
        "Make a folder called reports.",
        (
            *OPEN_LAB,
            'print(browser.click(browser.find("button", "New Folder")))',
            # The new folder's name is an edit box in the file list, showing "Untitled Folder".
            (
                "import re\n"
                "name_box = re.search(r'\\[(\\d+)\\] textbox value=\"Untitled Folder\"', "
                "browser.observe()).group(1)\n"
                'print(browser.fill(int(name_box), "reports"))\n'
                'print(browser.press("Enter", int(name_box)))'
            ),
            'finish("Made the folder reports.")',
        ),
        _files_after(reports="directory"),
    ),
    WebTask(
        "jupyterlab",
        "rename a file from the file browser's context menu",
        "Rename data.csv to sales.csv.",
        (
            *OPEN_LAB,
            # A file's row in the file browser; its context menu opens with the keyboard's menu key.
            (
                "import re\n"
                'row = re.search(r"\\[(\\d+)\\][^\\n\\[]*data\\.csv", browser.observe()).group(1)\n'
                "print(browser.click(int(row)))\n"
                'print(browser.press("ContextMenu", int(row)))'
            ),
            'print(browser.click(browser.find("menuitem", "Rename F2")))',
            (
                "import re\n"
                "name_box = re.search(r'\\[(\\d+)\\] textbox value=\"data.csv\"', "
                "browser.observe()).group(1)\n"
                'print(browser.fill(int(name_box), "sales.csv"))\n'
                'print(browser.press("Enter", int(name_box)))'
            ),
            'finish("Renamed.")',
        ),
        _files_after(**{"data.csv": None, "sales.csv": "file"}),
        by_hand=_rename_by_hand,
    ),
    WebTask(
        "jupyterlab",
        "open a file from the menu bar",
        "Open the notebook notes/analysis.ipynb.",
        (
            *OPEN_LAB,
            (
                'print(browser.click(browser.find("menuitem", "File")))\n'
                'print(browser.click(browser.find("menuitem", "Open from Path…")))'
            ),
            (
                'print(browser.fill(browser.find("textbox", "Path"), "notes/analysis.ipynb"))\n'
                'print(browser.click(browser.find("button", "Open")))'
            ),
            # The notebook opens a moment later; its kernel's status shows in the status bar once started.
            'print(browser.wait_for("Idle", timeout=25))',
            'finish("Opened notes/analysis.ipynb.")',
        ),
        _check_open_notebook,
    ),
    WebTask(
        "jupyterlab",
        "upload a file with the file browser's button",
        "Upload report.csv (write it with the figures given) to my JupyterLab.",
        (
            f'with open("report.csv", "w") as report:\n    report.write({REPORT!r})',
            *OPEN_LAB,
            # The button opens the system's file chooser.
            'print(browser.upload(browser.find("button", "Upload Files"), "report.csv"))',
            'finish("Uploaded report.csv.")',
        ),
        _check_uploaded,
        by_hand=_upload_by_hand,
    ),
    WebTask(
        "jupyterlab",
        "edit and save a text file",
        "Add 'eggs' as a new line at the end of todo.txt.",
        (
            *OPEN_LAB,
            (
                'print(browser.click(browser.find("menuitem", "File")))\n'
                'print(browser.click(browser.find("menuitem", "Open from Path…")))\n'
                'print(browser.fill(browser.find("textbox", "Path"), "todo.txt"))\n'
                'print(browser.click(browser.find("button", "Open")))'
            ),
            # The editor opens a moment later (the status bar then shows its cursor), a contenteditable text
            # area.
            (
                'print(browser.wait_for("Ln 1, Col 1"))\n'
                'print(browser.fill(browser.find("textbox", ""), "milk\\neggs\\n"))\n'
                'print(browser.press("Control+s"))'
            ),
            'finish("Added eggs.")',
        ),
        _check_text_file,
    ),
]

TASKS = DJANGO + JUPYTERLAB


# A template family of Django-admin tasks (one shape, different values), run in order to measure what online
# workflow memory learns on a real app (bed.run_family, bench_memory.py).


def _check_published_date(title: str, date: str) -> Callable[[DjangoLibrary], None]:
    def check(library: DjangoLibrary) -> None:
        books = library.books()
        assert books[title]["published"] == date, f"{title!r} is published {books[title]['published']}"

    return check


def _set_published_date(title: str, date: str) -> WebTask:
    return WebTask(
        "django-admin",
        f"set the publication date of {title!r}",
        f"Set the publication date of '{title}' to {date}.",
        (
            SIGN_IN + 'browser.goto("ADMIN_URL" + "catalog/book/")\n'
            f"print(browser.click(browser.find('link', {title!r})))",
            (
                f"print(browser.fill(browser.find('textbox', 'Publication date:'), {date!r}))\n"
                'print(browser.click(browser.find("button", "Save")))'
            ),
            'finish("Done.")',
        ),
        _check_published_date(title, date),
    )


DJANGO_FAMILY = [
    _set_published_date("Computing Machinery and Intelligence", "1950-10-01"),
    _set_published_date("The Education of a Computer", "1952-05-02"),
    _set_published_date("A Discipline of Programming", "1976-01-01"),
]
