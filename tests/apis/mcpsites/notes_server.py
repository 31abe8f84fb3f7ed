"""A small MCP server written with the SDK, for tests: notes kept in memory, two read-only tools and
two that write. `python notes_server.py` serves it over stdio, `--port N` over streamable HTTP on
127.0.0.1. `whoami` returns the NOTES_TOKEN the host gave it, so tests can see secrets redacted."""

from __future__ import annotations

import os
import sys

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

server = MCPServer("notes")
notes: dict[int, dict[str, str]] = {1: {"title": "groceries", "body": "milk, eggs"},
                                    2: {"title": "ideas", "body": "an MCP bridge"}}


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def list_notes(contains: str = "") -> list[dict[str, object]]:
    """List the notes, optionally only those whose title contains a word."""
    return [{"id": key, "title": note["title"]} for key, note in notes.items() if contains in note["title"]]


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def get_note(note_id: int) -> dict[str, str]:
    """Read one note by its id."""
    if note_id not in notes:
        raise ToolError(f"no note {note_id}")
    return notes[note_id]


@server.tool()
def add_note(title: str, body: str = "") -> int:
    """Add a note; returns its id."""
    key = max(notes, default=0) + 1
    notes[key] = {"title": title, "body": body}
    return key


@server.tool(name="delete-note", annotations=ToolAnnotations(destructive_hint=True))
def delete_note(note_id: int) -> str:
    """Delete a note for good."""
    notes.pop(note_id)
    return "deleted"


@server.tool(annotations=ToolAnnotations(read_only_hint=True))
def whoami() -> str:
    """The token this server was started with."""
    return os.environ.get("NOTES_TOKEN", "anonymous")


if __name__ == "__main__":
    if "--port" in sys.argv:
        server.run("streamable-http", host="127.0.0.1", port=int(sys.argv[sys.argv.index("--port") + 1]))
    else:
        server.run("stdio")
