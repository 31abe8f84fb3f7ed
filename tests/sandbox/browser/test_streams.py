"""A page that keeps an event stream open with fetch() is ready once the page is: the stream is not waited
for (EventSource streams never were). Nor is a long poll, a fetch or XHR the server holds open until it has
news (then the page asks again): once it has been open a while with the page otherwise ready, it and later
requests to the same address are not waited for, and that is told once. A request that only takes a moment
is still waited for."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sandbox.browser import Timeouts
from tests.waits import scaled

pytestmark = pytest.mark.browser

POLL_SECONDS = 60

# Polls /poll again each time it answers (with a new cursor), by XHR or by fetch; "Load" fetches /slow, which
# answers in half a second.
POLL_PAGE = """<title>Feed</title><p id="news">no news</p><p id="loaded"></p><button id="load">Load</button>
<script>
let cursor = 0;
function poll() {
  const url = "/poll?since=" + cursor;
  const shown = (text) => { cursor += 1; document.getElementById("news").textContent = text; poll(); };
  if (USE_FETCH) fetch(url).then((r) => r.text()).then(shown);
  else {
    const x = new XMLHttpRequest();
    x.open("GET", url);
    x.onload = () => shown(x.responseText);
    x.send();
  }
}
poll();
document.getElementById("load").onclick = () => fetch("/slow").then((r) => r.text())
  .then((t) => { document.getElementById("loaded").textContent = t; });
</script>"""

PAGE = b"""<title>Live</title><p id="state">waiting</p><script>
fetch("/stream").then(async (response) => {
  const reader = response.body.getReader();
  await reader.read();
  document.getElementById("state").textContent = "connected";
});</script>"""


@pytest.fixture
def site() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            if self.path.startswith(("/poll", "/slow")):
                # A long poll answers when it has news: here, only after a long wait.
                time.sleep(POLL_SECONDS if self.path.startswith("/poll") else 0.5)
                body = f"news after {self.path}".encode()
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
            if self.path.startswith("/feed"):
                page = POLL_PAGE.replace("USE_FETCH", "true" if "fetch" in self.path else "false").encode()
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)
                return
            if self.path == "/stream":
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(b"data: hello\n\n")
                self.wfile.flush()
                time.sleep(60)  # held open, as a live feed is
                return
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(PAGE)))
            self.end_headers()
            self.wfile.write(PAGE)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_an_open_event_stream_read_by_fetch_is_not_waited_for(browser, site) -> None:
    seen = browser.goto(f"{site}/")
    assert "still pending" not in seen, seen
    assert "Still loading" not in seen
    assert "connected" in seen or "connected" in browser.observe()


@pytest.mark.parametrize("by", ["xhr", "fetch"])
def test_a_long_poll_is_not_waited_for_and_is_told_once(make_service, site, by) -> None:
    # A settle limit well past the time a long poll is recognised in, so that waiting it out shows.
    browser = make_service(timeouts=Timeouts(navigation=scaled(10), settle=scaled(10), action=5.0, wait=5.0))
    seen = browser.goto(f"{site}/feed-{by}")
    assert "Still loading" not in seen and "still pending" not in seen, seen
    assert f"Not waited for: GET {site}/poll, which the page holds open" in seen
    clicked = browser.click(browser.find("button", "Load"))
    assert "news after /slow" in clicked  # a request that takes a moment is waited for
    assert "Still loading" not in clicked and "Not waited for" not in clicked, clicked
