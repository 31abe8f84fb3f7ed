"""Figures for the browser service on the demo site: observation size against HTML, and action latency.

Run: .venv/bin/python tests/sandbox/browser/bench_browser.py [--repeat N] [--as-run] [--saved PAGE.html ...]

Sizes are characters without the observation's URL/title header. "text" is the page's readable text;
"floor" adds the hrefs of the links shown: about the least any observation can be that keeps the page's
text and where its links go, before ids or roles. `--saved` also measures pages saved from other sites,
each served on 127.0.0.1 from its own folder (so its stylesheets and scripts load); `--live` measures
pages of another site running on this machine, e.g. Roundup's demo tracker (in a separate venv:
`pip install roundup`, then as a non-root user `roundup-demo -B 127.0.0.1 -p 8917 -t devel DIR`, add
bugs with `roundup-admin -i DIR create bug title=...`, and pass `--login http://localhost:8917/demo/
admin admin --live http://localhost:8917/demo/bug ...`; Roundup refuses requests whose origin differs
from its configured `localhost` address).
"""

from __future__ import annotations

import argparse
import functools
import os
import re
import signal
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from hybrid.config import find_chromium
from hybrid.demo import demo_site
from sandbox.browser import BrowserService, SiteLogin

PAGES = [
    ("projects list", "/projects"),
    ("issues list", "/alice/tracker-core/issues"),
    ("issues list, filtered", "/alice/tracker-core/issues?state=all&label=bug"),
    ("activity report", "/alice/tracker-core/activity"),
    ("members", "/alice/tracker-core/members"),
    ("milestones", "/alice/tracker-core/milestones"),
    ("project", "/alice/tracker-core"),
    ("issue", "/alice/tracker-core/issues/3"),
    ("issue edit form", "/alice/tracker-core/issues/3/edit"),
    ("settings", "/alice/docs-site/settings"),
    ("profile edit", "/profile/edit"),
]


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples), max(samples)


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


HEADER = (
    f"{'page':28} {'HTML':>7} {'text':>6} {'floor':>6} {'observe':>8} {'obs/HTML':>9} {'text/HTML':>10} "
    f"{'floor/HTML':>11} {'elements':>9}"
)


def measure(browser: BrowserService, label: str, url: str, html: str) -> None:
    browser.goto(url)
    observation = browser.observe().split("\n\n", 1)[1]  # without the URL/title header
    text = browser.text().split("\n\n", 1)[1]
    floor = len(text) + sum(len(href) for href in re.findall(r" -> (\S+)", observation))
    elements = len(re.findall(r"\[\d+\] ", observation))
    print(
        f"{label[:28]:28} {len(html):7} {len(text):6} {floor:6} {len(observation):8} "
        f"{len(observation) / len(html):9.2f} {len(text) / len(html):10.2f} {floor / len(html):11.2f} "
        f"{elements:9}"
    )


def measure_saved(browser: BrowserService, files: list[Path]) -> None:
    if not files:
        return
    print("\nPages saved from other sites")
    print(HEADER)
    with ExitStack() as stack:
        for file in files:
            base = stack.enter_context(serve_folder(file.parent))
            html = file.read_text(encoding="utf-8", errors="replace")
            measure(browser, f"{file.parent.name}/{file.name}", f"{base}/{file.name}", html)


def measure_live(browser: BrowserService, urls: list[str], login: list[str] | None) -> None:
    if not urls:
        return
    if login:
        browser.login("live")
    print("\nPages of a site running elsewhere on this machine")
    print(HEADER)
    for url in urls:
        cookies = {c["name"]: c["value"] for c in browser.cookies(url)}
        measure(
            browser,
            url.split("://", 1)[-1].split("/", 1)[-1] or url,
            url,
            httpx.get(url, cookies=cookies, follow_redirects=True).text,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument(
        "--saved",
        type=Path,
        nargs="*",
        default=[],
        metavar="PAGE.html",
        help="also measure these saved pages",
    )
    parser.add_argument(
        "--live",
        nargs="*",
        default=[],
        metavar="URL",
        help="also measure these pages of a site served on this machine, e.g. a Roundup tracker",
    )
    parser.add_argument(
        "--login",
        nargs=3,
        metavar=("LOGIN_URL", "USERNAME", "PASSWORD"),
        help="sign in to the --live site first (a local demo's account)",
    )
    parser.add_argument(
        "--as-run",
        action="store_true",
        help="set up the browser as a run's: reaching only the demo's origin (and the --live "
        "site's), every write put to a policy (here one that allows all)",
    )
    arguments = parser.parse_args()
    if arguments.as_run and arguments.saved:
        parser.error("--saved pages are served on ports of their own, which a run's browser may not reach")
    if arguments.login and not arguments.live:
        parser.error("--login signs in to the --live site: give the pages to measure with --live")
    repeat = arguments.repeat
    with demo_site() as site:
        credentials = {
            "demo": SiteLogin(f"{site.base_url}/login", "alice", site.password),
            **({"live": SiteLogin(*arguments.login)} if arguments.login else {}),
        }.get
        started = time.perf_counter()
        guard = (
            {
                "origins": [site.base_url, *arguments.live, *(arguments.login or [])[:1]],
                "before_write": lambda write: True,
            }
            if arguments.as_run
            else {}
        )
        browser = BrowserService(find_chromium(), credentials=credentials, **guard)
        browser.login("demo")
        launch_and_login = (time.perf_counter() - started) * 1000
        cookies = {c["name"]: c["value"] for c in browser.cookies(site.base_url)}

        print("Observation size against the page's HTML (characters)")
        print(HEADER)
        for label, path in PAGES:
            measure(
                browser, label, site.base_url + path, httpx.get(site.base_url + path, cookies=cookies).text
            )

        print(f"\nLatency per action, ms (median and max of {repeat}; demo site on 127.0.0.1)")
        print(f"{'launch + login (once)':34} {launch_and_login:8.1f}")

        def show(label: str, action: Callable[[], object]) -> None:
            median, worst = timed(action, repeat)
            print(f"{label:34} {median:8.1f} {worst:8.1f}")

        show("goto issues list", lambda: browser.goto("/alice/tracker-core/issues"))
        show("observe issues list", browser.observe)
        show("find(role, name)", lambda: browser.find("link", "Next page"))
        show("text()", browser.text)
        box = browser.find("checkbox", "Select issue #229")
        show("check + uncheck (same page)", lambda: (browser.check(box), browser.check(box, False)))
        browser.goto("/alice/tracker-core/issues/3/edit")
        title, assignee = browser.find("textbox", "Title"), browser.find("combobox", "Assignee")
        show("fill (same page)", lambda: browser.fill(title, "Keyboard shortcuts"))
        show("select (same page)", lambda: browser.select(assignee, "carol"))

        def next_and_back() -> None:
            browser.click(browser.find("link", "Next page"))
            browser.back()

        browser.goto("/alice/tracker-core/issues")
        show("click link + back (new pages)", next_and_back)

        def submit_comment() -> None:
            browser.fill(browser.find("textbox", "Comment"), "benchmark")
            browser.click(browser.find("button", "Add comment"))

        browser.goto("/alice/tracker-core/issues/4")
        show("find+fill+find+click form submit", submit_comment)
        os.kill(browser.process_id(), signal.SIGKILL)
        started = time.perf_counter()
        browser.observe()
        print(f"{'restart after a crash (once)':34} {(time.perf_counter() - started) * 1000:8.1f}")
        measure_saved(browser, arguments.saved)
        measure_live(browser, arguments.live, arguments.login)
        browser.close()


if __name__ == "__main__":
    main()
