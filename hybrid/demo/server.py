"""Serving the demo site on 127.0.0.1: in a background thread for tests, in the foreground for the CLI."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn

from hybrid.demo.app import OPENAPI_PATH, create_app
from hybrid.demo.data import DEMO_PASSWORD, TrackerStore, api_token_for
from sandbox.errors import HybridError

HOST = "127.0.0.1"
START_TIMEOUT_SECONDS = 10.0


class DemoSiteError(HybridError, RuntimeError):
    """The demo site could not start or stop."""


@dataclass
class DemoSite:
    """A running demo site: where it is, how to sign in, and how to reset it."""

    base_url: str
    store: TrackerStore

    @property
    def api_url(self) -> str:
        return f"{self.base_url}/api/v1"

    @property
    def openapi_url(self) -> str:
        return f"{self.base_url}{OPENAPI_PATH}"

    @property
    def password(self) -> str:
        return DEMO_PASSWORD

    def token_for(self, username: str) -> str:
        if username not in self.store.state.users:
            raise KeyError(f"No demo user named {username!r}; users: {', '.join(self.store.state.users)}.")
        return api_token_for(username)

    def reset(self) -> None:
        """Bring every record back to the seed state (sessions stay signed in)."""
        self.store.reset()


def bind_socket(port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this. Without it, uvicorn's separate writes of headers and body
    # meet Nagle's algorithm and the client's delayed ACK: every keep-alive request took ~40 ms.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((HOST, port))
    except OSError as exc:
        sock.close()
        raise DemoSiteError(
            f"Cannot listen on {HOST}:{port} ({exc.strerror}); choose another --port."
        ) from exc
    return sock


def _server(store: TrackerStore, log_level: str) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(store), log_level=log_level, access_log=log_level == "info", lifespan="off"
    )
    return uvicorn.Server(config)


@contextmanager
def demo_site(port: int = 0) -> Iterator[DemoSite]:
    """Run the demo site in a background thread on a free 127.0.0.1 port (or `port`)."""
    sock = bind_socket(port)
    store = TrackerStore()
    server = _server(store, log_level="warning")
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="demo-site", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise DemoSiteError("The demo site did not start within 10 s.")
        time.sleep(0.005)
    try:
        yield DemoSite(base_url=f"http://{HOST}:{sock.getsockname()[1]}", store=store)
    finally:
        server.should_exit = True
        thread.join(timeout=START_TIMEOUT_SECONDS)
        sock.close()


def serve_forever(port: int, on_ready) -> None:
    """Serve in the foreground until interrupted; `on_ready(site)` runs once it is listening."""
    sock = bind_socket(port)
    store = TrackerStore()
    server = _server(store, log_level="warning")
    site = DemoSite(base_url=f"http://{HOST}:{sock.getsockname()[1]}", store=store)

    original_startup = server.startup

    async def startup(sockets=None) -> None:
        await original_startup(sockets=sockets)
        on_ready(site)

    server.startup = startup  # type: ignore[method-assign]
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
