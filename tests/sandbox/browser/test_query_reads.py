"""The browser's own requests that only query are reads, by the rules API calls use: a search form that
POSTs to /search, a single-page app's `POST .../filter`, and a POST the site's spec marks read go out under
read-only; a POST that writes is still held and refused."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.browser import WriteRefused
from sandbox.browser.registry import BrowserCall

pytestmark = pytest.mark.browser

PAGE = """<title>Shop</title>
<form method="post" action="/search"><input name="q" aria-label="Query"><button>Search</button></form>
<form method="post" action="/items"><input name="title" aria-label="Title"><button>Add</button></form>
<button onclick="fetch('/api/flow_runs/filter', {method: 'POST', body: '{}'})">Filter runs</button>
<button onclick="fetch('/api/things/7/lookup', {method: 'POST', body: '{}'})">Look up</button>
<button onclick="fetch('/api/things', {method: 'POST', body: '{}'})">Make a thing</button>
"""


class Shop:
    """A page with query-only POSTs beside writing ones; keeps the (method, path) of each request."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []
        shop = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                self._answer(PAGE)

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._answer("<title>Results</title><p>3 results</p>")

            def _answer(self, html: str) -> None:
                shop.requests.append((self.command, self.path))
                body = html.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def posts(self) -> list[str]:
        return [path for method, path in self.requests if method == "POST"]


@pytest.fixture
def shop() -> Iterator[Shop]:
    served = Shop()
    yield served
    served.server.shutdown()
    served.server.server_close()


def test_query_only_posts_are_reads_under_read_only(make_service, shop: Shop) -> None:
    asked: list[dict] = []

    def read_only(write: BrowserCall) -> bool:
        asked.append(write)
        return False

    browser = make_service(origins=[shop.url], before_write=read_only)
    browser.mark_reads([("POST", shop.url + "/api/things/{id}/lookup")])
    browser.goto(shop.url + "/")
    search, add = browser.find("button", "Search"), browser.find("button", "Add")
    assert browser.classify("click", [search]).effect.writes is False
    assert browser.classify("click", [add]).effect.writes is True
    for name in ("Filter runs", "Look up", "Make a thing"):
        browser.click(browser.find("button", name))
    browser.observe()
    with pytest.raises(WriteRefused):
        browser.click(add)
    browser.fill(browser.find("textbox", "Query"), "lamp")
    shown = browser.press("Enter", browser.find("textbox", "Query"))
    assert "3 results" in shown
    assert sorted(shop.posts()) == ["/api/flow_runs/filter", "/api/things/7/lookup", "/search"]
    # Only the writes were put to the policy (and refused): the new thing and the form that adds one.
    held = {write.args[-1] for write in asked if write.method == "request"}
    assert held == {shop.url + "/api/things"}


def test_the_requests_pages_sent_are_taken_once(make_service, shop: Shop) -> None:
    """The host reads which requests the pages sent (to learn the API operations they called), each once."""
    browser = make_service(origins=[shop.url], before_write=lambda write: False)
    browser.goto(shop.url + "/")
    browser.click(browser.find("button", "Filter runs"))
    browser.click(browser.find("button", "Make a thing"))  # held, and refused by the policy
    browser.observe()
    sent = browser.take_requests()
    assert ("GET", shop.url + "/") in sent and ("POST", shop.url + "/api/flow_runs/filter") in sent
    assert ("POST", shop.url + "/api/things") not in sent  # a request refused was never answered
    assert browser.take_requests() == []
