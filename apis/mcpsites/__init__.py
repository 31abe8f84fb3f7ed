"""MCP servers as sites: registered like OpenAPI sites, connected from the host, documented and searched
like operations.

    registry = McpRegistry(data_dir)
    registry.add(McpServer("notes", command=["python", "notes_server.py"]))
    with registry.connect("notes") as notes:       # the SDK's client session, on a host thread
        notes.call("add_note", {"title": "hello"})
"""

from apis.mcpsites.connection import McpConnection, McpServerError, McpTool, McpToolError
from apis.mcpsites.docs import render_mcp_section, search_tools, tool_help, tool_line
from apis.mcpsites.registry import McpRegistry, McpServer, parse_reference_pairs

__all__ = [
    "McpConnection",
    "McpRegistry",
    "McpServer",
    "McpServerError",
    "McpTool",
    "McpToolError",
    "parse_reference_pairs",
    "render_mcp_section",
    "search_tools",
    "tool_help",
    "tool_line",
]
