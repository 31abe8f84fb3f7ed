"""Figures for same-page browser actions (fill, check, select, press) through the browser service, beside
Playwright doing the same action on the same page followed by its own `aria_snapshot()` of the page, in
the same run (the service's action includes waiting for the page to be ready and reporting what changed).

Run: .venv/bin/python tests/sandbox/browser/bench_actions.py [--repeat N]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import time
from collections.abc import Callable

from playwright.sync_api import sync_playwright

from hybrid.config import find_chromium
from hybrid.demo import demo_site
from sandbox.browser import DEFAULT_ARGS, BrowserService, SiteLogin

ISSUES, EDIT = "/alice/tracker-core/issues", "/alice/tracker-core/issues/3/edit"


def median_ms(action: Callable[[], object], repeat: int) -> float:
    action()  # the first of each is not typical (code paths warming up)
    samples = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    repeat = parser.parse_args().repeat
    chromium = str(find_chromium())
    with demo_site() as site:
        login = SiteLogin(f"{site.base_url}/login", "alice", site.password)
        browser = BrowserService(chromium, credentials={"demo": login}.get)
        browser.login("demo")
        cookies = browser.cookies(site.base_url)
        ours: dict[str, float] = {}
        browser.goto(ISSUES)
        box = browser.find("checkbox", "Select issue #229")
        ticks = itertools.cycle([False, True])  # each time the other way, so that every check changes it
        ours["check"] = median_ms(lambda: browser.check(box, next(ticks)), repeat)
        browser.goto(EDIT)
        title, assignee = browser.find("textbox", "Title"), browser.find("combobox", "Assignee")
        ours["fill"] = median_ms(lambda: browser.fill(title, "Keyboard shortcuts"), repeat)
        ours["select"] = median_ms(lambda: browser.select(assignee, "carol"), repeat)
        ours["press"] = median_ms(lambda: browser.press("End", title), repeat)
        browser.close()

        with sync_playwright() as playwright:
            reference = playwright.chromium.launch(executable_path=chromium, args=list(DEFAULT_ARGS))
            context = reference.new_context(base_url=site.base_url)
            context.add_cookies(cookies)
            page = context.new_page()
            body = page.locator("body")
            theirs: dict[str, float] = {}
            page.goto(ISSUES)
            checkbox = page.get_by_role("checkbox", name="Select issue #229")
            ticks = itertools.cycle([False, True])
            theirs["check"] = median_ms(
                lambda: (checkbox.set_checked(next(ticks)), body.aria_snapshot()), repeat
            )
            page.goto(EDIT)
            field, menu = (
                page.get_by_role("textbox", name="Title"),
                page.get_by_role("combobox", name="Assignee"),
            )
            theirs["fill"] = median_ms(
                lambda: (field.fill("Keyboard shortcuts"), body.aria_snapshot()), repeat
            )
            theirs["select"] = median_ms(
                lambda: (menu.select_option(label="carol"), body.aria_snapshot()), repeat
            )
            theirs["press"] = median_ms(lambda: (field.press("End"), body.aria_snapshot()), repeat)
            reference.close()
    print(f"same-page action, ms (median of {repeat})   service   Playwright + aria_snapshot   ratio")
    for name in ("fill", "check", "select", "press"):
        print(f"{name:<38} {ours[name]:>7.1f}   {theirs[name]:>26.1f}   {ours[name] / theirs[name]:>5.1f}x")


if __name__ == "__main__":
    main()
