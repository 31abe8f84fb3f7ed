"""MCP both ways: `hybrid mcp serve` offers the agent, operations and workflows to MCP clients
(hybrid.mcp.server), and MCP servers added as sites become `mcp.<server>.<tool>(...)` in the kernel
(hybrid.mcp.capability)."""
