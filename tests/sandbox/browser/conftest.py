"""Fixtures for the browser service: services on the system Chromium, and a tiny server of odd pages.

The odd pages (dialogs, iframes, slow and never-finishing pages...) are served here rather than
added to the demo site, which stays a realistic product.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from hybrid.config import find_chromium
from hybrid.demo import DemoSite
from sandbox.browser import BrowserService, SiteLogin, Timeouts

FAST = Timeouts(navigation=5.0, settle=2.0, action=2.0, wait=3.0)

LIST_ITEMS = "".join(f"<li>Item {n}</li>" for n in range(1, 101))
PAGES = {
    "/dialog": """<title>Dialog</title><h1>Dialogs</h1>
        <button onclick="document.getElementById('out').textContent =
          confirm('Delete everything?') ? 'confirmed' : 'cancelled'">Delete</button>
        <p id="out">nothing yet</p>""",
    "/frames": """<title>Frames</title><h1>Checkout</h1>
        <iframe title="Payment" src="http://localhost:{port}/inner"></iframe>""",
    "/inner": """<h2>Card details</h2><label for="n">Card number</label><input id="n">
        <button onclick="document.getElementById('r').textContent = 'Paid with ' +
          document.getElementById('n').value">Pay</button><p id="r"></p>""",
    "/slow": "<title>Slow</title><p>Finally here</p>",
    "/late": """<title>Late</title><p id="s">Working</p><button id="dl" disabled>Download</button>
        <script>setTimeout(() => {
          document.getElementById('s').textContent = 'Report ready';
          document.getElementById('dl').disabled = false;
        }, 800)</script>""",
    "/widgets": f"""<title>Widgets</title><h1>Widgets</h1>
        <button style="display:none">Ghost</button>
        <div aria-hidden="true"><button>Decor</button></div>
        <table role="presentation"><tr><td>Laid out with a table</td></tr></table>
        <button disabled>Locked</button>
        <button onclick="this.remove()">Vanish</button>
        <button onclick="document.getElementById('menu').hidden = false">Open menu</button>
        <button onclick="document.getElementById('menu').hidden = true">Close menu</button>
        <div id="menu" hidden><a href="/widgets#chosen">Menu item</a></div>
        <label>Password <input type="password" value="hunter2"></label>
        <label><input type="checkbox" checked> Remember me</label>
        <input type="hidden" name="csrf" value="csrf-token-value">
        <button>Twin</button><button>Twin</button>
        <ul>{LIST_ITEMS}</ul>""",
    "/popup": """<title>Popup</title><a href="/slow" target="_blank">Open in new tab</a>""",
    "/script-post": """<title>Script</title><button type="button" onclick="fetch('/ping', {method: 'POST'})
          .then(r => document.getElementById('r').textContent = 'sent ' + r.status,
                () => document.getElementById('r').textContent = 'request failed')">Ping</button>
        <p id="r">idle</p>""",
    "/table-form": """<title>Table form</title><table>
        <tr><th>Field</th><th>Value</th></tr>
        <tr><td><label for="u">Username</label></td><td><input id="u"></td></tr>
        <tr><td>Newsletter</td><td><label><input type="checkbox"> Email me about updates</label></td></tr>
        <tr><td>Access</td><td><input type="radio" name="a" aria-label="Read"><input type="radio" name="a"
          aria-label="Write"></td></tr>
        <tr><td>Team</td><td><input type="checkbox" aria-label="Include team alpha"></td></tr></table>""",
    "/escaped": """<title>Escaped</title><a href="/find?q=caf%C3%A9%2C%20bar&amp;and=%26&amp;bad=%FF">Find</a>
        <a href="/files/a%5Cb?zw=a%E2%80%8Bb&amp;nb=%C2%A0">File</a>""",
    "/first": """<title>First</title><a href="/second">Second page</a>""",
    "/second": """<title>Second</title><h1>Second page</h1><a href="/first">First page</a>""",
}
SLOW_SECONDS = 1.5


class OddPages:
    def __init__(self) -> None:
        self.release = threading.Event()  # lets hanging responses end when the tests are done
        pages = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                self._send(200, "pong")

            def do_GET(self) -> None:
                path = self.path.split("#")[0].split("?")[0]
                if path == "/silent":  # accepts the connection, never answers
                    pages.release.wait()
                    return
                if path == "/never":  # starts the page, never finishes it
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.end_headers()
                    self.wfile.write(b"<title>Never</title><h1>Partial content</h1><p>More is coming")
                    self.wfile.flush()
                    pages.release.wait()
                    return
                if path == "/slow":
                    time.sleep(SLOW_SECONDS)
                html = PAGES.get(path)
                if html is None:
                    self._send(404, "<title>Not found</title><p>No such page</p>")
                else:
                    self._send(200, html.replace("{port}", str(self.server.server_address[1])))

            def _send(self, status: int, html: str) -> None:
                body = html.encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def pages() -> Iterator[OddPages]:
    served = OddPages()
    yield served
    served.close()


@pytest.fixture(scope="session")
def executable() -> str:
    found = find_chromium()
    if found is None:
        pytest.fail("No Chromium found: run ./install.sh, which installs Debian's chromium package.")
    return str(found)


@pytest.fixture
def make_service(executable: str) -> Iterator[Callable[..., BrowserService]]:
    """Build services (closed at the end of the test); keyword arguments go to BrowserService."""
    made: list[BrowserService] = []

    def make(**options) -> BrowserService:
        options.setdefault("timeouts", FAST)
        service = BrowserService(executable, **options)
        made.append(service)
        return service

    yield make
    for service in made:
        service.close()


@pytest.fixture
def browser(make_service) -> BrowserService:
    return make_service()


def demo_credentials(site: DemoSite, username: str = "alice", password: str | None = None):
    logins = {"demo": SiteLogin(f"{site.base_url}/login", username, password or site.password)}
    return logins.get


@pytest.fixture
def alice(make_service, demo: DemoSite) -> BrowserService:
    """A service signed in to the demo site as alice."""
    service = make_service(credentials=demo_credentials(demo))
    service.login("demo")
    return service
