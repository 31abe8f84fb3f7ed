"""The host end of the bridge: a Unix socket, private to one session, guarded by a random token."""

from __future__ import annotations

import hmac
import os
import secrets
import socketserver
import threading
from pathlib import Path
from types import TracebackType
from typing import Self

from sandbox import scratch
from sandbox.bridge.dispatch import Dispatcher
from sandbox.bridge.kernel_stub import MAX_REQUEST_BYTES, FrameTooLarge, recv_frame, send_frame

HELLO_BYTES = 4096


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    block_on_close = False  # connection threads end when their kernel closes its socket


class BridgeServer:
    """Serves a `Dispatcher` to kernels that present the token. One server per session.

    The socket lives in a fresh directory readable by its owner only; the token guards against
    any other process of the same user. Each connection gets its own thread, so a slow call (or a
    user prompt) from one kernel thread does not block another.
    """

    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.token = secrets.token_urlsafe(32)
        self.path = str(scratch.new_path("bridge-", ".sock"))
        self._server = _UnixServer(self.path, self._handler_class())
        # Writable by all, so a kernel running as another user can connect: its directory keeps others
        # away, and the token is what admits a kernel.
        os.chmod(self.path, 0o666)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="bridge-server",
            daemon=True,
        )
        self._thread.start()

    def _handler_class(self) -> type[socketserver.BaseRequestHandler]:
        dispatcher, token = self.dispatcher, self.token

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                try:
                    hello = recv_frame(self.request, limit=HELLO_BYTES)
                    if not isinstance(hello, dict) or not hmac.compare_digest(
                        str(hello.get("token")).encode(), token.encode()
                    ):
                        send_frame(self.request, {"ok": False})
                        return
                    send_frame(self.request, {"ok": True})
                    while (request := recv_frame(self.request, limit=MAX_REQUEST_BYTES)) is not None:
                        send_frame(self.request, dispatcher.handle(request))
                except FrameTooLarge as exc:
                    # The rest of the frame is never read, so the stream is out of step: say why, then close.
                    send_frame(
                        self.request, {"ok": False, "error": {"type": "ValueError", "message": str(exc)}}
                    )
                except (OSError, ValueError):
                    return  # the kernel died, was interrupted mid-request, or sent garbage: drop it

        return Handler

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
        Path(self.path).unlink(missing_ok=True)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
