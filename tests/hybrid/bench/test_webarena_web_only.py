"""WebArena's sites that have no API (reddit, map, wikipedia) run as web-only sites at the user's hosts: two
configs of test.raw.json as published (27 on reddit, signed in from its storage_state file; 9 on map, which
names none) against local pages at those hosts, with scripted replies per task."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import apis
from hybrid.bench.runner import BenchOptions, run_benchmark
from hybrid.config import Settings
from workflows.store import RunStore

pytestmark = [pytest.mark.kernel, pytest.mark.browser]

TEST_RAW = (
    Path(__file__).parents[2] / "fixtures" / "benchmarks" / "webarena" / "config_files" / "test.raw.json"
)
SESSION = "reddit_session=signed-in"
AIRPORT = (
    "Pittsburgh International Airport, Southern Beltway, Findlay Township, Allegheny County, 15231, "
    "United States"
)
PAGES = {
    "reddit": {
        "/": '<h1>Postmill</h1><a href="/f/Showerthoughts">Showerthoughts</a>',
        "/f/Showerthoughts": (
            "<h1>Showerthoughts</h1><article><h2>Sleep is a free trial of death</h2>"
            'submitted by <a href="/user/Sorkill">Sorkill</a></article>'
        ),
        "/user/Sorkill": (
            "<h1>Sorkill</h1><h2>Comments</h2><ul><li>Upvotes 12, downvotes 3: Well put.</li>"
            "<li>Upvotes 4, downvotes 4: Not quite.</li></ul>"
        ),
    },
    "map": {"/": f"<h1>OpenStreetMap</h1><p>Search results</p><ul><li>{AIRPORT}</li></ul>"},
}
REPLIES = {
    27: [
        "print(browser.goto('/f/Showerthoughts'))",
        "print(browser.goto('/user/Sorkill'))",
        "finish('0')",  # no comment has more downvotes than upvotes
    ],
    9: ["print(browser.text())", f"finish({AIRPORT!r})"],
}


def _serve(site: str) -> ThreadingHTTPServer:
    class Page(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            signed_in = site != "reddit" or SESSION in (self.headers.get("Cookie") or "")
            body = PAGES[site].get(self.path) if signed_in else "<h1>Log in</h1>"
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(f"<html><body>{body or 'Not found'}</body></html>".encode())

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def hosts() -> Iterator[dict[str, str]]:
    servers = {site: _serve(site) for site in PAGES}
    yield {site: f"http://127.0.0.1:{server.server_address[1]}" for site, server in servers.items()}
    for server in servers.values():
        server.shutdown()
        server.server_close()


def test_reddit_and_map_run_as_web_only_sites_at_the_users_hosts(
    settings: Settings, tmp_path: Path, hosts: dict[str, str]
) -> None:
    configs = [task for task in json.loads(TEST_RAW.read_text()) if task["task_id"] in REPLIES]
    suite = tmp_path / "web-only.json"
    suite.write_text(json.dumps(configs))
    auth = tmp_path / "auth"
    auth.mkdir()
    name, value = SESSION.split("=")
    cookie = {"name": name, "value": value, "domain": "127.0.0.1", "path": "/", "expires": -1}
    cookie |= {"httpOnly": False, "secure": False, "sameSite": "Lax"}
    (auth / "reddit_state.json").write_text(json.dumps({"cookies": [cookie], "origins": []}))
    hosts_file = tmp_path / "hosts.toml"
    hosts_file.write_text(
        'auth_dir = "auth"\n' + "".join(f'\n[{site}]\nurl = "{url}"\n' for site, url in hosts.items())
    )
    replies = tmp_path / "replies"
    replies.mkdir()
    for task_id, steps in REPLIES.items():
        script = [f"Thought: step {i + 1}.\n```python\n{code}\n```\n" for i, code in enumerate(steps)]
        (replies / f"{task_id}.json").write_text(json.dumps(script))
    options = BenchOptions(model=f"scripted:{replies}", suite=str(suite), hosts_file=hosts_file)
    report = run_benchmark(settings, options)
    results = {r.task_id: r for r in report.results}
    assert {task_id: (r.passed, r.error, r.failures) for task_id, r in results.items()} == {
        27: (True, None, []),
        9: (True, None, []),
    }
    assert report.refused == [] and {r.category for r in results.values()} == {"reddit", "map"}
    store = RunStore(settings.effective_database_url)
    seen = "\n".join(step.observation for step in store.steps_of(results[27].run_id))
    assert "Upvotes 4, downvotes 4" in seen  # signed in from the storage_state file: the page shows
    worker = apis.SiteRegistry(settings.data_dir / "bench" / "workers" / "main")
    assert {site: (worker.get(site).spec, worker.get(site).web_url) for site in hosts} == {
        site: (None, url) for site, url in hosts.items()
    }
