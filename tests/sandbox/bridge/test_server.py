"""The bridge socket: only the session's kernel, holding the token, gets answers."""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Iterator

import pytest

from sandbox import HostFunction, Namespace
from sandbox.bridge import BridgeServer, Dispatcher
from sandbox.bridge.kernel_stub import recv_frame, send_frame


@pytest.fixture
def server() -> Iterator[BridgeServer]:
    dispatcher = Dispatcher()
    dispatcher.register("api", Namespace({"ping": HostFunction(lambda: "pong", writes=False)}))
    with BridgeServer(dispatcher) as server:
        yield server


def connect(server: BridgeServer, token: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(5)
    sock.connect(server.path)
    send_frame(sock, {"token": token})
    return sock


def test_socket_is_private_to_its_owner(server: BridgeServer) -> None:
    mode = os.stat(os.path.dirname(server.path)).st_mode
    # Nobody else may list the directory; a root host's kernels, each a user of its own, pass through it.
    assert stat.S_IMODE(mode) == (0o711 if os.geteuid() == 0 else 0o700)


def test_wrong_token_is_refused_and_disconnected(server: BridgeServer) -> None:
    with connect(server, "guess") as sock:
        assert recv_frame(sock) == {"ok": False}
        assert recv_frame(sock) is None


def test_right_token_gets_answers(server: BridgeServer) -> None:
    with connect(server, server.token) as sock:
        assert recv_frame(sock) == {"ok": True}
        send_frame(sock, {"op": "call", "capability": "api", "path": ["ping"], "args": [], "kwargs": {}})
        assert recv_frame(sock) == {"ok": True, "value": "pong"}


def test_malformed_requests_get_errors_and_the_connection_survives(server: BridgeServer) -> None:
    with connect(server, server.token) as sock:
        recv_frame(sock)
        for bad in ({"op": "call"}, {"op": "explode"}, ["not", "a", "dict"]):
            send_frame(sock, bad)
            reply = recv_frame(sock)
            assert reply["ok"] is False and reply["error"]["type"] == "ValueError"
        send_frame(sock, {"op": "call", "capability": "nope", "path": [], "args": [], "kwargs": {}})
        assert recv_frame(sock)["error"] == {
            "type": "LookupError",
            "message": "no capability 'nope' in this session; available: api",
            "denied": False,
        }


def test_close_removes_the_socket() -> None:
    server = BridgeServer(Dispatcher())
    server.close()
    assert not os.path.exists(server.path)
