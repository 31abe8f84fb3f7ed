"""`mcp.<server>.<tool>(...)` in the kernel: bridge operations that call MCP servers' tools on the host.

The client sessions stay on the host; the kernel only holds stubs. Each tool is a write unless its server
annotates it read-only, so the run's policy decides on it like on any API call, and the bridge records it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

from apis.mcpsites import McpConnection, McpTool, render_mcp_section, search_tools, tool_help, tool_line
from apis.records import code_name
from sandbox import HostFunction, Namespace
from sandbox.names import MCP

CAPABILITY = MCP
SEARCH_RESULTS = 8
SECTION_TOKENS = 1500
JSON_TYPES = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "array": "list",
    "object": "dict",
}


def mcp_capability(connections: Iterable[McpConnection]) -> Namespace:
    """`mcp.<server>.<tool>(...)` for every tool of every connected server, plus
    `mcp.<server>.search(query)`."""
    members: dict[str, Any] = {}
    for connection in connections:
        domain = urlsplit(connection.server.url).hostname if connection.server.url else None
        operations: dict[str, Any] = {
            tool.python_name: HostFunction(
                _tool_caller(connection, tool),
                writes=tool.writes,
                domain=domain,
                doc=tool_help(code_name(connection.name), tool),
            )
            for tool in connection.tools
        }
        operations.setdefault("search", HostFunction(_search_for(connection), writes=False))
        members[code_name(connection.name)] = Namespace(
            operations, doc=f"Tools of the MCP server {connection.name}."
        )
    return Namespace(members, doc="MCP servers' tools: mcp.<server>.<tool>(argument=value, ...).")


def prompt_sections(connections: Iterable[McpConnection], task: str) -> list[dict[str, str]]:
    """One prompt section per server: its tools in tiers, the most relevant to `task` first when many."""
    return [
        {
            "name": connection.name,
            "section": render_mcp_section(code_name(connection.name), connection.tools, task, SECTION_TOKENS),
        }
        for connection in connections
    ]


def _tool_caller(connection: McpConnection, tool: McpTool) -> Callable[..., Any]:
    """A function with the tool's arguments as its signature (so the kernel checks calls before sending
    them) that sends only the arguments given."""
    signature = inspect.Signature(
        [
            inspect.Parameter(
                name,
                inspect.Parameter.POSITIONAL_OR_KEYWORD,
                default=inspect.Parameter.empty if name in tool.required else None,
                annotation=_annotation(tool.properties[name]),
            )
            for name in [*tool.required, *tool.optional]
            if name.isidentifier()
        ]
    )

    def call(*args: Any, **kwargs: Any) -> Any:
        return connection.call(tool.name, dict(signature.bind(*args, **kwargs).arguments))

    call.__signature__ = signature  # type: ignore[attr-defined]
    call.__name__ = tool.python_name
    return call


def _annotation(schema: Any) -> Any:
    kind = schema.get("type") if isinstance(schema, dict) else None
    return JSON_TYPES.get(kind, inspect.Parameter.empty) if isinstance(kind, str) else inspect.Parameter.empty


def _search_for(connection: McpConnection) -> Callable[..., list[str]]:
    def search(query: str, k: int = SEARCH_RESULTS) -> list[str]:
        """The tools most relevant to `query`, one line each: name(arguments) - summary [writes|read-only]."""
        return [tool_line(tool) for tool in search_tools(connection.tools, query, k)]

    return search
