"""MCP servers as sites: registered like OpenAPI sites, connected from the host, documented and searched
like operations.

    registry = McpRegistry(data_dir)
    registry.add(McpServer("notes", command=["python", "notes_server.py"]))
    with registry.connect("notes") as notes:       # the SDK's client session, on a host thread
        notes.call("add_note", {"title": "hello"})

Names are imported when first used: the registry alone does not import the MCP SDK.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sandbox.lazy import lazy_names

if TYPE_CHECKING:
    # `X as X`: names re-exported for type checkers (at run time `__getattr__` imports them).
    from apis.mcpsites.connection import (
        McpConnection as McpConnection,
        McpServerError as McpServerError,
        McpTool as McpTool,
        McpToolError as McpToolError,
    )
    from apis.mcpsites.docs import (
        render_mcp_section as render_mcp_section,
        search_tools as search_tools,
        tool_help as tool_help,
        tool_line as tool_line,
    )
    from apis.mcpsites.registry import (
        McpRegistry as McpRegistry,
        McpServer as McpServer,
        parse_reference_pairs as parse_reference_pairs,
    )

_HOMES = {
    "apis.mcpsites.connection": ("McpConnection", "McpServerError", "McpTool", "McpToolError"),
    "apis.mcpsites.docs": ("render_mcp_section", "search_tools", "tool_help", "tool_line"),
    "apis.mcpsites.registry": ("McpRegistry", "McpServer", "parse_reference_pairs"),
}
__all__, __getattr__ = lazy_names(__name__, _HOMES)
