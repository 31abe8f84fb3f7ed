"""The chosen tasks the app itself makes impossible (tasks.IMPOSSIBLE), shown by hand with Playwright: every
way a person could try to edit what the verifier reads changes nothing it reads, and the app's code has no
path that changes it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpx
import pytest
from bed import AppServer
from playwright.sync_api import Page, sync_playwright

from hybrid.config import find_chromium
from sandbox.browser import DEFAULT_ARGS
from tests.waits import scaled

pytestmark = pytest.mark.browser

# Any field or editable box on the page holding `text` (the presenter notes, free text, and an object's own
# name, which the verifiers do not read, left out).
EDITABLE_HOLDING = """(text) => [...document.querySelectorAll("input, textarea, [contenteditable=true]")]
  .filter((e) => !["presenterNotes", "objectName"].includes(e.dataset.inputId))
  .some((e) => (e.value ?? e.textContent ?? "").includes(text))"""


@contextmanager
def figma_page() -> Iterator[tuple[AppServer, Page]]:
    server = AppServer("figma-slides")
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(find_chromium()), args=list(DEFAULT_ARGS)
            )
            page = chromium.new_page()
            page.set_default_timeout(scaled(30) * 1000)  # Playwright's own 30 s, for a loaded machine
            page.goto(server.url + "/", wait_until="load")
            page.wait_for_selector(".slide-thumbnail")
            yield server, page
            chromium.close()
    finally:
        server.close()


def on_figma(check: Callable[[AppServer, Page], None]) -> None:
    """Run `check` on the app in a thread of its own: Playwright's sync API refuses a thread where an asyncio
    loop runs, as one can in pytest's main thread after other tests (a notebook client's, say)."""

    def checked() -> None:
        with figma_page() as (server, page):
            check(server, page)

    with ThreadPoolExecutor(max_workers=1) as thread:
        thread.submit(checked).result()


def code(server: AppServer) -> str:
    return "\n".join(
        path.read_text(encoding="utf-8") for path in sorted((server.directory / "js").glob("*.js"))
    )


def test_a_slides_title_cannot_be_changed() -> None:
    """figma-slides function task_1: rename the 'Agenda' slide. Its title is shown, never editable."""
    on_figma(slides_title_cannot_be_changed)


def slides_title_cannot_be_changed(server: AppServer, page: Page) -> None:
    thumbnail = page.locator(".slide-thumbnail", has_text="Agenda")
    thumbnail.click()
    thumbnail.dblclick()
    assert not page.evaluate(EDITABLE_HOLDING, "Agenda")
    page.locator(".canvas-slide .slide-object", has_text="Agenda").first.dblclick()  # its heading
    assert not page.evaluate(EDITABLE_HOLDING, "Agenda")
    thumbnail.click(button="right")
    assert page.locator(".context-menu-item").all_inner_texts() == [
        "Duplicate",
        "Skip slide",
        "Delete",
    ]
    # The state's setter is defined and never called; the verifier reads slides[].title.
    assert code(server).count("updateSlideTitle(") == 1
    assert server.verify("function-tasks/task_1.py")[0] is False


def test_a_metric_cards_text_cannot_be_changed() -> None:
    """figma-slides real task_h1: change the Q3 metric cards' text. The card's panel shows its text in a box
    that takes typing, but nothing stores what is typed (no handler reads that box), and the "Edit Text" modal
    the app draws is opened by nothing."""
    on_figma(metric_cards_text_cannot_be_changed)


def metric_cards_text_cannot_be_changed(server: AppServer, page: Page) -> None:
    page.locator(".slide-thumbnail", has_text="Q3 Highlights").click()
    card = page.locator(".slide-object", has_text="2.4M")
    card.click()
    card.dblclick()
    box = page.locator("#objShapeText")
    box.fill("2.8M\nActive Users\n+40% YoY")
    box.press("Tab")  # a change event too
    page.locator(".slide-thumbnail", has_text="Agenda").click()  # elsewhere, and back: drawn from the state
    page.locator(".slide-thumbnail", has_text="Q3 Highlights").click()
    page.locator(".slide-object", has_text="2.4M").wait_for()
    state = httpx.get(f"{server.url}/api/state").json()
    (slide,) = [s for s in state["slides"] if s["title"] == "Q3 Highlights"]
    (card_1,) = [o for o in slide["objects"] if o.get("name") == "Metric Card 1"]
    assert card_1["text"] == "2.4M\nActive Users\n+32% YoY"
    source = code(server)
    assert "objShapeText'" not in source.replace("'objShapeText', obj.text", "")  # drawn, never read
    assert "openModal('editText'" not in source and 'openModal("editText"' not in source
    assert "case 'confirmTextEdit'" not in source
    assert server.verify("real-tasks/task_h1.py")[0] is False
