"""Chromium's own accessibility tree against the observation's walk: time per page, and what each says about
the widgets the observation must show (the evidence for walking the DOM ourselves).

Run: .venv/bin/python tests/sandbox/browser/bench_accessibility.py [--repeat N]

For each page: the median time of the observation's walk (`Observer.observe`), of CDP's
`Accessibility.getFullAXTree` (the raw tree only, before any rendering to text), and of Playwright's
`aria_snapshot()`. Then, on the widget pages of test_observe.py, the role and name Chromium computes for the
elements a task needs, beside the observation's line for them.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from hybrid.config import find_chromium
from hybrid.demo import demo_site
from sandbox.browser.observe import ID_ATTRIBUTE, Limits, Observer
from sandbox.browser.service import DEFAULT_ARGS

sys.path.insert(0, str(Path(__file__).parent))
from test_observe import WIDGET_PAGES, serve_pages  # noqa: E402

DEMO_PAGES = ["/alice/tracker-core/issues", "/alice/tracker-core/issues/3/edit", "/alice/docs-site/settings"]
# (widget page, the CSS selector of an element a task needs)
QUESTIONS = [
    ("/custom-select", "[role=combobox]"),
    ("/loose-labels", "input[name=name]"),
    ("/loose-labels", "input[name=city]"),
    ("/loose-labels", "textarea"),
    ("/clickable", ".item"),
    ("/clickable", ".user"),
]


def median_ms(action: Callable[[], object], repeat: int) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def full_tree(page: Page) -> list[dict]:
    session = page.context.new_cdp_session(page)
    try:
        return session.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        session.detach()


def chromium_says(page: Page, selector: str) -> str:
    """The role and name in Chromium's tree for the element `selector` picks."""
    session = page.context.new_cdp_session(page)
    try:
        document = session.send("DOM.getDocument", {"depth": 0})
        node = session.send("DOM.querySelector", {"nodeId": document["root"]["nodeId"], "selector": selector})
        nodes = session.send("Accessibility.getPartialAXTree", {"nodeId": node["nodeId"],
                                                                "fetchRelatives": False})["nodes"]
    finally:
        session.detach()
    found = nodes[0] if nodes else {}
    if found.get("ignored"):
        return "ignored (not in the tree)"
    return f'{found.get("role", {}).get("value", "?")} "{found.get("name", {}).get("value", "")}"'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    with sync_playwright() as playwright, demo_site() as site, serve_pages(WIDGET_PAGES) as widgets:
        browser = playwright.chromium.launch(executable_path=str(find_chromium()), args=list(DEFAULT_ARGS))
        page = browser.new_page()
        page.goto(f"{site.base_url}/login")
        page.fill("input[name=username]", "alice")
        page.fill("input[name=password]", site.password)
        page.press("input[name=password]", "Enter")
        page.wait_for_load_state()
        observer = Observer(Limits())
        print(f"Median ms of {repeat}: {'page':36} {'observe':>8} {'AX tree':>8} {'AX nodes':>9} {'aria_snapshot':>14}")
        for url in [site.base_url + path for path in DEMO_PAGES] + [widgets + path for path in WIDGET_PAGES]:
            page.goto(url)
            page.wait_for_load_state()
            nodes = len(full_tree(page))
            print(f"{'':18}{url.split('/', 3)[3][:36]:36} {median_ms(lambda: observer.observe(page), repeat):8.1f} "
                  f"{median_ms(lambda: full_tree(page), repeat):8.1f} {nodes:9} "
                  f"{median_ms(lambda: page.locator('body').aria_snapshot(), repeat):14.1f}")
        print("\nWhat Chromium's tree says, and the observation's line")
        for path, selector in QUESTIONS:
            page.goto(widgets + path)
            page.wait_for_load_state()
            lines = observer.observe(page).lines
            marker = f"[{page.get_attribute(selector, ID_ATTRIBUTE)}] "
            shown = next((line.strip() for line in lines if marker in line), "(no id)")
            print(f"{path:16} {selector:18} Chromium: {chromium_says(page, selector):24} observation: {shown}")
        browser.close()


if __name__ == "__main__":
    main()
