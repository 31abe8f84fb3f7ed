"""Each task can be done on its page by hand (Playwright, the way a person clicks), and then its judge sees
what it wants: so an agent's failure on a task is the agent's, not the page's or the judge's."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator

import pytest
from playwright.sync_api import Locator, Page
from widget_bed import WidgetBed
from widget_tasks import REPORT, TASKS, Task

pytestmark = pytest.mark.browser

REPORT_FILE = {"name": "report.txt", "mimeType": "text/plain", "buffer": REPORT.encode()}
WAIT_SECONDS = 10


def saved(page: Page, text: str) -> None:
    """Waits for the page to say it saved (it does once the server answered)."""
    page.locator("output").filter(has_text=text).wait_for()


def submit(page: Page, button: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()


def uploads_arrive(bed: WidgetBed) -> Callable[[Page], None]:
    def wait(page: Page) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while not bed.uploads and time.monotonic() < deadline:
            page.wait_for_timeout(50)

    return wait


def select2_country(page: Page) -> None:
    page.locator("#country + .select2 .select2-selection").click()
    page.locator(".select2-results__option", has_text="Germany").click()
    submit(page, "Save")


def select2_tags(page: Page) -> None:
    for tag in ("billing", "urgent"):
        page.locator("#tags + .select2 .select2-search__field").click()
        page.locator(".select2-results__option", has_text=tag).click()
    submit(page, "Save")


def tom_select(page: Page, assignee: str, labels: tuple[str, ...] = ()) -> None:
    if labels:
        page.locator("#labels-ts-control").click()
        for label in labels:
            page.locator("#labels-ts-dropdown .option", has_text=label).click()
    page.locator("#assignee-ts-control").click()
    page.locator("#assignee-ts-dropdown .option", has_text=assignee).click()
    submit(page, "Assign")


def react_select(page: Page, field: str, choices: tuple[str, ...]) -> None:
    for choice in choices:
        page.locator(f"#{field}-input").fill(choice)
        page.keyboard.press("Enter")
    submit(page, "Save")


def mui_country_and_role(page: Page) -> None:
    page.get_by_role("combobox", name="Country").fill("Can")
    page.get_by_role("option", name="Canada").click()
    page.get_by_role("combobox", name="Role").click()
    page.get_by_role("option", name="Editor").click()
    page.get_by_role("button", name="Save").click()
    saved(page, "Settings saved")


def mui_start_date(page: Page) -> None:
    page.get_by_role("button", name=re.compile("^Choose date")).click()
    page.get_by_role("gridcell", name="12").click()
    page.get_by_role("button", name="Save").click()
    saved(page, "Settings saved")


def mui_start_day_typed(page: Page) -> None:
    page.get_by_role("spinbutton", name="Day").click()
    page.keyboard.type("12")
    page.get_by_role("button", name="Save").click()
    saved(page, "Settings saved")


def mui_archive(page: Page) -> None:
    page.get_by_role("button", name="More actions").click()
    page.get_by_role("menuitem", name="Archive").click()
    page.get_by_role("button", name="Archive project").click()
    page.get_by_text("Status: Archived").wait_for()


def mui_restore(page: Page) -> None:
    page.get_by_role("tab", name="History").click()
    page.get_by_text("Version 2").locator("..").get_by_role("button", name="Restore").click()
    saved(page, "Version 2 restored")


def antd_save(page: Page) -> None:
    page.get_by_role("button", name="Save issue").click()
    saved(page, "Issue saved")


def antd_priority_and_location(page: Page) -> None:
    page.get_by_role("combobox", name="Priority").click()
    page.locator(".ant-select-item-option", has_text="High").click()
    page.get_by_role("combobox", name="Location").click()
    for place in ("Europe", "France", "Paris"):
        page.locator(".ant-cascader-menu-item", has_text=place).click()
    antd_save(page)


def antd_due_date(page: Page) -> None:
    page.get_by_label("Due date").fill("2026-03-12")
    page.keyboard.press("Enter")
    antd_save(page)


def antd_remove_watcher(page: Page) -> None:
    page.get_by_role("row", name=re.compile("Chen Wei")).get_by_text("Remove").click()
    antd_save(page)


def antd_link_file(page: Page) -> None:
    def item(name: str) -> Locator:
        return page.get_by_role("treeitem").filter(has_text=re.compile(rf"^{re.escape(name)}$"))

    for folder in ("src", "components"):
        item(folder).click()
        page.locator(".ant-motion-collapse").wait_for(
            state="detached"
        )  # a person waits for the folder to open
    item("Button.tsx").click()
    saved(page, "Linked src/components/Button.tsx")


def flatpickr_check_in(page: Page) -> None:
    page.get_by_label("Check-in").click()
    page.locator('.flatpickr-calendar.open .flatpickr-day[aria-label="March 12, 2026"]').click()
    submit(page, "Book")


def react_window_order(page: Page) -> None:
    page.get_by_role("list", name="Orders").evaluate("list => { list.scrollTop = 39 * 32; }")
    page.get_by_text("Order #40 ·").click()
    page.locator("output").filter(has_text="Order #40 for").wait_for()
    page.wait_for_load_state("networkidle")


def shoelace_department(page: Page) -> None:
    page.locator("sl-select").click()
    page.locator("sl-option", has_text="Engineering").click()
    page.locator("sl-checkbox").click()
    page.locator("sl-button[type=submit]").click()
    page.get_by_text("Profile saved").wait_for()


def shoelace_name(page: Page) -> None:
    page.get_by_label("Full name").fill("Jo Park")
    page.locator("sl-button[type=submit]").click()
    page.get_by_text("Profile saved").wait_for()


def quill_bold(page: Page) -> None:
    page.locator(".ql-editor").evaluate("""editor => {
        const word = editor.querySelector("p").firstChild, range = document.createRange();
        range.setStart(word, 8); range.setEnd(word, 13);
        getSelection().removeAllRanges(); getSelection().addRange(range); }""")
    page.locator("button.ql-bold").click()
    page.get_by_role("button", name="Save note").click()
    page.get_by_text("Note saved").wait_for()


def quill_replace(page: Page) -> None:
    page.locator(".ql-editor").fill("Call Ada at 3pm")
    page.get_by_role("button", name="Save note").click()
    page.get_by_text("Note saved").wait_for()


def by_hand(bed: WidgetBed) -> dict[str, Callable[[Page], None]]:
    """Each task's goal, done by hand."""

    def upload(selector: str) -> Callable[[Page], None]:
        def do(page: Page) -> None:
            page.locator(selector).set_input_files(REPORT_FILE)
            uploads_arrive(bed)(page)

        return do

    return dict(
        zip(
            [task.id for task in TASKS],
            [
                select2_country,
                select2_tags,
                lambda page: tom_select(page, "Grace Hopper"),
                lambda page: tom_select(page, "Alan Turing", ("security", "ops")),
                lambda page: react_select(page, "city", ("Lisbon",)),
                lambda page: react_select(page, "colour", ("Blue", "White")),
                mui_country_and_role,
                mui_start_date,
                mui_start_day_typed,
                mui_archive,
                mui_restore,
                antd_priority_and_location,
                antd_due_date,
                antd_remove_watcher,
                antd_link_file,
                upload(".ant-upload input[type=file]"),
                flatpickr_check_in,
                upload("input.dz-hidden-input"),
                react_window_order,
                shoelace_department,
                shoelace_name,
                quill_bold,
                quill_replace,
            ],
            strict=True,
        )
    )


@pytest.fixture
def tab(chromium) -> Iterator[Page]:
    context = chromium.new_context()
    context.set_default_timeout(WAIT_SECONDS * 1000)
    yield context.new_page()
    context.close()


@pytest.mark.parametrize("task", TASKS, ids=[task.id for task in TASKS])
def test_the_task_can_be_done_by_hand(tab: Page, widget_bed: WidgetBed, task: Task) -> None:
    widget_bed.clear()
    tab.goto(widget_bed.url(task.page))
    by_hand(widget_bed)[task.id](tab)
    assert task.observe(widget_bed) == task.want


def test_no_judge_passes_before_its_task_is_done(widget_bed: WidgetBed) -> None:
    widget_bed.clear()
    assert [task.id for task in TASKS if task.observe(widget_bed) == task.want] == []
