"""Shared fixtures: the real specs in tests/fixtures/specs/ and a live local echo server."""

from __future__ import annotations

import hashlib
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

SPECS_DIR = Path(__file__).resolve().parents[1] / "fixtures" / "specs"


class EchoServer:
    """Answers any request with a description of it, except for a few paths with fixed behaviour.

    /status/{code}   -> that status with a JSON error body (`?big=1` makes the body long)
    /flaky/{key}     -> 503 for the first two calls per key, then 200
    /oauth/token     -> an OAuth2 token endpoint (client credentials and refresh token grants)
    /text, /bytes, /empty -> text/plain, application/octet-stream, 204
    /html?title=T&status=N -> an HTML page titled T with that status (a login page, a proxy's error page)
    /redirect?to=URL -> 307 to URL, with this request's query (but `to`) carried over, as servers do
    /documents/{name} -> the text registered in `documents` (to serve specs by URL), with an ETag
                        (a matching If-None-Match gets 304)
    anything else    -> 200 JSON: method, path, query, headers, cookies, body or form
    """

    def __init__(self) -> None:
        self.documents: dict[str, str] = {}
        self.calls: Counter[str] = Counter()
        self.not_modified = 0
        self.requests: list[dict[str, Any]] = []
        self.app = Starlette(
            routes=[
                Route(
                    "/{path:path}",
                    self._handle,
                    methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"],
                )
            ]
        )
        self.url = ""

    async def _handle(self, request: Request) -> Response:
        path = request.url.path
        self.calls[path] += 1
        if path.startswith("/documents/"):
            text = self.documents[path.removeprefix("/documents/")]
            etag = '"' + hashlib.sha256(text.encode()).hexdigest()[:16] + '"'
            if request.headers.get("if-none-match") == etag:
                self.not_modified += 1
                return Response(status_code=304, headers={"ETag": etag})
            return PlainTextResponse(text, headers={"ETag": etag})
        if path == "/oauth/token":
            form = await request.form()
            if form.get("grant_type") == "refresh_token":
                token = f"from-{form.get('refresh_token')}-{self.calls[path]}"
            else:
                token = f"cc-{self.calls[path]}"
            # ?expires_in=1 hands out tokens that are stale at once (clients refresh a minute early).
            return JSONResponse(
                {
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": int(request.query_params.get("expires_in", 3600)),
                }
            )
        if path.startswith("/status/"):
            code = int(path.rsplit("/", 1)[1])
            detail = "x" * 10_000 if request.query_params.get("big") else f"status {code} as asked"
            return JSONResponse({"message": detail}, status_code=code)
        if path.startswith("/flaky/") and self.calls[path] <= 2:
            return JSONResponse({"message": "try again"}, status_code=503, headers={"Retry-After": "0"})
        if path == "/html":
            title = request.query_params.get("title", "Sign in")
            page = (
                f"<!DOCTYPE html><html><head><title>{title}</title></head>"
                f"<body>{'<p>x</p>' * 500}</body></html>"
            )
            return HTMLResponse(page, status_code=int(request.query_params.get("status", 200)))
        if path == "/redirect":
            carried = [(k, v) for k, v in request.query_params.multi_items() if k != "to"]
            target = httpx.URL(request.query_params["to"]).copy_merge_params(carried)
            return Response(status_code=307, headers={"Location": str(target)})
        if path == "/text":
            return PlainTextResponse("plain words")
        if path == "/bytes":
            return Response(b"\x00\x01binary", media_type="application/octet-stream")
        if path == "/empty":
            return Response(status_code=204)
        echo: dict[str, Any] = {
            "method": request.method,
            "path": path,
            "raw_path": request.scope["raw_path"].decode(),
            "query": list(request.query_params.multi_items()),
            "headers": dict(request.headers),
            "cookies": dict(request.cookies),
            "content_type": request.headers.get("content-type", ""),
        }
        if echo["content_type"].startswith(("multipart/form-data", "application/x-www-form-urlencoded")):
            form = await request.form()
            echo["form"] = {
                key: (
                    {"filename": value.filename, "content": (await value.read()).decode()}
                    if hasattr(value, "filename")
                    else value
                )
                for key, value in form.multi_items()
            }
            await form.close()
        else:
            echo["body"] = (await request.body()).decode("latin-1")
        self.requests.append(echo)
        return JSONResponse(echo)


def _serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    host, port = sock.getsockname()
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the local test server did not start within 10 s")
        time.sleep(0.01)
    return server, thread, f"http://{host}:{port}"


@contextmanager
def _echo() -> Iterator[EchoServer]:
    echo = EchoServer()
    server, thread, echo.url = _serve(echo.app)
    try:
        yield echo
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def echo_server() -> Iterator[EchoServer]:
    with _echo() as echo:
        yield echo


@pytest.fixture(scope="session")
def other_origin() -> Iterator[EchoServer]:
    """A second echo server: another origin (another port) than `echo_server`, for redirects off a site."""
    with _echo() as echo:
        yield echo


@pytest.fixture
def write_spec(tmp_path: Path):
    """Writes a spec dict to a JSON file and returns its path."""

    def write(document: dict[str, Any], name: str = "spec.json") -> Path:
        path = tmp_path / name
        path.write_text(json.dumps(document))
        return path

    return write


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One spec cache for the session, so each shared spec is processed once."""
    return tmp_path_factory.mktemp("spec-cache")


@pytest.fixture
def closed_url() -> str:
    """A local URL where nothing listens (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="session")
def specs_dir() -> Path:
    return SPECS_DIR
