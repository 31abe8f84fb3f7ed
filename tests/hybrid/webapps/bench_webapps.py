"""Figures for the real-app test bed: per app, tasks passed / total through the full agent with scripted
replies; observation against rendered HTML per page the tasks visited; median latency per browser action.

Run: .venv/bin/python tests/hybrid/webapps/bench_webapps.py [--app django-admin|jupyterlab]

Every task runs, those known to wait for a missing feature too. Latency is each `browser.*` call as the
run recorded it (through the capability bridge and the policy); each task's first call also starts Chromium.
Sizes are characters: the observation without its URL/title header against the page's serialised DOM,
both taken on a fresh visit to the page's URL once their size stops changing (single-page apps render
long after the load event).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

sys.path.insert(0, str(Path(__file__).parents[1]))  # tests/hybrid, where `webapps` is a package

from webapps.bed import Outcome, reset, run_task
from webapps.servers import DjangoLibrary, JupyterLab, django_library, jupyter_lab
from webapps.tasks import DJANGO, JUPYTERLAB, WebTask

from hybrid.config import Settings, find_chromium
from sandbox.browser import DEFAULT_ARGS, BrowserService, SiteLogin

App = DjangoLibrary | JupyterLab
APPS: dict[str, tuple[list[WebTask], Callable[[], AbstractContextManager[App]]]] = {
    "django-admin": (DJANGO, django_library),
    "jupyterlab": (JUPYTERLAB, jupyter_lab),
}
# In a call's record, the start of its result's repr: a page's report begins with "URL: ..." or "URL changed
# to ...".
SETTLE_SECONDS = 20  # at most, for a page's size to stop changing
POLL_SECONDS = 1.0
STABLE_READS = 3
PAGE_URL = re.compile(r"URL(?: changed to|:) (https?://[^\s\\']+)")


def run_tasks(name: str, tasks: list[WebTask], app: App, root: Path) -> list[Outcome]:
    outcomes = []
    print(f"\n{name}: tasks through the full agent, scripted replies")
    for index, task in enumerate(tasks):
        data = root / name / str(index)
        settings = Settings(
            data_dir=data / "data", database_url=f"sqlite:///{data / 'hybrid.db'}", action_timeout_seconds=30
        )
        started = time.perf_counter()
        outcome = run_task(task, app, settings)
        outcomes.append(outcome)
        verdict = "passed" if outcome.passed else "FAILED"
        print(
            f"  {verdict:7} {time.perf_counter() - started:6.1f} s  {task.name}"
            + ("" if outcome.passed else f"\n            {outcome.judged[:150]}")
        )
    passed = sum(outcome.passed for outcome in outcomes)
    print(f"{name}: {passed} / {len(outcomes)} tasks passed")
    return outcomes


def visited_pages(outcomes: list[Outcome]) -> list[str]:
    """The pages the runs were on, in order of first visit, without the lab's sign-in token."""
    urls = [
        url.split("?token=")[0]
        for outcome in outcomes
        for call in outcome.browser_calls
        for url in PAGE_URL.findall(call.result or "")
    ]
    return list(dict.fromkeys(urls))


def signed_in_service(app: App) -> BrowserService:
    if isinstance(app, DjangoLibrary):
        service = BrowserService(
            find_chromium(), credentials={"library": SiteLogin(app.login_url, app.username, app.password)}.get
        )
        service.login("library")
    else:
        service = BrowserService(find_chromium())
        service.goto(app.lab_url)
    return service


def settled(read: Callable[[], str], ready: Callable[[str], bool] = bool) -> str:
    """`read()` once it is `ready` and STABLE_READS reads a poll apart have the same size, or at the deadline
    (a single-page app's splash screen can stay the same for a while before the app renders)."""
    deadline = time.monotonic() + SETTLE_SECONDS
    sizes: list[int] = []
    while True:
        now = read()
        sizes = [*sizes, len(now)][-STABLE_READS:] if ready(now) else []
        if (len(sizes) == STABLE_READS and len(set(sizes)) == 1) or time.monotonic() > deadline:
            return now
        time.sleep(POLL_SECONDS)


def measure_pages(app: App, urls: list[str], chromium: Browser) -> None:
    reset(app)
    print(f"{'page':58} {'HTML':>8} {'observe':>8} {'obs/HTML':>9} {'elements':>9}")
    service = signed_in_service(app)
    context = chromium.new_context()
    try:
        for url in urls:
            context.add_cookies(
                [
                    {key: cookie[key] for key in ("name", "value", "domain", "path")}
                    for cookie in service.cookies(url)
                ]
            )
            page = context.new_page()
            page.goto(url, wait_until="networkidle")
            html = settled(page.content)
            page.close()
            service.goto(url)
            observation = settled(service.observe, lambda text: "] " in text).split("\n\n", 1)[-1]
            elements = len(re.findall(r"\[\d+\] ", observation))
            label = url.split("://", 1)[1].split("/", 1)[1]
            print(
                f"/{label[:57]:57} {len(html):8} {len(observation):8} {len(observation) / len(html):9.3f} "
                f"{elements:9}"
            )
    finally:
        context.close()
        service.close()


def latencies(outcomes: list[Outcome]) -> None:
    by_method: dict[str, list[float]] = defaultdict(list)
    for outcome in outcomes:
        for call in outcome.browser_calls:
            by_method[call.method].append(call.latency_ms)
    print(f"{'browser action':18} {'calls':>6} {'median ms':>10} {'max ms':>8}")
    for method, samples in sorted(by_method.items()):
        print(f"{method:18} {len(samples):6} {statistics.median(samples):10.1f} {max(samples):8.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--app", choices=sorted(APPS), action="append", help="only this app (repeatable)")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hybrid-bench-webapps-") as temp, sync_playwright() as playwright:
        root = Path(temp)
        for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME"):
            os.environ[name] = str(root / "user" / name.lower())  # nothing of the user's own dirs
        chromium = playwright.chromium.launch(executable_path=str(find_chromium()), args=list(DEFAULT_ARGS))
        for name in arguments.app or APPS:
            tasks, start = APPS[name]
            started = time.perf_counter()
            with start() as app:
                print(f"\n{name} started in {time.perf_counter() - started:.1f} s at {app.base_url}")
                outcomes = run_tasks(name, tasks, app, root)
                print(f"\n{name}: observation against rendered HTML, per page the tasks visited")
                measure_pages(app, visited_pages(outcomes), chromium)
                print(f"\n{name}: latency per browser action, over every task's calls")
                latencies(outcomes)
        chromium.close()


if __name__ == "__main__":
    main()
