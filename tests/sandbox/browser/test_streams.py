"""A page that keeps an event stream open with fetch() is ready once the page is: the stream is not waited
for (EventSource streams never were)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

pytestmark = pytest.mark.browser

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
