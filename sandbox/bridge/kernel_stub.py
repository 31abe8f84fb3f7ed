"""The kernel side of the capability bridge: stubs that look like ordinary Python objects.

The host injects this file's source into each kernel (see `sandbox.kernel`), so the kernel needs
nothing installed and imports nothing from the host. It therefore uses the standard library only.
The host imports the frame format (`send_frame`, `recv_frame`) from here too, so both ends share
one definition of the wire format.

Wire format: each frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON.
JSON rather than pickle because the host must never unpickle bytes written by model-generated code.
Frames from the kernel are capped (`MAX_REQUEST_BYTES`): the host reads no more than that of one.
"""

from __future__ import annotations

import builtins
import inspect
import json
import socket
import struct
import threading
import traceback
from collections.abc import Callable
from typing import Any

MODULE_NAME = "_hybrid_bridge"
SOURCE_NAME = "<hybrid bridge>"
_HEADER = struct.Struct("!I")
MAX_REQUEST_BYTES = 16 * 1024 * 1024


class FrameTooLarge(ValueError):
    """A bridge message is larger than the bridge carries."""


def send_frame(sock: socket.socket, message: Any, limit: int | None = None) -> None:
    """Send `message`; raises `FrameTooLarge` (sending nothing) if it encodes to more than `limit` bytes."""
    data = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode("utf-8", "surrogatepass")
    if limit is not None and len(data) > limit:
        raise FrameTooLarge(
            f"this call's arguments take {len(data) / 2**20:.1f} MiB, and the bridge to the host carries at "
            f"most {limit / 2**20:.0f} MiB per call: send the data in smaller parts"
        )
    sock.sendall(_HEADER.pack(len(data)) + data)


def recv_frame(sock: socket.socket, limit: int | None = None) -> Any:
    """The next frame's JSON value, or None when the other end closed the connection.

    A frame announced as longer than `limit` bytes raises `FrameTooLarge` before any of it is read."""
    header = _recv_exactly(sock, _HEADER.size)
    if header is None:
        return None
    (length,) = _HEADER.unpack(header)
    if limit is not None and length > limit:
        raise FrameTooLarge(f"a bridge message of {length} bytes is over the limit of {limit} bytes")
    body = _recv_exactly(sock, length)
    if body is None:
        raise ConnectionError("the bridge connection closed in the middle of a message")
    return json.loads(body.decode("utf-8", "surrogatepass"))


def _recv_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(size - len(chunks))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)


class CapabilityError(Exception):
    """A capability failed on the host. The type name and message are the host's."""


class PermissionDenied(PermissionError):
    """The host's policy refused this call; the message says why."""


class BridgeUnavailable(RuntimeError):
    """The kernel cannot reach the host's capability bridge."""


def _exception_from_host(error: dict[str, Any]) -> BaseException:
    name, message = error["type"], error["message"]
    if error.get("denied"):
        return PermissionDenied(message)
    builtin = getattr(builtins, name, None)
    if isinstance(builtin, type) and issubclass(builtin, Exception):
        try:
            return builtin(message)
        except TypeError:  # a builtin with a special constructor, e.g. UnicodeDecodeError
            pass
    named: type[CapabilityError] = type(name, (CapabilityError,), {"__module__": "host"})
    return named(message)


class _Connection:
    """One socket per kernel thread, so threads in user code can call capabilities concurrently."""

    def __init__(self, path: str, token: str) -> None:
        self.path = path
        self.token = token
        self._local = threading.local()

    def request(self, message: dict[str, Any]) -> Any:
        sock = self._socket()
        try:
            send_frame(sock, message, limit=MAX_REQUEST_BYTES)
            reply = recv_frame(sock)
        except BaseException:
            # An interrupt or error mid-request leaves the stream out of step: start afresh next time.
            self.drop()
            raise
        if reply is None:
            self.drop()
            raise BridgeUnavailable("the host closed the capability bridge; the session may be over")
        if not reply["ok"]:
            raise _exception_from_host(reply["error"])
        return reply.get("value")

    def _socket(self) -> socket.socket:
        kept: socket.socket | None = getattr(self._local, "sock", None)
        if kept is not None:
            return kept
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(self.path)
            send_frame(sock, {"token": self.token})
            reply = recv_frame(sock)
        except OSError as exc:
            sock.close()
            raise BridgeUnavailable(f"cannot reach the capability bridge: {exc}") from None
        if not reply or not reply.get("ok"):
            sock.close()
            raise BridgeUnavailable("the capability bridge refused this kernel's token")
        self._local.sock = sock
        return sock

    def drop(self) -> None:
        sock = getattr(self._local, "sock", None)
        self._local.sock = None
        if sock is not None:
            sock.close()


class _Text:
    """Shows host-side text (a default or annotation) verbatim in signatures."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _signature(params: list[dict[str, Any]] | None) -> inspect.Signature | None:
    if params is None:
        return None
    return inspect.Signature(
        [
            inspect.Parameter(
                p["name"],
                getattr(inspect.Parameter, p["kind"]),
                default=_Text(p["default"]) if "default" in p else inspect.Parameter.empty,
                annotation=_Text(p["annotation"]) if "annotation" in p else inspect.Parameter.empty,
            )
            for p in params
        ]
    )


def _json_ready(value: Any, where: str) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"{where} cannot be sent to the host: {exc}. Pass JSON values only "
            "(dict, list, str, int, float, bool, None)."
        ) from None
    return value


def _operation_stub(
    connection: _Connection, capability: str, path: list[str], spec: dict[str, Any]
) -> Callable[..., Any]:
    qualname = ".".join([capability, *path])
    signature = _signature(spec.get("params"))

    def call(*args: Any, **kwargs: Any) -> Any:
        if signature is not None:
            try:
                signature.bind(*args, **kwargs)  # cheaper than a round trip to learn the same
            except TypeError as exc:
                raise TypeError(f"{qualname}(): {exc}; its signature is {qualname}{signature}") from None
        return connection.request(
            {
                "op": "call",
                "capability": capability,
                "path": path,
                "args": _json_ready(list(args), f"An argument of {qualname}()"),
                "kwargs": _json_ready(kwargs, f"A keyword argument of {qualname}()"),
            }
        )

    call.__name__ = path[-1] if path else capability
    call.__qualname__ = qualname
    call.__module__ = "host"
    call.__doc__ = spec.get("doc") or None
    if signature is not None:
        call.__signature__ = signature  # type: ignore[attr-defined]
    return call


def _namespace_stub(
    connection: _Connection, capability: str, path: list[str], spec: dict[str, Any]
) -> object:
    qualname = ".".join([capability, *path])
    members = {
        name: _stub(connection, capability, [*path, name], child) for name, child in spec["members"].items()
    }
    attributes: dict[str, Any] = {
        name: staticmethod(member) if callable(member) else member for name, member in members.items()
    }
    summary = f"<{qualname}: {', '.join(sorted(members)) or 'empty'}>"
    attributes.update(
        __doc__=spec.get("doc") or f"{qualname}: host capability namespace.",
        __module__="host",
        __qualname__=qualname,
        __repr__=lambda self: summary,
        __slots__=(),
    )
    # A class per namespace, with members as class attributes, so help() lists them with their
    # docstrings and tab completion sees them without calling the host.
    return type(path[-1] if path else capability, (), attributes)()


def _stub(connection: _Connection, capability: str, path: list[str], spec: dict[str, Any]) -> Any:
    if spec["kind"] == "value":
        return spec["value"]
    if spec["kind"] == "namespace":
        return _namespace_stub(connection, capability, path, spec)
    return _operation_stub(connection, capability, path, spec)


_connection: _Connection | None = None


def connect(namespace: dict[str, Any], path: str, token: str) -> list[str]:
    """Reach the host's bridge at `path` and put a stub for each capability into `namespace`."""
    global _connection
    if _connection is not None:
        _connection.drop()
    _connection = _Connection(path, token)
    return refresh(namespace)


def refresh(namespace: dict[str, Any]) -> list[str]:
    """Rebuild the stubs from the host's current capabilities; returns their names."""
    if _connection is None:
        raise BridgeUnavailable("the kernel is not connected to a capability bridge")
    manifest = _connection.request({"op": "describe"})
    for name, spec in manifest.items():
        namespace[name] = _stub(_connection, name, [], spec)
    return sorted(manifest)


def _user_traceback(shell: Any, etype: type, value: BaseException, tb: Any) -> list[str]:
    """A traceback of the user's cells (plus the frame that raised), without kernel or bridge frames."""
    if isinstance(value, SyntaxError):
        cell = shell.compile.format_code_name(value.filename or "")
        if cell is not None:
            value.filename = " ".join(cell)
        return [line.rstrip("\n") for line in traceback.format_exception_only(etype, value)]
    frames = traceback.extract_tb(tb)
    kept: list[str] = []
    hidden = 0
    for index, frame in enumerate(frames):
        cell = shell.compile.format_code_name(frame.filename)
        if cell is not None:
            kept.append(f"  {cell[0]} {cell[1]}, line {frame.lineno}\n    {frame.line}")
        elif not kept or frame.filename == SOURCE_NAME:
            continue  # the kernel's frames before the user's code, and the bridge's own
        elif index == len(frames) - 1:
            kept.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}\n    {frame.line}')
        else:
            hidden += 1
    lines = ["Traceback (most recent call last):", *kept]
    if hidden:
        lines.insert(-1, f"  ({hidden} frame{'s' if hidden > 1 else ''} of library code hidden)")
    lines.extend(line.rstrip("\n") for line in traceback.format_exception_only(etype, value))
    return lines


def _show_user_traceback(
    shell: Any, etype: type, value: BaseException, tb: Any, tb_offset: Any = None
) -> list[str]:
    stb = _user_traceback(shell, etype, value, tb)
    # IPython ignores a custom handler's return value; `_showtraceback` is the hook ipykernel overrides
    # to send the error message (ename, evalue, traceback) to the client.
    shell._showtraceback(etype, value, stb)
    return stb


def setup(shell: Any) -> None:
    """Show every error raised by user code with a traceback trimmed to the user's cells."""
    shell.set_custom_exc((BaseException,), _show_user_traceback)
