"""A live client session with one MCP server, held on the host and usable from synchronous code.

The SDK's client is asynchronous; the bridge calls operations from its own threads. So each connection
runs the SDK's `Client` in an event loop on a thread of its own, and calls reach it with
`run_coroutine_threadsafe`. The session (and the server process, for stdio) lives until `close()`.
"""

from __future__ import annotations

import asyncio
import json
import keyword
import re
import sys
import threading
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TextIO

from sandbox.errors import HybridError

if TYPE_CHECKING:
    from mcp import Client

    from apis.mcpsites.registry import McpServer

_NOT_IDENTIFIER = re.compile(r"\W")
LOG_LINES_SHOWN = 5


class McpServerError(HybridError):
    """The MCP server cannot be started, reached or listed; the message says why."""


class McpToolError(HybridError):
    """An MCP tool answered with an error; the message is the server's."""


@dataclass(frozen=True)
class McpTool:
    """One tool of a server: its name on the server and in Python, what it takes, and whether it writes
    (every tool does unless the user marked it read: see `McpServer.effects`). `hinted_read_only`: the
    server's own annotation says it only reads, a hint shown to the user and the model, never relied on (a
    server may say so of a tool that deletes)."""

    name: str
    python_name: str
    description: str
    input_schema: dict[str, Any]
    writes: bool
    hinted_read_only: bool = False

    @property
    def properties(self) -> dict[str, Any]:
        return dict(self.input_schema.get("properties") or {})

    @property
    def required(self) -> list[str]:
        return [name for name in self.input_schema.get("required") or [] if name in self.properties]

    @property
    def optional(self) -> list[str]:
        return [name for name in self.properties if name not in self.required]


def python_name(tool_name: str) -> str:
    """A tool's name as a Python attribute: `create-note` -> `create_note`, `2fa` -> `tool_2fa`."""
    name = _NOT_IDENTIFIER.sub("_", tool_name).strip("_") or "tool"
    return f"tool_{name}" if name[0].isdigit() or keyword.iskeyword(name) else name


class McpConnection:
    """`open()` starts (or reaches) the server and lists its tools; `call(tool, arguments)` calls one.

    A started server's stderr goes to `log_path` (appended), or to the host's stderr without one."""

    def __init__(
        self,
        server: McpServer,
        *,
        env: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        timeout: float = 60.0,
        log_path: Path | None = None,
    ) -> None:
        self.server = server
        self.log_path = log_path
        self.env = env or {}
        self.headers = headers or {}
        self.timeout = timeout
        self.tools: list[McpTool] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        self._ready = threading.Event()
        self._closing: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"mcp-{server.name}", daemon=True)

    @property
    def name(self) -> str:
        return self.server.name

    @property
    def secrets(self) -> list[str]:
        """The values the host gave the server (environment, headers), to redact from everything shown."""
        return [*self.env.values(), *self.headers.values()]

    def tool(self, name: str) -> McpTool:
        """The tool called `name` (on the server or in Python); KeyError listing the tools otherwise."""
        for tool in self.tools:
            if name in (tool.name, tool.python_name):
                return tool
        raise KeyError(
            f"the MCP server {self.name} has no tool {name!r}; its tools: "
            f"{', '.join(t.python_name for t in self.tools) or 'none'}"
        )

    def open(self) -> Self:
        self._thread.start()
        if not self._ready.wait(self.timeout):
            self.close()
            raise McpServerError(
                f"the MCP server {self.name} ({self.server.where}) did not answer within {self.timeout:g} s"
            )
        if self._failure is not None:
            self._thread.join(self.timeout)
            raise McpServerError(
                f"the MCP server {self.name} ({self.server.where}) cannot be used: "
                f"{_describe(self._failure)}{self._log_tail()}"
            ) from self._failure
        return self

    def call(self, tool_name: str, arguments: dict[str, Any]) -> Any:
        """The tool's result: its structured content when it gives one, else its text (parsed when it is
        JSON); McpToolError when the tool reports an error."""
        from mcp.types import TextContent

        if self._client is None or self._loop is None:
            raise McpServerError(f"the connection to the MCP server {self.name} is closed")
        tool = self.tool(tool_name)
        future = asyncio.run_coroutine_threadsafe(self._client.call_tool(tool.name, arguments), self._loop)
        try:
            result = future.result(self.timeout)
        except TimeoutError:
            future.cancel()
            raise McpServerError(
                f"the MCP server {self.name} did not answer {tool.name} within {self.timeout:g} s"
            ) from None
        except Exception as exc:
            raise McpServerError(
                f"the MCP server {self.name} could not answer {tool.name}: {_describe(exc)}. "
                f"If it stopped, the next run starts it again."
            ) from exc
        text = "\n".join(block.text for block in result.content if isinstance(block, TextContent))
        if result.is_error:
            raise McpToolError(text or f"{tool.name} failed without saying why")
        if result.structured_content is not None:
            content = result.structured_content
            # The SDK wraps a tool's non-object return value as {"result": value}.
            return content["result"] if set(content) == {"result"} else content
        try:
            return json.loads(text)
        except ValueError:
            return text

    def close(self) -> None:
        loop, closing = self._loop, self._closing
        if loop is not None and closing is not None and not loop.is_closed():
            loop.call_soon_threadsafe(closing.set)
        if self._thread.is_alive():
            self._thread.join(self.timeout)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _run(self) -> None:
        try:
            asyncio.run(self._session())
        except BaseException as exc:  # noqa: BLE001 - reported by open(), which the caller waits on
            self._failure = self._failure or exc
        finally:
            self._ready.set()

    def _log_tail(self) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-LOG_LINES_SHOWN:]
        return f"; the end of its log ({self.log_path}):\n" + "\n".join(lines) if lines else ""

    async def _session(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._closing = closing = asyncio.Event()
        try:
            with ExitStack() as stack:
                errlog = sys.stderr
                if self.log_path is not None:
                    self.log_path.parent.mkdir(parents=True, exist_ok=True)
                    errlog = stack.enter_context(self.log_path.open("a", encoding="utf-8"))
                await self._serve(errlog, closing)
        finally:
            self._client = None

    async def _serve(self, errlog: TextIO, closing: asyncio.Event) -> None:
        # The SDK is imported by the connection that needs it: it costs a quarter of a run's start.
        from mcp import Client

        async with Client(self._target(errlog)) as client:
            self.tools = await _list_tools(client, self.server.effects)
            self._client = client
            self._ready.set()
            await closing.wait()

    def _target(self, errlog: TextIO) -> Any:
        from mcp import StdioServerParameters
        from mcp.client.stdio import get_default_environment, stdio_client
        from mcp.client.streamable_http import streamable_http_client
        from mcp.shared._httpx_utils import create_mcp_http_client

        if self.server.command:
            command, *args = self.server.command
            # The server gets the host's default safe environment (PATH, HOME, ...) plus its own variables.
            parameters = StdioServerParameters(
                command=command, args=args, env={**get_default_environment(), **self.env}
            )
            return stdio_client(parameters, errlog=errlog)
        assert self.server.url is not None, "a server has a command or a URL (McpServer checks)"
        return streamable_http_client(
            self.server.url, http_client=create_mcp_http_client(headers=self.headers)
        )


async def _list_tools(client: Client, effects: dict[str, str]) -> list[McpTool]:
    tools: list[McpTool] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor)
        for tool in page.tools:
            annotations = tool.annotations
            in_python = python_name(tool.name)
            marked = effects.get(tool.name, effects.get(in_python))
            tools.append(
                McpTool(
                    name=tool.name,
                    python_name=in_python,
                    description=(tool.description or "").strip(),
                    input_schema=dict(tool.input_schema or {}),
                    writes=marked != "read",
                    hinted_read_only=bool(annotations and annotations.read_only_hint),
                )
            )
        cursor = page.next_cursor
        if not cursor:
            return tools


def _describe(exc: BaseException) -> str:
    """The first real cause inside the SDK's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return f"{type(exc).__name__}: {exc}"
