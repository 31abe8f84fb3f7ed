"""Figures for the WebArena-Infinity bed, per app: tasks passed through the full agent (scripted replies,
judged by each task's verifier), code steps, the observation of the app's start page against its HTML, and
characters per browser action's text result.

Run: .venv/bin/python tests/hybrid/infinity/bench_infinity.py [--app NAME ...]

"HTML" is the start page's document as drawn (document.documentElement.outerHTML once its scripts ran; the
served index.html is a shell the app fills in), and "served" that shell; "observe" is the observation
without its URL/title header. All in characters.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parent))

from bed import AppServer
from runs import run_task
from tasks import IMPOSSIBLE, LANDED, tasks

from hybrid.config import Settings, find_chromium
from sandbox.browser import DEFAULT_ARGS, BrowserService, Timeouts


def page_sizes(app: str, browser: BrowserService) -> tuple[int, int, int]:
    """(served HTML, drawn HTML, observation) of the app's start page, on a fresh copy of the app."""
    server = AppServer(app)
    try:
        served = len((server.directory / "index.html").read_text(encoding="utf-8"))
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(find_chromium()), args=list(DEFAULT_ARGS)
            )
            tab = chromium.new_page()
            tab.goto(server.url + "/", wait_until="load")
            tab.wait_for_timeout(1000)  # the app draws its page after loading its data
            drawn = tab.evaluate("document.documentElement.outerHTML.length")
            chromium.close()
        browser.restrict([server.url])
        observed = browser.goto(server.url + "/").split("\n\n", 1)[1]
    finally:
        server.close()
    return served, drawn, len(observed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", nargs="*", default=list(LANDED))
    apps = parser.parse_args().app
    browser = BrowserService(
        str(find_chromium()), timeouts=Timeouts(navigation=20, settle=5, action=5, wait=10)
    )
    print(
        "| app | tasks passed | shown impossible "
        "| code steps (mean) | start page: served / drawn HTML / observe | observe/HTML "
        "| chars per action report (median, max) |"
    )
    print("|---|---|---|---|---|---|---|")
    try:
        for app in apps:
            runs = []
            for task in tasks((app,)):
                with tempfile.TemporaryDirectory() as data:
                    settings = Settings(data_dir=Path(data), action_timeout_seconds=60)
                    runs.append(run_task(task, settings, browser))
                    if not runs[-1].passed:
                        print(f"  {task.name} failed: {runs[-1].verdict}", file=sys.stderr)
            served, drawn, observed = page_sizes(app, browser)
            reports = [size for run in runs for size in run.reports]
            print(
                f"| {app} | {sum(run.passed for run in runs)}/{len(runs)} "
                f"| {sum(name.startswith(app + '/') for name in IMPOSSIBLE)} "
                f"| {statistics.mean(run.steps for run in runs):.1f} | {served} / {drawn} / {observed} "
                f"| {observed / drawn:.2f} | {statistics.median(reports):.0f}, {max(reports)} |"
            )
    finally:
        browser.close()


if __name__ == "__main__":
    main()
