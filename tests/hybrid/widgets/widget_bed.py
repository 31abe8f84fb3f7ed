"""The widget test bed's server: serves the built pages of tests/fixtures/widgets/dist and keeps what they
send (form submissions, reports of committed state, uploaded files), so tests judge by what the server got."""

from __future__ import annotations

import json
import mimetypes
import threading
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

DIST = Path(__file__).parents[2] / "fixtures" / "widgets" / "dist"
REQUEST_SECONDS = 10  # a connection that sends nothing for this long is dropped, so shutdown never hangs
MAX_BODY = 5 * 1024 * 1024
SAVED_PAGE = b"<!doctype html><title>Saved</title><h1>Saved</h1><p>Your changes were saved.</p>"


@dataclass(frozen=True)
class Upload:
    page: str
    filename: str
    content: bytes


class WidgetBed:
    """A server on a free port of 127.0.0.1: GET serves dist/; POST /submit/<page> records the form
    (urlencoded, as lists of values per field) or JSON it gets; POST /upload/<page> records the multipart
    files."""

    def __init__(self, dist: Path = DIST) -> None:
        if not (dist / "select2.html").exists():
            raise FileNotFoundError(
                f"The widget bed's pages are not built in {dist}: run "
                "tests/fixtures/widgets/build.sh (needs npm) or restore dist/ from git."
            )
        self.submissions: list[tuple[str, dict[str, Any]]] = []
        self.uploads: list[Upload] = []
        self.spec = {
            "openapi": "3.0.3",
            "info": {"title": "Widget test bed", "version": "1"},
            "paths": {
                "/health": {
                    "get": {
                        "operationId": "health",
                        "summary": "Whether the test bed is up",
                        "responses": {"200": {"description": "Up"}},
                    }
                }
            },
        }
        bed = self

        class Handler(BaseHTTPRequestHandler):
            timeout = REQUEST_SECONDS

            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                if path == "/openapi.json":
                    return self._send(200, json.dumps(bed.spec).encode(), "application/json")
                if path == "/health":
                    return self._send(200, b'{"ok": true}', "application/json")
                file = (dist / path.lstrip("/")).resolve()
                if not file.is_file() or dist.resolve() not in file.parents:
                    return self._send(404, b"<title>Not found</title><p>No such page</p>", "text/html")
                kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
                self._send(
                    200, file.read_bytes(), kind + ("; charset=utf-8" if kind.startswith("text/") else "")
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY:
                    return self._send(413, b"too large", "text/plain")
                body = self.rfile.read(length)
                kind, page = self.headers.get("Content-Type", ""), urlsplit(self.path).path.rsplit("/", 1)[-1]
                if self.path.startswith("/upload/"):
                    bed.uploads.extend(Upload(page, name, content) for name, content in _files(kind, body))
                    return self._send(200, b'{"ok": true}', "application/json")
                if not self.path.startswith("/submit/"):
                    return self._send(404, b"no such endpoint", "text/plain")
                if kind.startswith("application/json"):
                    bed.submissions.append((page, json.loads(body or b"{}")))
                    return self._send(200, b'{"ok": true}', "application/json")
                bed.submissions.append((page, parse_qs(body.decode(), keep_blank_values=True)))
                self._send(200, SAVED_PAGE, "text/html; charset=utf-8")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="widget-bed", daemon=True)
        self._thread.start()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def url(self, page: str) -> str:
        return f"{self.base_url}/{page}.html"

    def last(self, page: str) -> dict[str, Any] | None:
        """The latest submission from `page`, or None."""
        return next((fields for sent_from, fields in reversed(self.submissions) if sent_from == page), None)

    def clear(self) -> None:
        self.submissions.clear()
        self.uploads.clear()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=REQUEST_SECONDS)


def _files(content_type: str, body: bytes) -> list[tuple[str, bytes]]:
    """The (filename, content) of each file in a multipart/form-data body."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return []
    return [
        (part.get_filename(), part.get_payload(decode=True))
        for part in message.iter_parts()
        if part.get_filename()
    ]
