"""Figures for observations: size against the page's DOM and time per observation, on the demo site, the
widget bed's pages (real component libraries) and this package's own widget pages; beside them, the time of
Chromium's own accessibility tree and what it says about the widgets (the evidence for walking the DOM).

Run: .venv/bin/python tests/sandbox/browser/bench_observe.py [--repeat N] [--open]

Sizes are characters: the observation against the page's serialised DOM once loaded (`page.content()`, what
the browser holds after scripts rendered; the served HTML of a single-page app is a near-empty shell). Times
are medians in ms of the observation's walk (`Observer.observe`), CDP's `Accessibility.getFullAXTree` (the
raw tree, before any rendering to text) and Playwright's `aria_snapshot()`. `--open` also measures each
widget-bed page with its first combobox opened. To measure other code (say, before a change), put its
checkout first on the path: `PYTHONPATH=/tmp/old .venv/bin/python tests/sandbox/browser/bench_observe.py`.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from hybrid.config import find_chromium
from hybrid.demo import demo_site
from sandbox.browser.observe import ID_ATTRIBUTE, Limits, Observer
from sandbox.browser.service import DEFAULT_ARGS

sys.path.insert(0, str(Path(__file__).parent))
from bench_browser import serve_folder
from test_observe import WIDGET_PAGES, serve_pages

BED = Path(__file__).parents[2] / "fixtures" / "widgets" / "dist"
DEMO_PAGES = [
    "/projects",
    "/alice/tracker-core/issues",
    "/alice/tracker-core/issues/3/edit",
    "/alice/docs-site/settings",
]
# (one of this package's widget pages, the CSS selector of an element a task needs)
QUESTIONS = [
    ("/custom-select", "[role=combobox]"),
    ("/loose-labels", "input[name=name]"),
    ("/loose-labels", "input[name=city]"),
    ("/loose-labels", "textarea"),
    ("/clickable", ".item"),
    ("/app-parts", "#react-row"),
]


def median_ms(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


@contextmanager
def cdp(page: Page) -> Iterator:
    session = page.context.new_cdp_session(page)
    try:
        yield session
    finally:
        session.detach()


def full_tree(page: Page) -> list[dict]:
    with cdp(page) as session:
        return session.send("Accessibility.getFullAXTree")["nodes"]


def chromium_says(page: Page, selector: str) -> str:
    """The role and name in Chromium's tree for the element `selector` picks."""
    with cdp(page) as session:
        root = session.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        nodes = session.send("Accessibility.getPartialAXTree", {"nodeId": node, "fetchRelatives": False})[
            "nodes"
        ]
    found = nodes[0] if nodes else {}
    if found.get("ignored"):
        return "ignored (not in the tree)"
    return f'{found.get("role", {}).get("value", "?")} "{found.get("name", {}).get("value", "")}"'


def measure(page: Page, observer: Observer, label: str, repeat: int) -> None:
    page.wait_for_load_state("networkidle")
    body = "\n".join(observer.observe(page).lines)
    dom = page.content()
    ids = body.count("] ")
    print(
        f"{label[:34]:34} {len(dom):8} {len(body):7} {len(body) / len(dom):6.3f} {ids:5} "
        f"{median_ms(lambda: observer.observe(page), repeat):8.1f} "
        f"{median_ms(lambda: full_tree(page), repeat):8.1f} "
        f"{median_ms(lambda: page.locator('body').aria_snapshot(), repeat):8.1f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument(
        "--open", action="store_true", help="also measure widget-bed pages with a combobox open"
    )
    arguments = parser.parse_args()
    repeat = arguments.repeat
    with (
        sync_playwright() as playwright,
        demo_site() as site,
        serve_pages(WIDGET_PAGES) as widgets,
        serve_folder(BED) as bed,
    ):
        browser = playwright.chromium.launch(executable_path=str(find_chromium()), args=list(DEFAULT_ARGS))
        page = browser.new_page()
        page.goto(f"{site.base_url}/login")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", site.password)
        page.press("input[name=password]", "Enter")
        page.wait_for_load_state()
        observer = Observer(Limits())
        print(
            f"{'page':34} {'DOM':>8} {'observe':>7} {'ratio':>6} {'ids':>5} "
            f"{'obs ms':>8} {'AX ms':>8} {'aria ms':>8}"
        )
        visits: list[tuple[str, str, str | None]] = [
            *((f"demo {path}", site.base_url + path, None) for path in DEMO_PAGES),
            *((f"bed {file.stem}", f"{bed}/{file.name}", None) for file in sorted(BED.glob("*.html"))),
            *(
                (f"bed {file.stem}, opened", f"{bed}/{file.name}", "[role=combobox]")
                for file in sorted(BED.glob("*.html"))
                if arguments.open
            ),
            *((f"own {path}", widgets + path, None) for path in WIDGET_PAGES),
        ]
        for label, url, opening in visits:
            page.goto(url)
            if opening:
                page.wait_for_load_state("networkidle")
                box = page.locator(opening).first
                if box.count() == 0:
                    continue
                box.click()
            measure(page, observer, label, repeat)
        print("\nWhat Chromium's accessibility tree says, and the observation's line")
        for path, selector in QUESTIONS:
            page.goto(widgets + path)
            page.wait_for_load_state()
            lines = observer.observe(page).lines
            marker = f"[{page.get_attribute(selector, ID_ATTRIBUTE)}] "
            shown = next((line.strip() for line in lines if marker in line), "(no id)")
            print(
                f"{path:15} {selector:17} Chromium: {chromium_says(page, selector):24} observation: {shown}"
            )
        browser.close()


if __name__ == "__main__":
    main()
