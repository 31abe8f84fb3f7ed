"""The names kernel code reaches the host by: one per capability (`api.<site>.<operation>(...)`,
`browser.click(...)`, `mcp.<server>.<tool>(...)`, `wf.<workflow>(...)`) and `finish(answer)`.

Defined here once; the host registers capabilities under these names, and workflow programs are read
and checked by them.
"""

from __future__ import annotations

API = "api"
BROWSER = "browser"
MCP = "mcp"
WORKFLOWS = "wf"
FINISH = "finish"
CAPABILITIES = frozenset({API, BROWSER, MCP, WORKFLOWS})
# Capabilities that call a site's API (an MCP server's tools count as one): their writes are known per call.
SITE_CAPABILITIES = frozenset({API, MCP})
