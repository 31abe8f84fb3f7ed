"""An MCP server's tools in the same three tiers as API operations, and the same search.

Tier 1, `tool_line`: `add_note(title, body=?) - Add a note. [writes]`; tier 2, `tool_help`: every
argument with its schema; `render_mcp_section` fits a server's tools into a prompt's token budget, the ones
most relevant to the task first. Search ranks tools with the operations' BM25 index (apis.search).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from apis.docs import SUMMARY_CHARS, call_shape, schema_text
from apis.mcpsites.connection import McpTool
from apis.model import Operation, Parameter, Spec
from apis.search import search
from sandbox.text import CHARS_PER_TOKEN, clip, estimate_tokens


def tool_line(tool: McpTool) -> str:
    line = call_shape(tool.python_name, tool.required, tool.optional)
    summary = _first_sentence(tool.description)
    if summary:
        line += f" - {summary}"
    return line + _effect(tool, " [writes]", " [read-only]")


def _effect(tool: McpTool, writes: str, reads: str) -> str:
    """How the tool is treated, and the server's read-only hint where the two differ."""
    if not tool.writes:
        return reads
    return writes[:-1] + "; the server hints read-only]" if tool.hinted_read_only else writes


def tool_help(server: str, tool: McpTool) -> str:
    """Tier 2: the call, whether it writes, the description and each argument's schema."""
    signature = ", ".join([*tool.required, *(f"{name}=None" for name in tool.optional)])
    lines = [
        f"mcp.{server}.{tool.python_name}({signature})",
        f"MCP tool {tool.name!r} of the server {server}" + _effect(tool, "  (changes data)", "  (read-only)"),
    ]
    if tool.description:
        lines += ["", tool.description]
    if tool.properties:
        lines += ["", "Arguments:"]
    for name, schema in tool.properties.items():
        flags = "required" if name in tool.required else "optional"
        text = f"  {name}: {schema_text({}, schema, depth=2)}, {flags}"
        if isinstance(schema, dict) and schema.get("description"):
            text += f" - {' '.join(str(schema['description']).split())}"
        lines.append(text)
    lines += ["", "Errors: raises McpToolError with the server's message when the tool fails."]
    return "\n".join(lines)


def search_tools(tools: Sequence[McpTool], query: str, k: int = 10) -> list[McpTool]:
    """The `k` tools that best match `query`, best first, ranked like API operations."""
    ranked = search(_as_spec(tools), query, k)
    by_name = {tool.python_name: tool for tool in tools}
    return [by_name[operation.name] for operation in ranked]


def render_mcp_section(server: str, tools: Sequence[McpTool], task: str, token_budget: int = 1500) -> str:
    """The server's part of a prompt: every tool when they fit, else the most relevant to `task`."""
    header = (
        f"mcp.{server}: MCP server ({len(tools)} tools). Call mcp.{server}.<tool>(argument=value, ...); "
        f"arguments marked =? are optional; help(mcp.{server}.<tool>) shows every argument; tools marked "
        "[writes] change data."
    )
    everything = "\n".join([header, *map(tool_line, tools)])
    if estimate_tokens(everything) <= token_budget:
        return everything
    budget = token_budget * CHARS_PER_TOKEN - len(header) - 120
    chosen: list[str] = []
    for tool in search_tools(tools, task, k=len(tools)):
        line = tool_line(tool)
        if len(line) + 1 > budget:
            break
        chosen.append(line)
        budget -= len(line) + 1
    footer = (
        f"{len(chosen)} of {len(tools)} tools shown, most relevant to the task first; "
        f"mcp.{server}.search('words') lists others."
    )
    return "\n".join([header, "Tools for this task:", *chosen, footer])


def _as_spec(tools: Iterable[McpTool]) -> Spec:
    """The tools as a spec of operations, only for ranking them with the operations' search index."""
    operations = [
        Operation(
            name=tool.python_name,
            method="POST" if tool.writes else "GET",
            path="",
            operation_id=tool.name,
            summary=_first_sentence(tool.description),
            description=tool.description,
            tags=[],
            group="tools",
            parameters=[
                Parameter(
                    name=name, location="query", argument=name, required=name in tool.required, schema={}
                )
                for name in tool.properties
            ],
            body=None,
            responses={},
            security=None,
            servers=[],
        )
        for tool in tools
    ]
    return Spec(
        source="mcp",
        content_hash="",
        title="MCP tools",
        api_version="",
        openapi_version="",
        converted_from=None,
        servers=[],
        operations=operations,
        warnings=[],
        load_document=dict,
    )


def _first_sentence(text: str) -> str:
    return clip(" ".join(text.split()).split(". ")[0], SUMMARY_CHARS)
