"""Figures for the widget bed: per library, tasks passed through the full agent (scripted replies); per page,
the observation's size against the page's HTML; per browser action, its median latency in those runs.

Run: .venv/bin/python tests/hybrid/widgets/bench_widgets.py [--library NAME ...]

"HTML" is the rendered document (document.documentElement.outerHTML once the page has loaded and its
scripts have run; the served HTML of the React pages is an empty shell), "body" its <body> alone (antd and
MUI put their CSS in <style> elements of the head), "observe" the observation without its URL/title header,
all in characters; shadow DOMs (Shoelace's) are in neither.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

from playwright.sync_api import sync_playwright

sys.path.insert(0, str(Path(__file__).parent))

from widget_bed import WidgetBed
from widget_runs import BrowserCall, register_bed, run_task
from widget_tasks import LIBRARIES, TASKS

from hybrid.config import Settings, find_chromium
from sandbox.browser import DEFAULT_ARGS, BrowserService


def rendered_html(bed: WidgetBed, pages: list[str]) -> dict[str, tuple[int, int]]:
    """The size of each page's document, and of its body, after its scripts ran, read by a Chromium of its
    own."""
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(find_chromium()), args=list(DEFAULT_ARGS))
        tab = chromium.new_page()
        sizes = {}
        for page in pages:
            tab.goto(bed.url(page), wait_until="networkidle")
            sizes[page] = tuple(
                tab.evaluate("[document.documentElement.outerHTML.length, document.body.outerHTML.length]")
            )
        chromium.close()
    return sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", nargs="*", choices=LIBRARIES, default=LIBRARIES)
    libraries = parser.parse_args().library
    tasks = [task for task in TASKS if task.library in libraries]
    pages = list(dict.fromkeys(task.page for task in tasks))
    with (
        tempfile.TemporaryDirectory(prefix="bench-widgets-") as scratch,
        WidgetBed() as bed,
        BrowserService(find_chromium(), screenshot_dir=Path(scratch) / "screenshots") as browser,
    ):
        settings = Settings(
            data_dir=Path(scratch) / "data",
            database_url=f"sqlite:///{scratch}/hybrid.db",
            action_timeout_seconds=30,
        )
        register_bed(settings, bed)

        html = rendered_html(bed, pages)
        print("Observation size against the rendered HTML (characters)")
        print(f"{'page':14} {'HTML':>8} {'body':>8} {'observe':>8} {'obs/HTML':>9} {'obs/body':>9}")
        for page in pages:
            observation = browser.goto(bed.url(page)).split("\n\n", 1)[-1]
            document, body = html[page]
            print(
                f"{page:14} {document:8} {body:8} {len(observation):8} {len(observation) / document:9.3f} "
                f"{len(observation) / body:9.3f}"
            )

        passed: dict[str, list[bool]] = defaultdict(list)
        calls: list[BrowserCall] = []
        failures = []
        for task in tasks:
            run = run_task(task, settings, bed, browser)
            got = task.observe(bed)
            passed[task.library].append(run.result.status == "finished" and got == task.want)
            calls += run.calls
            if not passed[task.library][-1]:
                met = run.errors[0].splitlines()[0][:300] if run.errors else "no error raised"
                failures.append(f"{task.id}\n    {met}; the server got {got!r}, not {task.want!r}")

        print("\nTasks passed through the agent (scripted replies)")
        for library in libraries:
            print(f"{library:14} {sum(passed[library]):3} / {len(passed[library])}")
        total = [ok for oks in passed.values() for ok in oks]
        print(f"{'all':14} {sum(total):3} / {len(total)}")

        by_action: dict[str, list[float]] = defaultdict(list)
        for call in calls:
            by_action[call.action].append(call.latency_ms)
        print("\nLatency per browser action in those runs, ms (median, max, calls; all outcomes)")
        for action, samples in sorted(by_action.items()):
            print(f"{action:16} {statistics.median(samples):8.1f} {max(samples):8.1f} {len(samples):6}")

        if failures:
            print("\nFailed tasks, with the first error each met")
            print("\n".join(failures))


if __name__ == "__main__":
    main()
